"""The kept records of a batch built from their values a column at a time.

:class:`~evtxmpio.ingest.evtx_build.RecordBuilder` says how the records of a template whose
values have given types are built (a *program*); here the kept records of a whole batch are
grouped by template and value types, and each value a program reads is read for the whole
group at once: integers with numpy, strings and the rest one slice at a time but in one list
comprehension, each distinct text checked and made canonical once. A storm of kept events
(thousands per batch, a few templates) then costs a few list passes per field instead of a
Python call per value. Nested EventData (a classic event's, as Windows writes it) is read the
same way: the nested template instances of a group at once, then a column at a time.
"""

from __future__ import annotations

from itertools import chain, repeat

import numpy as np

from evtxmpio.catalog import field_int
from evtxmpio.ingest.event_text import canonical_value
from evtxmpio.ingest.evtx_build import (
    _CHECK,
    _CONVERT,
    _UNSAFE_ATTRIBUTE,
    _UNSAFE_TEXT,
    HEX_SIZES,
    INTEGERS,
    STRING_ARRAY,
    RecordBuilder,
    _Program,
)
from evtxmpio.ingest.evtx_templates import STRING
from evtxmpio.ingest.evtx_values import Records, _distinct_rows, nested_instances

_VIEW = {1: "u1", 2: "<u2", 4: "<u4", 8: "<u8"}
_SIGNED = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
REPEATED_MIN = 16  # a column of fewer records is sliced one by one
REPEATED_BYTES = 128  # the longest value told apart by numpy


def build_kept(builder: RecordBuilder, read: Records, rows: np.ndarray,
               chunks: list[bytes]) -> list[tuple | None]:
    """The fields (:meth:`RecordBuilder.fields`) of the batch records ``rows``, ``None``
    for one that is not built (``chunks``: the batch's chunks' bytes)."""
    built: list[tuple | None] = [None] * len(rows)
    if not len(rows):
        return built
    counts = read.value_counts[rows]
    width = max(int(counts.max()), 1)
    types = read.value_types[rows, :width]
    sizes = read.value_sizes[rows, :width].astype(np.int64)
    starts = read.values[rows][:, None] + np.cumsum(sizes, axis=1) - sizes
    # one group per template (the same definition in every chunk is one Template) and types
    same = {id(template): k for k, template in reversed(list(enumerate(read.used)))}
    first_code = np.array([same[id(template)] for template in read.used], np.int64)
    keys = np.column_stack([first_code[read.codes[rows]], counts, types]).astype(np.uint64)
    for members, code, value_types in _groups(keys, np.arange(len(rows))):
        template = read.used[code]
        program = builder.program(template, value_types) if template is not None else None
        if program is None:
            continue
        group = _Group(builder, read.blob, starts[members], sizes[members])
        if program.nested is not None:
            found = _nested_group(builder, read, rows[members], group, program, chunks)
        else:
            found = group.build(program)
        for member, fields in zip(members.tolist(), found, strict=True):
            built[member] = fields
    return built


def _nested_group(builder: RecordBuilder, read: Records, rows: np.ndarray, group: _Group,
                  program: _Program, chunks: list[bytes]) -> list[tuple | None]:
    """A group whose EventData is nested BinXML: the System fields a column at a time, then
    the nested template instances read for the whole group (:func:`_nested_event_data`) and
    built a column at a time per nested template and value types."""
    system = group.system(program)
    sound = group.sound(program.checks)
    index = program.nested
    data = _nested_event_data(builder, read, rows, group.starts[:, index],
                              group.sizes[:, index], chunks)
    return [(*facts, *found) if facts is not None and ok and found is not None else None
            for facts, ok, found in zip(system, sound, data, strict=True)]


