"""The ``message`` and ``data`` columns of a batch of records, written by pyarrow a column at a
time: the same texts :func:`evtxmpio.normalize.messages.texts_of` writes record by record.

Every insert of the batch goes into one pyarrow array, once. ``data``: each insert becomes
``"n": "value"`` and a record's items are joined; records whose inserts are named, more than
64, or hold a control character (which JSON writes as ``\\n``, ``\\u001f``...) are written by
:func:`evtxmpio.model.data_json` instead. ``message``: the records of one provider, event id
and insert count share a template; its text pieces and their inserts are joined column-wise.
Records the template does not fill (an exported message that it cannot better, no template)
take :func:`~evtxmpio.normalize.messages.message_with`. A batch with an insert that is not
text, or without pyarrow holding pandas' text, is written record by record.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from types import ModuleType

import numpy as np

from evtxmpio.model import RawRecord, data_json
from evtxmpio.normalize.columns import text_arrow
from evtxmpio.normalize.messages import INSERT, message_plan, message_with, most_inserts, texts_of

_DATA = operator.attrgetter("data")
_MESSAGE = operator.attrgetter("message")
_NAME = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)
_CONTROL = r"[\x00-\x1f]"  # characters json's encode_basestring writes as \n, \u001f ...
_KEYS = [f'"{number}": "' for number in range(1, 65)]  # '"1": "' ... of unnamed inserts


@dataclass(frozen=True, slots=True)
class Inserts:
    """The inserts of a batch of records in one pyarrow array: record ``i``'s are
    ``values[starts[i]:starts[i+1]]`` (``counts[i]`` of them), with their ``names``."""

    arrow: ModuleType
    datas: list[tuple[tuple[str | None, str], ...]]
    counts: list[int]
    starts: np.ndarray
    values: object
    names: list[str | None]


def inserts_of(records: list[RawRecord]) -> Inserts | None:
    """The inserts of ``records`` (``None``: no pyarrow holding pandas' text, or an insert that
    is not text or not UTF-8)."""
    arrow = text_arrow()
    if arrow is None or not records:
        return None
    datas = list(map(_DATA, records))
    counts = list(map(len, datas))
    flat = list(chain.from_iterable(datas))
    values = list(map(_VALUE, flat))
    if set(map(type, values)) - {str}:  # text only: pyarrow would take bytes as text
        return None
    try:
        array = arrow.array(values, type=arrow.large_string())
    except (TypeError, ValueError, arrow.ArrowException):  # not UTF-8 (a lone surrogate)
        return None
    starts = np.zeros(len(records) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return Inserts(arrow, datas, counts, starts, array, list(map(_NAME, flat)))


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
        return batch.messages(providers, event_ids), batch.data(inserts.names)
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

    def data(self, names: list[str | None]) -> object:
        """The ``data`` column."""
        arrow, compute, count = self.arrow, self.compute, len(self.records)
        lengths = np.asarray(self.counts, dtype=np.int64)
        escaped = self.inserts
        for character in ("\\", '"'):  # as encode_basestring writes them
            if compute.any(compute.match_substring(escaped, character)).as_py():
                escaped = compute.replace_substring(escaped, character, "\\" + character)
        sizes = np.unique(lengths).tolist()
        if len(sizes) == 1:  # one insert count in the batch
            data = self._json(escaped, sizes[0], self.starts[:-1], count)
        else:
            placed = [np.flatnonzero(lengths == size) for size in sizes]
            data = arrow.concat_arrays([
                self._json(escaped, size, self.starts[rows], len(rows))
                for size, rows in zip(sizes, placed, strict=True)]).take(
                    np.argsort(np.concatenate(placed), kind="stable"))
        row = np.repeat(np.arange(count), lengths)
        unusual = np.zeros(len(row), dtype=bool)
        suspect = np.flatnonzero(  # printable ASCII holds no control character
            ~compute.ascii_is_printable(self.inserts).to_numpy(zero_copy_only=False))
        if len(suspect):
            unusual[suspect] = compute.match_substring_regex(
                self.inserts.take(suspect), _CONTROL).to_numpy(zero_copy_only=False)
        if names.count(None) != len(names):  # named inserts (manifest events): by Python
            unusual |= np.fromiter(map(bool, names), dtype=bool, count=len(names))
        python = (np.bincount(row, weights=unusual, minlength=count) > 0) | (lengths > 64)
        if python.any():
            rows = np.flatnonzero(python)
            data = compute.replace_with_mask(data, arrow.array(python), self._strings(
                [data_json(self.datas[index]) for index in rows.tolist()]))
        return _pandas_strings(data)

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
        pieces = _pieces(template, min(given, most_inserts(template)))
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


@lru_cache(maxsize=4096)  # per catalogue template and number of inserts
def _pieces(template: str, count: int) -> tuple[str | int, ...]:
    """``template`` as text pieces and insert positions (``%n`` with ``n <= count`` is
    position ``n-1``; any other ``%n`` stays text), as ``messages._format`` reads it."""
    split = INSERT.split(template)
    pieces: list[str | int] = [split[0]]
    for number, text in zip(split[1::2], split[2::2], strict=True):
        index = int(number) - 1
        pieces.append(index if 0 <= index < count else f"%{number}")
        pieces.append(text)
    return tuple(pieces)


def _pandas_strings(array: object) -> object:
    import pandas as pd

    return pd.arrays.ArrowStringArray(array)
