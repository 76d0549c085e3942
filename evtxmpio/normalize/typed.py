"""The typed columns of a batch of records, each provider's extractor called once per distinct
input it reads.

A storm repeats one event: 200,000 disk 153 retries differ in their block address, which
:func:`evtxmpio.normalize.providers.disk_fields` does not read. Records are keyed by their kind,
provider and what their extractor reads (:data:`~evtxmpio.normalize.providers.EXTRACTOR_READS`,
else everything an extractor may read, :func:`~evtxmpio.normalize.providers.record_inputs`); one
key is extracted once, and a column is built from the distinct values of the batch, then
spread over its rows. Where an extractor says what it reads and the batch's inserts are in
pyarrow (:class:`~evtxmpio.normalize.texts.Inserts`), the rows are told apart by pyarrow, each
read value encoded once, not by a key per row. At most :data:`FIELD_MEMO` keys are remembered
(then forgotten all at once, which costs time, never a value).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import ModuleType

import numpy as np

from evtxmpio.model import RECORD_COLUMNS, RawRecord
from evtxmpio.normalize.columns import Same, column_part
from evtxmpio.normalize.providers import (
    EXTRACTOR_READS,
    Fields,
    Reads,
    extractor_of,
    records_inputs,
)
from evtxmpio.normalize.texts import Inserts

TYPED_COLUMNS = [name for name in RECORD_COLUMNS if name not in (
    "time", "host", "channel", "provider", "event_id", "level", "record_id", "kind",
    "source_file", "source_offset", "reader", "corrupted", "message", "data")]
"""The columns the extractors fill (missing where they say nothing)."""

FIELD_MEMO = 4096
"""Distinct extractor inputs remembered at a time."""

_NONE: Fields = {}
_Extractor = Callable[[RawRecord], Fields]
_Distinct = tuple[list[Fields], np.ndarray]  # the distinct fields, each row's among them


class TypedFields:
    """Typed fields of records, batch after batch, for one event frame (see the module
    docstring); ``limit``: the distinct inputs remembered at a time."""

    def __init__(self, limit: int = FIELD_MEMO) -> None:
        self.limit = limit
        self._extractors: dict[tuple[str, str], _Extractor | None] = {}
        self._memo: dict[tuple[str, str], dict[Hashable, Fields]] = {}
        self._remembered = 0

    def remembered(self) -> int:
        """How many distinct inputs are remembered now."""
        return self._remembered

    def columns(self, records: list[RawRecord], kinds: list[str], providers: list[str],
                inserts: Inserts | None = None) -> dict[str, object]:
        """The typed columns of ``records`` (:data:`TYPED_COLUMNS`), as parts of columns
        (:func:`~evtxmpio.normalize.columns.column_part`); ``kinds`` and ``providers``: the
        records' own; ``inserts``: theirs, when in pyarrow."""
        return spread(*self.distinct(records, kinds, providers, inserts))

    def distinct(self, records: list[RawRecord], kinds: list[str], providers: list[str],
                 inserts: Inserts | None = None) -> _Distinct:
        """The distinct fields of ``records`` and each one's among them."""
        if not records or (kinds.count(kinds[0]) == len(kinds) and
                           providers.count(providers[0]) == len(providers)):
            chosen = (kinds[0], providers[0]) if records else ("", "")  # one kind and provider
            return self._group(chosen, records, None, inserts)
        pairs = list(zip(kinds, providers, strict=True))
        codes = dict.fromkeys(pairs, 0)  # each kind and provider, in order, numbered
        codes.update(zip(codes, range(len(codes)), strict=True))
        groups = np.fromiter(map(codes.__getitem__, pairs), dtype=np.intp, count=len(pairs))
        found: list[Fields] = []
        rows = np.zeros(len(records), dtype=np.intp)
        for pair, code in codes.items():
            where = np.flatnonzero(groups == code)
            fields, among = self._group(
                pair, list(map(records.__getitem__, where.tolist())), where, inserts)
            rows[where] = among + len(found)
            found += fields
        return found, rows

    def _group(self, chosen: tuple[str, str], records: list[RawRecord],
               where: np.ndarray | None, inserts: Inserts | None) -> _Distinct:
        """The distinct fields of ``records``, all of one kind and provider (``chosen``; at
        rows ``where`` of the batch, ``None``: all)."""
        if chosen not in self._extractors:
            self._extractors[chosen] = extractor_of(*chosen)
        extractor = self._extractors[chosen]
        if extractor is None:
            return [_NONE], np.zeros(len(records), dtype=np.intp)
        reads = EXTRACTOR_READS.get(extractor)
        codes = None if reads is None or inserts is None else \
            read_codes(reads, records, inserts, where)
        if codes is None:
            keys = list((records_inputs if reads is None else reads.of_records)(records))
            return _by_object([self._fields(chosen, extractor, key, record)
                               for key, record in zip(keys, records, strict=True)])
        _, first, rows = np.unique(codes, return_index=True, return_inverse=True)
        return [self._fields(chosen, extractor, reads.of(records[index]), records[index])
                for index in first.tolist()], rows

    def _fields(self, chosen: tuple[str, str], extractor: _Extractor, key: Hashable,
                record: RawRecord) -> Fields:
        """The fields of ``record``, whose extractor reads ``key``: remembered, or extracted."""
        memo = self._memo.setdefault(chosen, {})
        try:
            fields = memo.get(key)
        except TypeError:  # a value that is no key (not hashable): extracted, not remembered
            return extractor(record)
        if fields is None:
            if self._remembered >= self.limit:  # forget all at once
                self._memo, self._remembered = {}, 0
            fields = self._memo.setdefault(chosen, {})[key] = extractor(record)
            self._remembered += 1
        return fields


