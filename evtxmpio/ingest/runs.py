"""Records a reader decided together, handed on whole or as counted runs of skipped records.

A chunk whose records follow each other (ids consecutive, times strictly increasing, kept
records included) needs no item per skipped record for the health ledger to come out as record
by record: its first and last record and the id span between say it all. Such a chunk is
handed on as its kept records and the runs between them as counts (:func:`runs_between`), or,
by a reader that decided the chunk from its binary values, as one :class:`RecordRun` that
ingest takes whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from evtxmpio.ingest.base import SkippedRecords, skipped_records
from evtxmpio.model import RawRecord


@dataclass(frozen=True, slots=True)
class RecordRun:
    """Records a reader decided together (one sound .evtx chunk) that follow each other: ids
    consecutive, times strictly increasing, kept records included.

    Attributes:
        records: the kept records, in file order.
        positions: each kept record's place in the run (rising).
        count: how many records the run holds; those not kept were skipped ``not-relevant``
            unbuilt.
        first: the run's first record as a skipped one gives it (id, time, offset).
        last: the run's last record so.
        chunk_offset: the file offset ``offsets`` count from.
        offsets: every record's offset from ``chunk_offset``.

    Taking it whole must give what taking its :meth:`items` one by one gives, the health ledger
    included (nothing inside the run is a gap or goes backwards, so the ledger sees its first
    and last record and the id span between); a taker that cannot (a limit falls inside the
    run) takes the items.
    """

    records: list[RawRecord]
    positions: list[int]
    count: int
    first: SkippedRecords
    last: SkippedRecords
    chunk_offset: int
    offsets: list[int]

    def items(self) -> Iterator[RawRecord | SkippedRecords]:
        """The run one item at a time: the kept records and, between them, the skipped ones
        as :func:`runs_between` counts them."""
        ends = self.first, self.last
        offsets, at = self.offsets, self.chunk_offset
        return runs_between(self.first.source_path, self.count,
                            dict(zip(self.positions, self.records, strict=True)),
                            lambda k: ends[k != 0], lambda k: at + offsets[k])


def flat_items(items: Iterable[object]) -> Iterator[object]:
    """``items`` with every :class:`RecordRun` given as its items (a reader's items one by one,
    as a consumer that does not take runs whole reads them)."""
    for item in items:
        if type(item) is RecordRun:
            yield from item.items()
        else:
            yield item


def runs_between(name: str, count: int, kept: dict[int, RawRecord],
                 observed: Callable[[int], SkippedRecords],
                 offset: Callable[[int], int | None]
                 ) -> Iterator[RawRecord | SkippedRecords]:
    """A chunk of ``count`` records whose ids are consecutive and whose times strictly
    increase, kept records included: the kept records, and between them each run of skipped
    records as a count that advances the expected id (``id_span``). The health ledger then
    comes out as record by record: the chunk's first and last record are handed on with their
    id and time (``observed(k)``; they meet the chunks around), and nothing inside the chunk is
    a gap or goes backwards. ``offset(k)``: record ``k``'s file offset."""
    last = count - 1
    for before, mark in pairwise([-1, *sorted(kept), last + 1]):
        start, stop = before + 1, mark  # the skipped records between two kept ones
        if start == 0 < stop:
            yield observed(0)
            start = 1
        ends = mark > last and start <= last
        stop -= ends
        if stop > start:
            yield skipped_records(name, stop - start, "not-relevant", offset(start),
                                  id_span=stop - start)
        if mark <= last:
            yield kept[mark]
        elif ends:
            yield observed(last)
