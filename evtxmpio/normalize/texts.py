"""The ``message`` and ``data`` columns of a batch of records, written by pyarrow a column at a
time: the same texts :func:`evtxmpio.normalize.messages.texts_of` writes record by record.

Every insert of the batch goes into one pyarrow array, once. ``data``: each insert becomes
``"n": "value"`` and a record's items are joined; records whose inserts are named, more than
64, or hold a control character (which JSON writes as ``\\n``, ``\\u001f``...) are written by
:func:`evtxmpio.model.data_json` instead. ``message``: the records of one provider, event id
and insert count share a template; its text pieces and their inserts are joined column-wise.
Records the template does not fill (an exported message that it cannot better, no template)
take :func:`~evtxmpio.normalize.messages.message_with`. A batch with an insert that is not
text, most of whose inserts are named, or without pyarrow holding pandas' text, is written
record by record.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from types import ModuleType

import numpy as np

from evtxmpio.model import RawRecord, data_json
from evtxmpio.normalize.columns import text_arrow
from evtxmpio.normalize.messages import (
    message_plan,
    message_with,
    most_inserts,
    template_pieces,
    texts_of,
)

_DATA = operator.attrgetter("data")
_MESSAGE = operator.attrgetter("message")
_NAME = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)
_CONTROL = r"[\x00-\x1f]"  # characters json's encode_basestring writes as \n, \u001f ...
_KEYS = [f'"{number}": "' for number in range(1, 65)]  # '"1": "' ... of unnamed inserts


@dataclass(frozen=True, slots=True)
class Inserts:
    """The inserts of a batch of records in one pyarrow array: record ``i``'s are
    ``values[starts[i]:starts[i+1]]`` (``counts[i]`` of them); ``named``: which inserts
    have a name (``None``: none has). No list of every insert is kept: the garbage collector
    would walk it again and again while the batch is written."""

    arrow: ModuleType
    datas: list[tuple[tuple[str | None, str], ...]]
    counts: list[int]
    starts: np.ndarray
    values: object
    named: np.ndarray | None


def inserts_of(records: list[RawRecord]) -> Inserts | None:
    """The inserts of ``records`` (``None``: no pyarrow holding pandas' text, an insert that
    is not text or not UTF-8, or most inserts named: such a batch is written record by
    record)."""
    arrow = text_arrow()
    if arrow is None or not records:
        return None
    datas = list(map(_DATA, records))
    counts = list(map(len, datas))
    flat = list(chain.from_iterable(datas))
    names = list(map(_NAME, flat))
    unnamed = names.count(None)
    if unnamed * 2 < len(names):  # mostly manifest events: their JSON is Python's anyway
        return None
    values = list(map(_VALUE, flat))
    if set(map(type, values)) - {str}:  # text only: pyarrow would take bytes as text
        return None
    try:
        array = arrow.array(values, type=arrow.large_string())
    except (TypeError, ValueError, arrow.ArrowException):  # not UTF-8 (a lone surrogate)
        return None
    starts = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    named = None if unnamed == len(names) else \
        np.fromiter(map(bool, names), dtype=bool, count=len(names))
    return Inserts(arrow, datas, counts, starts, array, named)


def event_texts(records: list[RawRecord], providers: Sequence[str],
                event_ids: Sequence[int | None], inserts: Inserts | None = None
                ) -> tuple[object, object]:
    """The ``message`` and ``data`` columns of ``records`` (whose ``providers`` and
    ``event_ids`` are given; ``inserts``: theirs, see :func:`inserts_of`): pandas ``string``
    arrays, or lists of texts."""
    if inserts is None:
        inserts = inserts_of(records)
    if inserts is None:
        return texts_of(records)
    batch = _Batch(records, inserts)
    try:
        return batch.messages(providers, event_ids), batch.data(inserts.named)
    except (TypeError, ValueError, inserts.arrow.ArrowException):  # a text from Python: no UTF-8
        return texts_of(records)


class _Batch:
    """A batch of records and its :class:`Inserts`: what is needed to write its texts."""

    def __init__(self, records: list[RawRecord], inserts: Inserts) -> None:
        import pyarrow.compute

        self.arrow, self.compute = inserts.arrow, pyarrow.compute
        self.text = inserts.arrow.large_string()
        self.records, self.datas, self.counts = records, inserts.datas, inserts.counts
        self.starts, self.inserts = inserts.starts, inserts.values

    def _scalar(self, text: str) -> object:
        return self.arrow.scalar(text, self.text)

    def _strings(self, texts: list[str | None]) -> object:
        return self.arrow.array(texts, type=self.text)

    def data(self, named: np.ndarray | None) -> object:
        """The ``data`` column."""
        python = self._by_python(named)
        rows = np.flatnonzero(~python)
        lengths = np.asarray(self.counts, dtype=np.int64)[rows]
        placed, parts = [], []
        if len(rows):
            escaped = self.inserts
            for character in ("\\", '"'):  # as encode_basestring writes them
                if self.compute.any(self.compute.match_substring(escaped, character)).as_py():
                    escaped = self.compute.replace_substring(escaped, character,
                                                             "\\" + character)
            sizes = np.unique(lengths).tolist()
            for size in sizes:  # the records of one insert count at once
                placed.append(rows if len(sizes) == 1 else rows[lengths == size])
                parts.append(self._json(escaped, size, self.starts[placed[-1]], len(placed[-1])))
        if python.any():
            placed.append(np.flatnonzero(python))
            parts.append(self._strings([data_json(self.datas[index])
                                        for index in placed[-1].tolist()]))
        if len(parts) == 1:
            return _pandas_strings(parts[0])
        order = np.argsort(np.concatenate(placed), kind="stable")
        return _pandas_strings(self.arrow.concat_arrays(parts).take(order))

    def _by_python(self, named: np.ndarray | None) -> np.ndarray:
        """Which records' data :func:`evtxmpio.model.data_json` writes: named inserts, more than
        64, or a control character in one."""
        count, lengths = len(self.records), np.asarray(self.counts, dtype=np.int64)
        python = lengths > len(_KEYS)
        unusual = np.zeros(int(self.starts[-1]), dtype=bool)
        suspect = np.flatnonzero(  # printable ASCII holds no control character
            ~self.compute.ascii_is_printable(self.inserts).to_numpy(zero_copy_only=False))
        if len(suspect):
            unusual[suspect] = self.compute.match_substring_regex(
                self.inserts.take(suspect), _CONTROL).to_numpy(zero_copy_only=False)
        if named is not None:  # named inserts (manifest events)
            unusual |= named
        if unusual.any():
            row = np.repeat(np.arange(count), lengths)
            python |= np.bincount(row, weights=unusual, minlength=count) > 0
        return python

    def _json(self, escaped: object, size: int, starts: np.ndarray, count: int) -> object:
        """``data_json`` of ``count`` records of ``size`` unnamed inserts each, which start at
        ``starts`` in ``escaped`` (more than 64: left to Python, see :meth:`data`)."""
        if size == 0 or size > len(_KEYS):
            return self._strings(["{}"] * count)
        pieces = []
        for position in range(size):
            pieces.append(self._scalar(("{" if position == 0 else '", ') + _KEYS[position]))
            pieces.append(escaped.take(starts + position))  # type: ignore[attr-defined]
        return self.compute.binary_join_element_wise(*pieces, self._scalar('"}'),
                                                     self._scalar(""))

    def messages(self, providers: Sequence[str], event_ids: Sequence[int | None]) -> object:
        """The ``message`` column."""
        given = list(map(_MESSAGE, self.records))
        exported = given.count(None) != len(given)  # messages carried by the export
        placed: list[np.ndarray] = []
        parts: list[object] = []
        for key, rows in _groups(providers, event_ids, self.counts).items():
            template, most, _ = message_plan(*key)
            if template is None:
                filled, others = rows[:0], rows
            elif most <= key[2] or not exported or not any(given[index] for index in rows):
                filled, others = rows, rows[:0]
            else:
                carried = np.fromiter((bool(given[index]) for index in rows), dtype=bool,
                                      count=len(rows))
                filled, others = rows[~carried], rows[carried]
            if len(filled):
                placed.append(filled)
                parts.append(self._fill(template, key[2], filled))
            if len(others):
                placed.append(others)
                parts.append(self._strings([message_with(self.records[index], template)
                                            for index in others.tolist()]))
        if len(parts) == 1:
            return _pandas_strings(parts[0])
        order = np.argsort(np.concatenate(placed), kind="stable")
        return _pandas_strings(self.arrow.concat_arrays(parts).take(order))

    def _fill(self, template: str, given: int, rows: np.ndarray) -> object:
        """``template`` filled with the inserts of ``rows`` (each has ``given`` inserts)."""
        pieces = template_pieces(template, min(given, most_inserts(template)))
        if not any(isinstance(piece, int) for piece in pieces):  # no insert: one text
            return self._strings(["".join(pieces)] * len(rows))  # type: ignore[arg-type]
        starts = self.starts[rows]
        return self.compute.binary_join_element_wise(
            *(self._scalar(piece) if isinstance(piece, str) else self.inserts.take(starts + piece)
              for piece in pieces), self._scalar(""))


def _groups(*columns: Sequence[object]) -> dict[tuple[object, ...], np.ndarray]:
    """The rows of each distinct value of ``columns`` taken together, in first-seen order."""
    if all(column.count(column[0]) == len(column) for column in columns):  # one value
        return {tuple(column[0] for column in columns): np.arange(len(columns[0]))}
    keys = list(zip(*columns, strict=True))
    codes = dict.fromkeys(keys, 0)
    codes.update(zip(codes, range(len(codes)), strict=True))
    numbers = np.fromiter(map(codes.__getitem__, keys), dtype=np.intp, count=len(keys))
    return {key: np.flatnonzero(numbers == code) for key, code in codes.items()}


def _pandas_strings(array: object) -> object:
    import pandas as pd

    return pd.arrays.ArrowStringArray(array)
