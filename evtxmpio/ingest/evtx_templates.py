"""The template definitions of an .evtx chunk, read for what the skip path needs.

Spec: libyal libevtx "Windows XML Event Log (EVTX)" format, sections "Binary XML" and
"Template definition". A record is, almost always, one template instance: the offset of a
template definition in its chunk (defined inline the first time a chunk uses it) and an array of
substitution values. The template is the event's XML with each value replaced by a
substitution token (index, value type); names are offsets of name structures in the chunk.

:func:`chunk_template` reads one definition into a :class:`Template`: which substitution holds
the provider name (or the name itself), the event id, the level, the
``TimeCreated/@SystemTime`` and the ``EventRecordID`` of the rendered record; whether that record
has the shape the skip path reads (``<Provider Name`` first, then ``<EventID``, ``<Level>``,
``TimeCreated`` with only ``SystemTime`` right before ``<EventRecordID>``); its literal text
and substitutions (for the content test of :mod:`evtxmpio.ingest.evtx_binfacts`). Any token
this reader does not follow (CDATA, character and entity references, processing instructions,
a template instance inside a template) or a definition that runs out of its chunk gives
``None``: the chunk is then rendered by ``evtx`` as before.

Definitions repeat from chunk to chunk, so :class:`TemplateCache` keeps each one read, keyed by
its bytes, and reuses it where the same bytes mean the same template: the names it refers to
outside itself hold the same bytes, and none of its name references turns inline or stops being
inline at the new offset (a reference is inline when it points just past itself).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import repeat
from operator import add, itemgetter, sub

from evtxmpio.catalog import FILETIME_UNIX_EPOCH
from evtxmpio.timearith import TIME_MAX_NS, TIME_MIN_NS

_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
DEFINITION_HEADER = 24  # next offset, GUID, data size
MAX_SUBSTITUTIONS = 64  # a System template uses ~20; more is not what the skip path reads
MAX_REMEMBERED = 4096

# FILETIMEs whose time the analysis can hold, so that the rendered text reads back exactly.
FILETIME_MIN = TIME_MIN_NS // 100 + FILETIME_UNIX_EPOCH + 10
FILETIME_MAX = TIME_MAX_NS // 100 + FILETIME_UNIX_EPOCH - 10

# Value types (libevtx "Value type"): the ones the skip path reads.
STRING, UINT8, UINT16, UINT64, FILETIME, BINXML = 0x01, 0x04, 0x06, 0x0A, 0x11, 0x21


@dataclass(frozen=True, slots=True)
class Template:
    """What one template definition says about the records that use it.

    Attributes:
        system: the substitution indexes of the System facts the skip path reads, in the order
            provider name (``-1`` when :attr:`provider` is literal), event id, qualifiers,
            level, ``SystemTime``, ``EventRecordID`` (``-1``: absent); ``None`` when the
            rendered record does not have the shape those facts are read from.
        provider: the literal provider name, when the template holds it.
        run_shape: ``TimeCreated`` has only ``SystemTime`` and no content, and
            ``<EventRecordID>`` (a single substitution) follows it directly (the shape
            :func:`evtxmpio.ingest.evtx_runs.clean_run` reads a run's times and ids from).
        literal: the template's names and literal values, lower case, joined by ``<``.
        adjacent: two value tokens (literal or substitution) follow each other somewhere, so
            that their rendered texts meet.
        substitutions: every substitution token, as (index, value type).
        events: the definition's tokens as read (``("open", name)``, ``("attr", name)``,
            ``("content",)``, ``("close",)``, ``("text", text)``, ``("sub", index, type)``),
            for the records built from their values (:mod:`evtxmpio.ingest.evtx_build`).
    """

    system: tuple[int, int, int, int, int] | None
    provider: str | None
    run_shape: bool
    literal: str
    adjacent: bool
    substitutions: tuple[tuple[int, int], ...]
    events: tuple[tuple, ...] = ()


@dataclass(slots=True)
class _Read:
    """The tokens of one definition, as read."""

    events: list[tuple] = field(default_factory=list)
    inline: list[int] = field(default_factory=list)  # inline name references met
    # Name references: (position relative to the body, offset pointed to, inline).
    refs: list[tuple[int, int, bool]] = field(default_factory=list)
    external: list[slice] = field(default_factory=list)  # outside names: length and text


def _name(data: bytes, offset: int) -> tuple[str, int] | None:
    """The name structure at ``offset`` (text, size in bytes), ``None`` when out of bounds."""
    if offset + 8 > len(data):
        return None
    (length,) = _U16(data, offset + 6)
    end = offset + 8 + 2 * length
    if end + 2 > len(data):
        return None
    return data[offset + 8:end].decode("utf-16le", "surrogatepass"), end + 2 - offset


def _name_ref(data: bytes, pos: int, defoff: int, read: _Read) -> tuple[str, int] | None:
    """The name a reference at ``pos`` points to, and the position after the reference."""
    if pos + 4 > len(data):
        return None
    (offset,) = _U32(data, pos)
    pos += 4
    named = _name(data, offset)
    if named is None:
        return None
    text, size = named
    inline = offset == pos  # defined inline, right here
    read.refs.append((pos - 4 - defoff - DEFINITION_HEADER, offset, inline))
    if inline:
        read.inline.append(defoff)
        return text, pos + size
    read.external.append(slice(offset + 6, offset + size - 2))
    return text, pos


def _tokens(data: bytes, defoff: int) -> _Read | None:
    """The tokens of the definition at ``defoff``, ``None`` for any this reader does not
    follow."""
    if defoff + DEFINITION_HEADER > len(data):
        return None
    (size,) = _U32(data, defoff + 20)
    pos, end = defoff + DEFINITION_HEADER, defoff + DEFINITION_HEADER + size
    if end > len(data):
        return None
    read = _Read()
    events = read.events
    depth = 0
    while pos < end:
        token = data[pos]
        if token == 0x0F:
            pos += 4
        elif token in (0x01, 0x41):
            named = _name_ref(data, pos + 7, defoff, read)
            if named is None or not _XML_NAME.fullmatch(named[0]):
                return None
            events.append(("open", named[0]))
            depth += 1
            pos = named[1] + (4 if token == 0x41 else 0)
        elif token in (0x06, 0x46):
            named = _name_ref(data, pos + 1, defoff, read)
            if named is None or not _XML_NAME.fullmatch(named[0]):
                return None
            events.append(("attr", named[0]))
            pos = named[1]
        elif token == 0x02:
            events.append(("content",))
            pos += 1
        elif token in (0x03, 0x04):
            events.append(("close",))
            depth -= 1
            pos += 1
        elif token in (0x05, 0x45):
            if pos + 4 > end or data[pos + 1] != STRING:
                return None
            (length,) = _U16(data, pos + 2)
            if pos + 4 + 2 * length > end:
                return None
            text = data[pos + 4:pos + 4 + 2 * length].decode("utf-16le", "surrogatepass")
            events.append(("text", text))
            pos += 4 + 2 * length
        elif token in (0x0D, 0x0E):
            if pos + 4 > end or data[pos + 3] not in VALUE_TYPES:
                return None
            (index,) = _U16(data, pos + 1)
            events.append(("sub", index, data[pos + 3]))
            pos += 4
        elif token == 0x00:
            pos += 1
            break
        else:
            return None
        if depth < 0:
            return None
    # A definition that reads as one: balanced, and its end-of-fragment token its last byte.
    return read if pos == end and depth == 0 and events else None


_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")
# Value types evtx reads (libevtx "Value type"): scalars, BinXML, and arrays of scalars.
VALUE_TYPES = frozenset({*range(0x00, 0x16), 0x21, *range(0x81, 0x96)})


def _template(events: list[tuple]) -> Template:
    """A :class:`Template` from the tokens of its definition."""
    literal: list[str] = []
    substitutions: list[tuple[int, int]] = []
    adjacent = False
    previous_value = False
    for event in events:
        kind = event[0]
        if kind in ("open", "attr", "text"):
            literal.append(event[1])
        elif kind == "sub":
            substitutions.append((event[1], event[2]))
        value = kind in ("text", "sub")
        adjacent = adjacent or (value and previous_value)
        previous_value = value
    system, provider, run_shape = _system(events)
    return Template(system, provider, run_shape, "<".join(literal).lower(), adjacent,
                    tuple(substitutions), tuple(events))


def _values(events: list[tuple], start: int) -> tuple[int, list[tuple]]:
    """The value tokens from ``start`` up to the next token of another kind."""
    stop = start
    while stop < len(events) and events[stop][0] in ("text", "sub"):
        stop += 1
    return stop, events[start:stop]


def _system(events: list[tuple]) -> tuple[tuple[int, int, int, int, int] | None,
                                          str | None, bool]:
    """The System facts' substitutions, the literal provider and the run shape (see
    :class:`Template`); ``(None, None, False)`` when the record is not of that shape."""
    events = [*events, ("end",)]  # every look one token ahead finds a token
    elements = [k for k, event in enumerate(events) if event[0] == "open"]
    names = [events[k][1] for k in elements]
    if names[:3] != ["Event", "System", "Provider"]:
        return None, None, False
    at = elements[2] + 1
    if at >= len(events) or events[at] != ("attr", "Name"):
        return None, None, False
    _, name_values = _values(events, at + 1)
    if len(name_values) != 1:
        return None, None, False
    kind, value = name_values[0][:2]
    provider, provider_sub = (value, -1) if kind == "text" else (None, value)
    # "<EventID": the first element after the provider whose name starts so.
    eid = next((n for n in range(3, len(names)) if names[n].startswith("EventID")), None)
    if eid is None or names[eid] != "EventID":
        return None, None, False
    eid_sub = _content(events, elements[eid])
    # "<Level>": the first element named so after the event id; absent reads as no level.
    level = next((n for n in range(eid + 1, len(names)) if names[n] == "Level"), None)
    level_sub = -1
    if level is not None:
        level_sub = _content(events, elements[level])
        if level_sub < 0 or events[elements[level] + 1][0] == "attr":
            return None, None, False
    time_sub, record_sub, run_shape = _time_and_id(events, elements, names)
    if min(eid_sub, time_sub, record_sub) < 0:
        return None, None, False
    return (provider_sub, eid_sub, level_sub, time_sub, record_sub), provider, run_shape


def _content(events: list[tuple], at: int) -> int:
    """The one substitution that is the whole content of the element opened at ``at``, else
    ``-1``."""
    at += 1
    while at < len(events) and events[at][0] == "attr":
        at, _ = _values(events, at + 1)
    if at >= len(events) or events[at][0] != "content":
        return -1
    stop, values = _values(events, at + 1)
    single = values[0][1] if len(values) == 1 and values[0][0] == "sub" else -1
    return single if stop < len(events) and events[stop][0] == "close" else -1


def _time_and_id(events: list[tuple], elements: list[int], names: list[str]
                 ) -> tuple[int, int, bool]:
    """The ``SystemTime`` and ``EventRecordID`` substitutions and the run shape.

    The time is read at the first ``<TimeCreated SystemTime="`` of the text (a
    ``TimeCreated`` whose first attribute is ``SystemTime``) and the id at the first
    ``<EventRecordID>`` (an element so named, with no attribute)."""
    time_element = next((n for n, name in enumerate(names) if name == "TimeCreated"
                         and events[elements[n] + 1] == ("attr", "SystemTime")), None)
    record = next((n for n, name in enumerate(names) if name == "EventRecordID"
                   and events[elements[n] + 1][0] != "attr"), None)
    if time_element is None or record is None:
        return -1, -1, False
    time_at = elements[time_element] + 1
    after, values = _values(events, time_at + 1)
    time_sub = values[0][1] if len(values) == 1 and values[0][0] == "sub" else -1
    record_sub = _content(events, elements[record])
    # run shape: ``SystemTime`` alone, the element empty (``/>`` or ``></TimeCreated>``),
    # and ``<EventRecordID>`` the next element, after it.
    closes = after < len(events) and (
        events[after][0] == "close"
        or (events[after][0] == "content" and after + 1 < len(events)
            and events[after + 1][0] == "close"))
    run_shape = closes and record == time_element + 1
    return time_sub, record_sub, run_shape


@dataclass(slots=True)
class _Entry:
    """A definition read: its template, and what another definition with the same bytes
    must have for it to be the same."""

    template: Template | None
    inline_at: int | None  # the offset its inline names need, if it has any
    not_at: frozenset[int]  # offsets at which an outside reference would turn inline
    external: tuple[slice, ...]
    names: tuple[bytes, ...]
    read_names: Callable[[bytes], tuple[bytes, ...]] = field(init=False)

    def __post_init__(self) -> None:
        # One C call that slices every outside name out of a chunk.
        self.read_names = itemgetter(*self.external, slice(0, 0))


class _Skeleton:
    """A definition read, up to its name references: the bytes between its references and
    the chain links of its inline names (``segments``), each reference (position in the body,
    inline) and the length and text of the outside name of each outside reference, in order.
    Another definition of the same size reads the same when these agree (:meth:`entry`)."""

    __slots__ = ("_external", "_inline", "_read_refs", "_read_segments", "_shifts", "_sizes",
                 "inline", "names", "refs", "segments", "template")

    def __init__(self, template: Template | None, read: _Read, data: bytes, body: bytes
                 ) -> None:
        self.template = template
        masked = sorted([at for at, _, _ in read.refs]
                        + [at + 4 for at, _, inline in read.refs if inline])
        layout, refs_layout, position = ["<"], ["<"], 0
        for at in masked:
            layout.append(f"{at - position}s4x")
            position = at + 4
        layout.append(f"{len(body) - position}s")
        position = 0
        for at, _, _ in read.refs:
            refs_layout.append(f"{at - position}xI")
            position = at + 4
        self._read_segments = struct.Struct("".join(layout)).unpack_from
        self._read_refs = struct.Struct("".join(refs_layout)).unpack_from
        self.segments = self._read_segments(body)
        self.refs = tuple((at, inline) for at, _, inline in read.refs)
        self.inline = any(inline for _, inline in self.refs)
        self.names = tuple(_name_text(data, offset) for _, offset, inline in read.refs
                           if not inline)
        # A reference is inline where its offset less (position + 4) is the body's offset.
        self._shifts = tuple(at + 4 for at, _, _ in read.refs)
        flags = [inline for _, _, inline in read.refs]
        self._inline = [k for k, inline in enumerate(flags) if inline]
        self._external = [k for k, inline in enumerate(flags) if not inline]
        # the expected outside names' sizes (a name past the data never matches)
        self._sizes = [len(name) if name is not None else -1 for name in self.names]

    def entry(self, data: bytes, defoff: int) -> _Entry | None:
        """The entry of the definition at ``defoff`` of ``data`` when it reads as this one."""
        base = defoff + DEFINITION_HEADER
        if self._read_segments(data, base) != self.segments:
            return None
        offsets = self._read_refs(data, base)
        relative = list(map(sub, offsets, self._shifts))  # == base where inline
        if relative.count(base) != len(self._inline) or any(
                relative[k] != base for k in self._inline):
            return None
        starts = [offsets[k] + 6 for k in self._external]
        stops = list(map(add, starts, self._sizes))
        if tuple(map(data.__getitem__, map(slice, starts, stops))) != self.names:
            return None
        slices = tuple(map(slice, *zip(*dict(zip(starts, stops, strict=True)).items(),
                                       strict=True))) if starts else ()
        return _Entry(self.template, defoff if self.inline else None,
                      frozenset(map(sub, relative, repeat(DEFINITION_HEADER))),
                      slices, tuple(map(data.__getitem__, slices)))


def _name_text(data: bytes, offset: int) -> bytes | None:
    """The length and text of the name structure at ``offset``, ``None`` past the data."""
    if offset + 8 > len(data):
        return None
    (length,) = _U16(data, offset + 6)
    end = offset + 8 + 2 * length
    return data[offset + 6:end] if end <= len(data) else None


MAX_SKELETONS = 8  # per definition size


class TemplateCache:
    """Template definitions read so far, by their bytes, and by their bytes up to name
    references (see the module text)."""

    def __init__(self) -> None:
        self._entries: dict[bytes, _Entry] = {}
        self._skeletons: dict[int, list[_Skeleton]] = {}

    def get_many(self, places: list[tuple[bytes, int]]) -> list[Template | None]:
        """:meth:`get` for each (chunk, offset): the bytes seen before answered in one loop."""
        found: list[Template | None] = []
        entries, get, unpack = self._entries, self.get, _U32
        for data, defoff in places:
            if defoff + DEFINITION_HEADER <= len(data):
                size = unpack(data, defoff + 20)[0]
                entry = entries.get(data[defoff + DEFINITION_HEADER:
                                         defoff + DEFINITION_HEADER + size])
                if entry is not None and (
                        entry.inline_at == defoff if entry.inline_at is not None
                        else defoff not in entry.not_at) \
                        and entry.read_names(data)[:-1] == entry.names:
                    found.append(entry.template)
                    continue
            found.append(get(data, defoff))
        return found

    def get(self, data: bytes, defoff: int) -> Template | None:
        """The template defined at ``defoff`` of the chunk ``data`` (``None``: not followed)."""
        if defoff + DEFINITION_HEADER > len(data):
            return None
        (size,) = _U32(data, defoff + 20)
        body = data[defoff + DEFINITION_HEADER:defoff + DEFINITION_HEADER + size]
        entry = self._entries.get(body)
        if entry is not None and _fits(entry, data, defoff):
            return entry.template
        if defoff + DEFINITION_HEADER + size <= len(data):
            for skeleton in self._skeletons.get(size, ()):
                entry = skeleton.entry(data, defoff)
                if entry is not None:
                    self._remember(body, entry)
                    return entry.template
        read = _tokens(data, defoff)
        if read is None:
            return None
        template = _template(read.events)
        external = tuple({(s.start, s.stop): s for s in read.external}.values())
        entry = _Entry(template, defoff if read.inline else None,
                       frozenset(offset - 4 - at - DEFINITION_HEADER
                                 for at, offset, _ in read.refs),
                       external, tuple(data[s] for s in external))
        self._remember(body, entry)
        skeletons = self._skeletons.setdefault(size, [])
        if len(skeletons) >= MAX_SKELETONS:
            skeletons.pop(0)
        skeletons.append(_Skeleton(template, read, data, body))
        return template

    def _remember(self, body: bytes, entry: _Entry) -> None:
        if len(self._entries) >= MAX_REMEMBERED:
            self._entries.clear()
            self._skeletons.clear()
        self._entries[body] = entry


def _fits(entry: _Entry, data: bytes, defoff: int) -> bool:
    """Whether ``entry`` (read at another offset or chunk) is what ``defoff`` of ``data``
    defines, its bytes being the same."""
    if entry.inline_at is not None:
        if entry.inline_at != defoff:
            return False
    elif defoff in entry.not_at:
        return False
    return entry.read_names(data)[:-1] == entry.names
