"""The kept records of a batch built from their values a column at a time.

:class:`~evtxmpio.ingest.evtx_build.RecordBuilder` says how the records of a template whose
values have given types are built (a *program*); here the kept records of a whole batch are
grouped by template and value types, and each value a program reads is read for the whole
group at once: integers with numpy, strings and the rest one slice at a time but in one list
comprehension, each distinct text checked and made canonical once. A storm of kept events
(thousands per batch, a few templates) then costs a few list passes per field instead of a
Python call per value. Records with nested EventData are built one at a time
(:meth:`RecordBuilder.fields`).
"""

from __future__ import annotations

import numpy as np

from evtxmpio.catalog import field_int
from evtxmpio.ingest.event_text import canonical_value
from evtxmpio.ingest.evtx_build import (
    _CHECK,
    _CONVERT,
    _INTEGERS,
    _UNSAFE_ATTRIBUTE,
    _UNSAFE_TEXT,
    STRING_ARRAY,
    ChunkView,
    RecordBuilder,
    _Program,
)
from evtxmpio.ingest.evtx_templates import STRING
from evtxmpio.ingest.evtx_values import CHUNK, Records, _distinct_rows

_VIEW = {1: "u1", 2: "<u2", 4: "<u4", 8: "<u8"}
_SIGNED = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}
_HEX_TYPES = (0x14, 0x15)


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
    firsts, inverse = _distinct_rows(keys)
    order = np.argsort(inverse, kind="stable")
    splits = np.cumsum(np.bincount(inverse, minlength=len(firsts)))[:-1]
    for first, members in zip(firsts.tolist(), np.split(order, splits), strict=True):
        code, count, *value_types = keys[first].tolist()
        template = read.used[code]
        program = builder.program(template, tuple(value_types[:count])) \
            if template is not None else None
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
    """A group whose EventData is nested BinXML: the System fields a column at a time, the
    EventData record by record."""
    system = group.system(program)
    sound = group.sound(program.checks)
    index = program.nested
    nested_at, nested_size = group.starts[:, index].tolist(), group.sizes[:, index].tolist()
    views: dict[int, ChunkView] = {}
    found: list[tuple | None] = []
    for k, chunk in enumerate(read.chunk[rows].tolist()):
        if system[k] is None or not sound[k]:
            found.append(None)
            continue
        view = views.get(chunk)
        if view is None:
            view = views[chunk] = ChunkView(chunk * CHUNK, chunks[chunk])
        at, size = nested_at[k], nested_size[k]
        items, binary = builder.nested(read.blob, at, at + size, view) if size else ((), None)
        found.append(None if items is None else (*system[k], items, binary))
    return found


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
        starts = self.starts[:, index]
        return list(map(self.blob.__getitem__,
                        map(slice, starts.tolist(), (starts + self.sizes[:, index]).tolist())))

    def strings(self, index: int) -> list[str | None]:
        """The strings of a column, as evtx reads them (up to their first NUL): decoded at
        once when the column holds no surrogate pair and no NUL, else one by one."""
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
        if value_type in _INTEGERS or value_type in _HEX_TYPES:
            numbers = self.integers(index, value_type)
            if value_type in _HEX_TYPES:
                return [f"0x{number:x}" for number in numbers]
            return list(map(str, numbers))
        return list(map(_CONVERT[value_type], self.values(index)))

    def integers(self, index: int, value_type: int) -> list[int]:
        size, signed = _INTEGERS.get(value_type, (4 if value_type == 0x14 else 8, False))
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
        """The EventData items of each record, ``None``: not built."""
        columns = []
        for name_source, value_source in plan:
            if name_source is None:
                names: list = [None] * self.count
            else:
                names = self.texts(name_source)
                if any(name is None or _UNSAFE_ATTRIBUTE.search(name) for name in set(names)):
                    return [None] * self.count
                names = [name or None for name in names]
            columns.append((names, self.texts(value_source), value_source[1] == STRING_ARRAY))
        if not columns:
            return [()] * self.count
        if any(array for _, _, array in columns):
            return self._items_one_by_one(columns)
        pairs = []
        for names, values, _ in columns:
            if None in values:
                return self._items_one_by_one(columns)
            # "<" is in no unsafe sequence: the texts joined are searched at once
            joined = "<".join(values)
            if _UNSAFE_TEXT.search(joined) or "<string>" in joined:
                return self._items_one_by_one(columns)
            if "\n" in joined or 36 in set(map(len, values)):
                canonical = {value: canonical_value(value) for value in set(values)}
                values = list(map(canonical.__getitem__, values))
            pairs.append(list(zip(names, values, strict=True)))
        return list(zip(*pairs, strict=True))

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
