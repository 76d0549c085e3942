"""The typed columns of a batch of records, each provider's extractor called once per distinct
input it reads.

A storm repeats one event: 200,000 disk 153 retries differ in their block address, which
:func:`evtxmpio.normalize.providers.disk_fields` does not read. Records are keyed by their kind,
provider and what their extractor reads (:data:`~evtxmpio.normalize.providers.EXTRACTOR_INPUTS`,
else everything an extractor may read, :func:`~evtxmpio.normalize.providers.record_inputs`); one
key is extracted once, and a column is built from the distinct values of the batch, then
spread over its rows. At most :data:`FIELD_MEMO` keys are remembered (then forgotten all at
once, which costs time, never a value).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable

import numpy as np

from evtxmpio.model import RECORD_COLUMNS, RawRecord
from evtxmpio.normalize.columns import Same, column_part
from evtxmpio.normalize.providers import (
    EXTRACTOR_INPUTS,
    Fields,
    Inputs,
    extractor_of,
    records_inputs,
)

TYPED_COLUMNS = [name for name in RECORD_COLUMNS if name not in (
    "time", "host", "channel", "provider", "event_id", "level", "record_id", "kind",
    "source_file", "source_offset", "reader", "corrupted", "message", "data")]
"""The columns the extractors fill (missing where they say nothing)."""

FIELD_MEMO = 4096
"""Distinct extractor inputs remembered at a time."""

_NONE: Fields = {}
_KIND = operator.attrgetter("kind")
_PROVIDER = operator.attrgetter("provider")
_Choice = tuple[Callable[[RawRecord], Fields] | None, Inputs]


class TypedFields:
    """Typed fields of records, batch after batch, for one event frame (see the module
    docstring); ``limit``: the distinct inputs remembered at a time."""

    def __init__(self, limit: int = FIELD_MEMO) -> None:
        self.limit = limit
        self._choices: dict[tuple[str, str], _Choice] = {}
        self._memo: dict[tuple[str, str], dict[Hashable, Fields]] = {}
        self._remembered = 0

    def remembered(self) -> int:
        """How many distinct inputs are remembered now."""
        return self._remembered

    def fields(self, records: list[RawRecord], kinds: list[str] | None = None,
               providers: list[str] | None = None) -> list[Fields]:
        """:func:`~evtxmpio.normalize.providers.extract` of each record (equal inputs give
        one shared dict: read it, never change it); ``kinds`` and ``providers``: the records'
        own, when the caller has them."""
        kinds = list(map(_KIND, records)) if kinds is None else kinds
        providers = list(map(_PROVIDER, records)) if providers is None else providers
        pairs = list(zip(kinds, providers, strict=True))
        if not pairs or pairs.count(pairs[0]) == len(pairs):  # one kind and provider
            return self._fields_of(pairs[0], records) if pairs else []
        codes = dict.fromkeys(pairs, 0)  # each kind and provider, in order, numbered
        codes.update(zip(codes, range(len(codes)), strict=True))
        rows = np.fromiter(map(codes.__getitem__, pairs), dtype=np.intp, count=len(pairs))
        found = np.empty(len(records), dtype=object)
        for pair, code in codes.items():
            where = np.flatnonzero(rows == code)
            found[where] = self._fields_of(pair, list(map(records.__getitem__, where.tolist())))
        return found.tolist()

    def _fields_of(self, chosen: tuple[str, str], records: list[RawRecord]) -> list[Fields]:
        """The fields of ``records``, all of one kind and provider (``chosen``)."""
        choice = self._choices.get(chosen)
        if choice is None:
            choice = self._choices[chosen] = _choose(*chosen)
        extractor, inputs = choice
        if extractor is None:
            return [_NONE] * len(records)
        keys = list(inputs(records))
        memo = self._memo.setdefault(chosen, {})
        found = list(map(memo.get, keys))
        if None not in found:
            return found
        for row, key in enumerate(keys):
            if found[row] is None:
                fields = memo.get(key)
                if fields is None:
                    if self._remembered >= self.limit:  # forget all at once
                        self._memo, self._remembered = {}, 0
                        memo = self._memo[chosen] = {}
                    fields = memo[key] = extractor(records[row])
                    self._remembered += 1
                found[row] = fields
        return found

    def columns(self, records: list[RawRecord], kinds: list[str] | None = None,
                providers: list[str] | None = None) -> dict[str, object]:
        """The typed columns of ``records`` (:data:`TYPED_COLUMNS`), as parts of columns
        (:func:`~evtxmpio.normalize.columns.column_part`)."""
        return spread(self.fields(records, kinds, providers))


def _choose(kind: str, provider: str) -> _Choice:
    extractor = extractor_of(kind, provider)
    return extractor, EXTRACTOR_INPUTS.get(extractor, records_inputs)  # type: ignore[arg-type]


def spread(found: list[Fields]) -> dict[str, object]:
    """The typed columns of rows whose fields are ``found`` (many rows sharing one dict): each
    column built from the distinct dicts' values, then taken row by row."""
    count = len(found)
    objects = np.fromiter(map(id, found), dtype=np.int64, count=count)
    _, first, rows = np.unique(objects, return_index=True, return_inverse=True)
    distinct = [found[index] for index in first.tolist()]
    named = set().union(*distinct)
    columns: dict[str, object] = {}
    for name in TYPED_COLUMNS:
        if name not in named:
            columns[name] = Same(None, count)
            continue
        values = [fields.get(name) for fields in distinct]
        part = column_part(values, RECORD_COLUMNS[name])
        if isinstance(part, Same):  # one value in the batch
            columns[name] = Same(part.value, count)
        else:
            columns[name] = part.take(rows)  # type: ignore[attr-defined]
    return columns
