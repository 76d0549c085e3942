"""Chunks decided from their binary values, handed on without ``evtx``: their items.

:mod:`evtxmpio.ingest.evtx_binfacts` decides every record of a sound chunk from its binary
values. When every record is understood and some are kept, the kept ones are built from their
values (:mod:`evtxmpio.ingest.evtx_build`) and the chunk is handed on as
:func:`evtxmpio.ingest.evtx_rust._decode_relevant` hands on the same chunk rendered: on a
chunk whose records (kept ones included) all follow each other (ids consecutive, times strictly
increasing at the rendered microsecond, every record of the run shape), as one
:class:`~evtxmpio.ingest.runs.RecordRun` (taken whole; its items are the kept records and the
runs between them as counts, ``runs.runs_between``); on any other chunk the kept
records and each run of skipped records between them as ``evtx_runs.skipped_run`` gives it
(a clean run of three or more as its first record and the rest, else record by record).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from evtxmpio.catalog import FILETIME_UNIX_EPOCH
from evtxmpio.ingest.base import SkippedRecords, skipped_records
from evtxmpio.ingest.event_text import record_kind
from evtxmpio.ingest.evtx_walk import ReadItem
from evtxmpio.ingest.runs import RecordRun
from evtxmpio.model import raw_record

READER = "evtx-rs"
KIND = "system:evtx:event"


@dataclass(frozen=True, slots=True)
class SkippedChunk:
    """A chunk whose records (file order) none can matter: their ``EventRecordID``, time
    (:func:`refined_times`) and record header offset (of a clean run, its first and last
    record only), whether they are a clean run (three or more, ids consecutive, times
    strictly increasing at the rendered microsecond, every record of the run shape), and how
    many they are."""

    record_ids: list[int]
    times: list[int]
    offsets: list[int]
    clean: bool
    count: int


@dataclass(frozen=True, slots=True)
class BuiltChunk:
    """A sound chunk whose every record is understood, some kept: per record (file order)
    its ``EventRecordID``, time (:func:`refined_times`) and header offset; whether each
    follows the one before (id consecutive, time strictly later at the rendered microsecond,
    both of the run shape); the kept records by position, as (provider, event id, level,
    fields built), and whether the whole chunk is such a run."""

    record_ids: list[int]
    times: list[int]
    offsets: list[int]
    follows: list[bool]
    run_shape: list[bool]
    kept: dict[int, tuple]
    clean: bool


def refined_times(filetimes: np.ndarray, header_filetimes: np.ndarray) -> np.ndarray:
    """Each record's time (ns) as the reader gives it from the rendered text: ``SystemTime``
    (a FILETIME the analysis can hold) to the rendered microsecond, or the record header's
    FILETIME when it falls in the same microsecond (``evtx_walk.refined_time``). Compared as
    FILETIMEs (the epochs differ by a whole number of microseconds): a header's value, whatever
    it holds, cannot overflow."""
    filetimes = filetimes.astype(np.uint64)
    headers = np.asarray(header_filetimes, np.uint64)
    same = headers // np.uint64(10) == filetimes // np.uint64(10)
    micro = (filetimes.astype(np.int64) - FILETIME_UNIX_EPOCH) // 10
    header_ns = (np.where(same, headers, filetimes).astype(np.int64) - FILETIME_UNIX_EPOCH) * 100
    return np.where(same, header_ns, micro * 1000)


def chunk_follows(record_ids: np.ndarray, filetimes: np.ndarray) -> np.ndarray:
    """For each record after the first: it follows the one before in a clean run."""
    micro = (filetimes.astype(np.int64) - FILETIME_UNIX_EPOCH) // 10
    return ((record_ids[1:] - record_ids[:-1] == 1) & (record_ids[1:] > record_ids[:-1])
            & (micro[1:] > micro[:-1]))


def built_items(name: str, chunk_offset: int, chunk: BuiltChunk) -> Iterator[ReadItem]:
    """The items of ``chunk`` in file order, as the rendered chunk gives them."""
    count = len(chunk.record_ids)
    if chunk.clean:
        positions = sorted(chunk.kept)
        yield RecordRun([_record(name, chunk_offset, chunk, k) for k in positions], positions,
                        count, skipped_record(name, chunk_offset, chunk, 0, 1),
                        skipped_record(name, chunk_offset, chunk, count - 1, 1), chunk_offset,
                        chunk.offsets)
        return
    kept = {k: _record(name, chunk_offset, chunk, k) for k in chunk.kept}
    before = -1
    for mark in [*sorted(kept), count]:
        yield from _run(name, chunk_offset, chunk, before + 1, mark)
        if mark < count:
            yield kept[mark]
        before = mark


def _record(name: str, chunk_offset: int, chunk: BuiltChunk, k: int) -> ReadItem:
    provider, event_id, level, (guid, qualifiers, channel, computer, data, binary) = \
        chunk.kept[k]
    return raw_record(record_kind(provider, guid, KIND), chunk.times[k], provider, event_id, name,
                      READER, qualifiers, level if level >= 0 else None, chunk.record_ids[k],
                      channel, computer, data, binary, None, None,
                      chunk_offset + chunk.offsets[k], False)


def _run(name: str, chunk_offset: int, chunk: BuiltChunk, start: int, stop: int
         ) -> Iterator[SkippedRecords]:
    """``evtx_runs.skipped_run`` of the skipped records ``start:stop``."""
    count = stop - start
    clean = count > 2 and all(chunk.run_shape[start:stop]) \
        and all(chunk.follows[start:stop - 1])
    if clean:
        yield skipped_record(name, chunk_offset, chunk, start, 1)
        yield skipped_record(name, chunk_offset, chunk, stop - 1, count - 1)
        return
    for k in range(start, stop):
        yield skipped_record(name, chunk_offset, chunk, k, 1)


def skipped_record(name: str, chunk_offset: int, chunk: BuiltChunk | SkippedChunk, k: int,
                   count: int) -> SkippedRecords:
    """Record ``k`` of a chunk decided from its values (its id, its time as
    ``evtx_walk.refined_time`` reads the rendered microsecond), standing for ``count``
    skipped records that end with it."""
    return skipped_records(name, count, "not-relevant", chunk_offset + chunk.offsets[k],
                          chunk.record_ids[k], chunk.times[k])