def read_codes(reads: Reads, records: list[RawRecord], inserts: Inserts,
               where: np.ndarray | None) -> np.ndarray | None:
    """A number per record, equal for two records exactly when ``reads.of`` is (``where``:
    their rows in the batch of ``inserts``, ``None``: all); ``None`` when pyarrow cannot tell
    (an attribute of no one type, too many distinct values to number)."""
    arrow = inserts.arrow
    counts = np.asarray(inserts.counts, dtype=np.int64)
    starts = inserts.starts[:-1]
    if where is not None:
        counts, starts = counts[where], starts[where]
    columns = [counts]
    try:
        columns += [_attribute_codes(list(map(getter, records)), arrow)
                    for getter in reads.getters]
        columns += [_codes(inserts.values.take(  # type: ignore[attr-defined]
            arrow.array(starts + position, mask=counts <= position)))
            for position in reads.positions]
    except (OverflowError, TypeError, ValueError, arrow.ArrowException):
        return None
    number, size = np.zeros(len(records), dtype=np.int64), 1
    for column in columns:
        width = int(column.max(initial=0)) + 1
        size *= width
        if size >= 2**62:
            return None
        number = number * width + column
    return number


def _attribute_codes(values: list[object], arrow: ModuleType) -> np.ndarray:
    """:func:`_codes` of the values of a record attribute (one value in all: no pyarrow)."""
    if values and values.count(values[0]) == len(values) and \
            type(values[0]) in (int, bytes, str, type(None)):  # equal exactly when ==
        return np.zeros(len(values), dtype=np.int64)
    return _codes(arrow.array(values))


def _codes(array: object) -> np.ndarray:
    """A number per value of a pyarrow array, equal for equal values (missing: 0)."""
    encoded = array.dictionary_encode()  # type: ignore[attr-defined]
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64) + 1


def _by_object(found: list[Fields]) -> _Distinct:
    """``found`` (many rows sharing one dict) as its distinct dicts and each row's."""
    objects = np.fromiter(map(id, found), dtype=np.int64, count=len(found))
    _, first, rows = np.unique(objects, return_index=True, return_inverse=True)
    return [found[index] for index in first.tolist()], rows


def spread(distinct: list[Fields], rows: np.ndarray) -> dict[str, object]:
    """The typed columns of rows whose fields are ``distinct[rows]``: each column built from
    the distinct dicts' values, then taken row by row."""
    count = len(rows)
    named = set().union(*distinct)
    columns: dict[str, object] = {}
    for name in TYPED_COLUMNS:
        if name not in named:
            columns[name] = Same(None, count)
            continue
        part = column_part([fields.get(name) for fields in distinct], RECORD_COLUMNS[name])
        if isinstance(part, Same):  # one value in the batch
            columns[name] = Same(part.value, count)
        else:
            columns[name] = part.take(rows)  # type: ignore[attr-defined]
    return columns