def _nested_event_data(builder: RecordBuilder, read: Records, rows: np.ndarray,
                       at: np.ndarray, size: np.ndarray, chunks: list[bytes]
                       ) -> list[tuple | None]:
    """The (items, binary) of each record's nested EventData at ``at`` (``size`` bytes; a
    null value: none), ``None`` where not built."""
    found: list[tuple | None] = [None] * len(rows)
    blob = read.blob
    nested = nested_instances(read, rows, at, size)
    ok, chunk, defoff, count, types = (nested.ok, nested.chunk, nested.defoff, nested.count,
                                       nested.types)
    sizes, first = nested.sizes, nested.first
    u8 = np.frombuffer(blob, np.uint8)
    # the nested value ends with its values, or with an end-of-fragment token
    ok = ok & ((nested.stop == at + size) | (u8[np.minimum(nested.stop, len(u8) - 1)] == 0))
    templates = {key: builder.templates.get(chunks[key[0]], key[1]) for key in
                 set(zip(chunk[ok].tolist(), defoff[ok].tolist(), strict=True))}
    for k in np.flatnonzero(size == 0).tolist():
        found[k] = ((), None)  # a null value: no EventData
    members = np.flatnonzero(ok)
    if not len(members):
        return found
    same = {id(t): n for n, t in enumerate(templates.values())}
    codes = np.array([same[id(templates[(c, d)])] for c, d in
                      zip(chunk[members].tolist(), defoff[members].tolist(), strict=True)])
    used = list(templates.values())
    keys = np.column_stack([codes, count[members], types[members]]).astype(np.uint64)
    starts = first[:, None] + np.cumsum(sizes, axis=1) - sizes
    for group_rows, code, value_types in _groups(keys, members):
        template = used[code]
        program = builder.program(template, value_types, nested=True) \
            if template is not None else None
        if program is None:
            continue
        inner = _Group(builder, blob, starts[group_rows], sizes[group_rows])
        sound = inner.sound(program.checks)
        items = inner.items(program.data)
        binary = inner.binary(program.binary)
        for k, good, row, value in zip(group_rows.tolist(), sound, items, binary, strict=True):
            if good and row is not None:
                found[k] = (row, value)
    return found


def _groups(keys: np.ndarray, members: np.ndarray):
    """(rows, template code, value types) of each distinct (code, count, types) row."""
    firsts, inverse = _distinct_rows(keys)
    order = np.argsort(inverse, kind="stable")
    splits = np.cumsum(np.bincount(inverse, minlength=len(firsts)))[:-1]
    for first, group in zip(firsts.tolist(), np.split(order, splits), strict=True):
        code, count, *value_types = keys[first].tolist()
        yield members[group], code, tuple(value_types[:count])


class _Group:
    """The records of one program in a batch: their values' starts and sizes."""

    def __init__(self, builder: RecordBuilder, blob: bytes, starts: np.ndarray,
                 sizes: np.ndarray) -> None:
        self.builder = builder
        self.blob = blob
        self.starts = starts
        self.sizes = sizes
        self.count = len(starts)

    def build(self, program: _Program) -> list[tuple | None]:
        system = self.system(program)
        sound = self.sound(program.checks)
        items = self.items(program.data)
        binary = self.binary(program.binary)
        return [(*facts, row, value) if facts is not None and ok and row is not None else None
                for facts, ok, row, value in zip(system, sound, items, binary, strict=True)]

    def values(self, index: int) -> list[bytes]:
        """Each record's value bytes (a value the group repeats: one object for them all)."""
        repeated = self.repeated(index)
        if repeated is not None:
            distinct, inverse = repeated
            return list(map(distinct.__getitem__, inverse))
        starts = self.starts[:, index]
        return list(map(self.blob.__getitem__,
                        map(slice, starts.tolist(), (starts + self.sizes[:, index]).tolist())))

    def repeated(self, index: int) -> tuple[list[bytes], list[int]] | None:
        """A column of few distinct values, all of one short size (a storm's computer,
        channel, device and binary): the distinct values and each record's, told apart by
        numpy; ``None`` for any other column."""
        sizes = self.sizes[:, index]
        size = int(sizes[0])
        if self.count < REPEATED_MIN or not 0 < size <= REPEATED_BYTES \
                or (sizes != size).any():
            return None
        u8 = np.frombuffer(self.blob, np.uint8)
        rows = u8[self.starts[:, index][:, None] + np.arange(size)]
        _, first, inverse = np.unique(rows.view(f"V{size}").ravel(), return_index=True,
                                      return_inverse=True)
        if len(first) * 4 > self.count:
            return None  # mostly distinct: sliced one by one
        distinct = [self.blob[a:a + size] for a in self.starts[first, index].tolist()]
        return distinct, inverse.reshape(-1).tolist()

    def strings(self, index: int) -> list[str | None]:
        """The strings of a column, as evtx reads them (up to their first NUL): each distinct
        one decoded once in a column of few, else decoded at once when the column holds no
        surrogate pair and no NUL, else one by one."""
        repeated = self.repeated(index)
        if repeated is not None:
            distinct, inverse = repeated
            texts = list(map(self.builder.strings.text, distinct))
            return list(map(texts.__getitem__, inverse))
        values = self.values(index)
        try:
            joined = b"".join(values).decode("utf-16le")
        except UnicodeDecodeError:
            joined = None
        sizes = self.sizes[:, index]
        if joined is None or "\x00" in joined or len(joined) * 2 != int(sizes.sum()) \
                or (sizes % 2).any():
            return list(map(self.builder.strings.text, values))
        ends = np.cumsum(sizes // 2)
        return list(map(joined.__getitem__,
                        map(slice, (ends - sizes // 2).tolist(), ends.tolist())))

    def texts(self, source: tuple) -> list:
        """The text of a source for every record (``None``: not built)."""
        index, value_type = source
        if index == "text":
            return [value_type] * self.count
        if value_type == STRING:
            return self.strings(index)
        if value_type in INTEGERS or value_type in HEX_SIZES:
            numbers = self.integers(index, value_type)
            if value_type in HEX_SIZES:
                return [f"0x{number:x}" for number in numbers]
            return list(map(str, numbers))
        return list(map(_CONVERT[value_type], self.values(index)))

    def integers(self, index: int, value_type: int) -> list[int]:
        size, signed = INTEGERS.get(value_type) or (HEX_SIZES[value_type], False)
        starts = self.starts[:, index]
        window = np.ndarray((len(self.blob) - size + 1,), _VIEW[size], self.blob, 0, (1,))
        numbers = window[starts]
        return (numbers.astype(_SIGNED[size]) if signed else numbers).tolist()

    def sound(self, checks: tuple) -> list[bool]:
        """Whether each record's values that are checked though not read are sound."""
        sound = [True] * self.count
        for index, value_type in checks:
            if value_type == STRING:
                checked = self.strings(index)
            else:
                checked = list(map(_CHECK[value_type], self.values(index)))
            sound = [ok and value is not None for ok, value in zip(sound, checked, strict=True)]
        return sound

    def system(self, program: _Program) -> list[tuple | None]:
        """(GUID, qualifiers, channel, computer) of each record, ``None``: not built."""
        guid, qualifiers, channel, computer = (self.texts(s) for s in program.system)
        bad = {text for column, unsafe in ((guid, _UNSAFE_ATTRIBUTE),
                                           (qualifiers, _UNSAFE_ATTRIBUTE),
                                           (channel, _UNSAFE_TEXT), (computer, _UNSAFE_TEXT))
               for text in set(column) if text is None or unsafe.search(text)}
        numbers = {text: field_int(text) for text in set(qualifiers) if text not in bad}
        canonical = {text: canonical_value(text) for text in {*channel, *computer} - bad}
        return [None if bad and bad.intersection((g, q, c, m)) else
                (g or None, numbers[q], canonical[c], canonical[m])
                for g, q, c, m in zip(guid, qualifiers, channel, computer, strict=True)]

    def items(self, plan: tuple) -> list[tuple | None]:
        """The EventData items of each record, ``None``: not built. A column's texts are
        checked at once; a string array whose records all hold the same number of strings
        (how Windows writes a classic event's strings) is read as that many columns."""
        columns = []
        for name_source, value_source in plan:
            if name_source is None:
                names: list = [None] * self.count
            else:
                names = self.texts(name_source)
                if any(name is None or _UNSAFE_ATTRIBUTE.search(name) for name in set(names)):
                    return [None] * self.count
                names = [name or None for name in names]
            columns.append((names, value_source))
        if not columns:
            return [()] * self.count
        parts: list[tuple[list, bool]] = []  # each record's pair, or tuple of pairs (True)
        for names, source in columns:
            made = self._column_items(names, source)
            if made is None:
                return self._items_one_by_one([(names, self.texts(source),
                                                source[1] == STRING_ARRAY)
                                               for names, source in columns])
            parts.extend(made)
        if not any(several for _, several in parts):
            return list(zip(*(items for items, _ in parts), strict=True))
        if len(parts) == 1:
            return parts[0][0]
        flags = [several for _, several in parts]
        return [tuple(chain.from_iterable(items if several else (items,) for items, several
                                          in zip(row, flags, strict=True)))
                for row in zip(*(items for items, _ in parts), strict=True)]

    def _column_items(self, names: list, source: tuple) -> list[tuple[list, bool]] | None:
        """One plan column's items as columns of pairs (a string array of varying size: a
        tuple of pairs per record, flagged ``True``); ``None``: read it one by one."""
        counts = None
        if source[1] == STRING_ARRAY:
            found = self.string_arrays(source[0])
            if found is None:
                return None
            texts, counts = found
        else:
            texts = self.texts(source)
            if None in texts:
                return None
        # "<" is in no unsafe sequence: the texts joined are searched at once
        joined = "<".join(texts)
        if _UNSAFE_TEXT.search(joined) or "<string>" in joined:
            return None
        if "\n" in joined or 36 in set(map(len, texts)):
            texts = list(map({text: canonical_value(text) for text in set(texts)}.__getitem__,
                             texts))
        if counts is None:
            return [(list(zip(names, texts, strict=True)), False)]
        size = int(counts[0]) if len(counts) else 0
        if size and (counts == size).all():  # one <Data> per string: a column each
            return [(list(zip(names, texts[j::size], strict=True)), False)
                    for j in range(size)]
        ends = np.cumsum(counts)
        return [([tuple(zip(repeat(name), texts[a:b] or [""]))  # empty: one empty <Data>
                  for name, a, b in zip(names, (ends - counts).tolist(), ends.tolist(),
                                        strict=True)], True)]

    def string_arrays(self, index: int) -> tuple[list[str], np.ndarray] | None:
        """A string array column's strings as evtx reads them (each ends with a NUL, up to
        the value's end), every record's in one list, and how many each record holds;
        ``None`` when a value is not so (then read one by one)."""
        sizes = self.sizes[:, index] // 2
        if (self.sizes[:, index] % 2).any():
            return None
        joined = b"".join(self.values(index))
        units = np.frombuffer(joined, "<u2")
        ends = np.cumsum(sizes)
        if (units[ends[sizes > 0] - 1] != 0).any():
            return None
        try:
            strings = joined.decode("utf-16le").split("\x00")
        except UnicodeDecodeError:
            return None
        strings.pop()  # after the last NUL
        nuls = np.concatenate(([0], np.cumsum(units == 0)))
        return strings, nuls[ends] - nuls[ends - sizes]

    def _items_one_by_one(self, columns: list) -> list[tuple | None]:
        rows: list[tuple | None] = []
        for row in zip(*(zip(names, values, strict=True) for names, values, _ in columns),
                       strict=True):
            items: list[tuple[str | None, str]] | None = []
            for (name, value), (_, _, array) in zip(row, columns, strict=True):
                texts = ((value or [""]) if value is not None else [None]) if array \
                    else (value,)
                for text in texts:
                    canonical = _one_canonical(text)
                    if canonical is None or (not name and canonical.startswith("<string>")):
                        items = None
                        break
                    items.append((name, canonical))
                if items is None:
                    break
            rows.append(tuple(items) if items is not None else None)
        return rows

    def binary(self, source: tuple | None) -> list[bytes | None]:
        return self.values(source[0]) if source is not None else [None] * self.count


def _one_canonical(value: str | None) -> str | None:
    """A value's canonical text, ``None`` (not built) for one an XML parser would change or
    refuse."""
    if value is None or _UNSAFE_TEXT.search(value):
        return None
    return canonical_value(value)
