"""How kept .evtx records are built from their binary values, as ``evtx`` would render them.

A chunk decided from its binary values (:mod:`evtxmpio.ingest.evtx_binfacts`) where some
records are kept used to be rendered whole by ``evtx``, only for the kept few to be read back
from their XML text. Instead a kept record can be built from its template (its tokens, read by
:mod:`evtxmpio.ingest.evtx_templates`) and its substitution values into the same
:class:`~evtxmpio.model.RawRecord` :func:`evtxmpio.ingest.event_element.read_event_xml` makes
of ``evtx``'s rendering: provider, its GUID (the record's kind), qualifiers, channel,
computer, EventData items and ``<Binary>`` bytes (the event id, level, time and record id are
the batch's, read by :mod:`evtxmpio.ingest.evtx_values`). This module says how (a *plan* per
template, a *program* per template and value types, and the value renderings);
:mod:`evtxmpio.ingest.evtx_kept` builds a batch's records with them, a column at a time.

Only what is certain is built; anything else is not, and the chunk is rendered as before:

- the layout: ``<Event>`` holds ``<System>`` and then nothing, an ``<EventData>`` or one
  substitution of nested BinXML (a template instance whose template is an ``<EventData>``,
  or null: no EventData). ``<System>`` holds each of its known elements at most once, each
  with at most one value; ``<EventData>`` holds ``<Data>`` elements (an optional ``Name``) and
  at most one ``<Binary>``, last;
- the values: every value of the record, read or not, of a type ``evtx`` renders without fail
  (strings that decode as UTF-16, string arrays whose strings all end with a NUL, integers,
  hex integers, booleans, floats, GUIDs, binary, ``FILETIME``s the analysis can hold,
  well-formed SIDs, nested BinXML as above);
- the values read, rendered as ``evtx`` does: strings up to their first NUL; a string array
  repeats its ``<Data>`` once per string (when there are two or more); integers in decimal,
  hex integers as ``0x`` and lower-case digits, GUIDs in upper case, ``FILETIME``s as
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ``; a null value renders empty. A text an XML parser would
  change or refuse (a carriage return, a character XML forbids, ``]]>``; a tab or line feed in
  an attribute) is not built.
"""

from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape as xml_escape

from lxml import etree

from evtxmpio.ingest.event_element import parse_event_xml
from evtxmpio.ingest.evtx_pyrender import filetime_text
from evtxmpio.ingest.evtx_templates import (
    BINXML,
    FILETIME,
    FILETIME_MAX,
    FILETIME_MIN,
    STRING,
    Template,
    TemplateCache,
)

_U64 = struct.Struct("<Q").unpack_from
MAX_REMEMBERED = 1 << 14
REMEMBERED_BYTES = 512  # the longest string value remembered (at most 8 MiB in all)

# Value types whose every value of its natural size evtx renders: null, 8- to 64-bit
# integers signed and unsigned, float, double, bool, GUID, size_t, hex integers, binary.
_PLAIN_TYPES = frozenset({0x00, *range(0x03, 0x11), 0x14, 0x15})
_SID = 0x13
STRING_ARRAY = 0x81
_BINARY = 0x0E
_GUID = 0x0F
HEX_SIZES = {0x14: 4, 0x15: 8}  # hex integers: value type -> size
INTEGERS = {  # integers: value type -> (size, signed)
    0x03: (1, True), 0x04: (1, False), 0x05: (2, True), 0x06: (2, False),
    0x07: (4, True), 0x08: (4, False), 0x09: (8, True), 0x0A: (8, False)}
# What an XML parser changes or refuses in a text (and ``]]>``, refused there).
_UNSAFE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]|]]>")
_UNSAFE_ATTRIBUTE = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_SYSTEM = frozenset({"Provider", "EventID", "Version", "Level", "Task", "Opcode", "Keywords",
                     "TimeCreated", "EventRecordID", "Correlation", "Execution", "Channel",
                     "Computer", "Security"})

# A value's source in a plan: literal text, or the index of a substitution.
Source = str | int


@dataclass(frozen=True, slots=True)
class _Element:
    name: str
    attributes: tuple[tuple[str, tuple[tuple, ...]], ...]
    children: tuple  # _Element or a value token (("text", text) / ("sub", index, type))


@dataclass(frozen=True, slots=True)
class Plan:
    """Where a template's record gets the fields built here (``None``: absent)."""

    guid: Source | None
    qualifiers: Source | None
    channel: Source | None
    computer: Source | None
    data: tuple[tuple[Source | None, Source | None], ...]  # (Name, value; None: empty)
    binary: Source | None
    nested: int | None  # the substitution of nested BinXML EventData
    has_data: bool  # an <EventData> (flat) in the template itself


def _tree(events: tuple[tuple, ...]) -> _Element | None:
    """The element tree of a template's tokens, ``None`` when it is not one element."""
    stack: list[tuple[str, list, list]] = []
    attribute: list | None = None
    root: _Element | None = None
    for event in events:
        kind = event[0]
        if kind == "open":
            stack.append((event[1], [], []))
            attribute = None
        elif kind == "attr":
            if not stack:
                return None
            attribute = []
            stack[-1][1].append((event[1], attribute))
        elif kind == "content":
            attribute = None
        elif kind == "close":
            if not stack:
                return None
            name, attributes, children = stack.pop()
            element = _Element(name, tuple((n, tuple(v)) for n, v in attributes),
                               tuple(children))
            attribute = None
            if stack:
                stack[-1][2].append(element)
            elif root is None:
                root = element
            else:
                return None
        elif attribute is not None:
            attribute.append(event)
        elif stack:
            stack[-1][2].append(event)
        else:
            return None
    return root if not stack else None


def _one(values: tuple) -> Source | bool | None:
    """The one value of an element's content or an attribute: its source, ``None`` when
    empty, ``False`` when there are more or elements among them."""
    if not values:
        return None
    if len(values) != 1 or isinstance(values[0], _Element):
        return False
    token = values[0]
    return token[1]  # the text, or the substitution index


def _attributes(element: _Element) -> dict[str, Source | bool | None]:
    found: dict[str, Source | bool | None] = {}
    for name, values in element.attributes:
        if name in found:
            return {"": False}
        found[name] = _one(values)
    return found


def plan_of(template: Template) -> Plan | None:
    """The :class:`Plan` of a record template, ``None`` when it is not of the layout read or
    its own text is not what an XML parser reads unchanged (:func:`skeleton_sound`)."""
    root = _tree(template.events)
    if root is None or root.name != "Event" or not root.children \
            or not skeleton_sound(template.events):
        return None
    system, *rest = root.children
    if not isinstance(system, _Element) or system.name != "System" or len(rest) > 1:
        return None
    facts = _system(system)
    if facts is None:
        return None
    nested = None
    data: tuple = ()
    binary = None
    has_data = False
    if rest:
        (tail,) = rest
        if isinstance(tail, _Element):
            read = _event_data(tail)
            if read is None:
                return None
            data, binary = read
            has_data = True
        elif tail[0] == "sub" and tail[2] == BINXML:
            nested = tail[1]
        else:
            return None
    return Plan(*facts, data, binary, nested, has_data)


def _system(system: _Element) -> tuple[Source | None, ...] | None:
    """GUID, qualifiers, channel and computer sources of a ``<System>`` as read."""
    children: dict[str, _Element] = {}
    for child in system.children:
        if not isinstance(child, _Element) or child.name not in _SYSTEM \
                or child.name in children or any(isinstance(c, _Element)
                                                 for c in child.children):
            return None
        if len(child.children) > 1 or any(_one(v) is False for _, v in child.attributes):
            return None
        children[child.name] = child
    provider, event_id = children.get("Provider"), children.get("EventID")
    if provider is None or event_id is None or provider.children:
        return None
    provider_attributes = _attributes(provider)
    event_id_attributes = _attributes(event_id)
    if not set(event_id_attributes) <= {"Qualifiers"} or "" in provider_attributes:
        return None
    channel, computer = children.get("Channel"), children.get("Computer")
    return (provider_attributes.get("Guid"), event_id_attributes.get("Qualifiers"),
            _one(channel.children) if channel is not None else None,
            _one(computer.children) if computer is not None else None)


def _event_data(element: _Element) -> tuple[tuple, Source | None] | None:
    """The (Name, value) sources of an ``<EventData>``'s items and its ``<Binary>``."""
    if element.name != "EventData" or element.attributes:
        return None
    items: list[tuple[Source | None, Source | None]] = []
    binary: Source | None = None
    for k, child in enumerate(element.children):
        if not isinstance(child, _Element) or any(isinstance(c, _Element)
                                                  for c in child.children):
            return None
        value = _one(child.children)
        if value is False:
            return None
        if child.name == "Binary" and k == len(element.children) - 1 \
                and not child.attributes and isinstance(value, int):
            binary = value
            continue
        attributes = _attributes(child)
        if child.name != "Data" or not set(attributes) <= {"Name"} \
                or attributes.get("Name") is False:
            return None
        items.append((attributes.get("Name"), value))
    return tuple(items), binary


class RecordBuilder:
    """The plans and programs of one log's templates, and its strings, remembered."""

    def __init__(self, templates: TemplateCache) -> None:
        self.templates = templates
        self._plans: dict[int, tuple[Template, Plan | None]] = {}
        self._programs: dict[tuple, tuple[Template, _Program | None]] = {}
        self.strings = _Strings()

    def plan(self, template: Template) -> Plan | None:
        """The template's :class:`Plan` (``None``: its records are not built)."""
        known = self._plans.get(id(template))
        if known is not None and known[0] is template:
            return known[1]
        if len(self._plans) >= MAX_REMEMBERED:
            self._plans.clear()
        plan = plan_of(template) if template.system is not None else None
        self._plans[id(template)] = (template, plan)
        return plan

    def program(self, template: Template, types: tuple[int, ...], nested: bool = False
                ) -> _Program | None:
        """How the records of ``template`` whose values have ``types`` are built
        (``nested``: the template of a nested EventData)."""
        key = (id(template), types, nested)
        known = self._programs.get(key)
        if known is not None and known[0] is template:
            return known[1]
        if len(self._programs) >= MAX_REMEMBERED:
            self._programs.clear()
        if nested:
            data_plan = _event_data_plan(template)
            program = _compile(None, types, data_plan, template.system) \
                if data_plan is not None else None
        else:
            plan = self.plan(template)
            program = _compile(plan, types, None, template.system) if plan is not None \
                else None
        self._programs[key] = (template, program)
        return program


_UNSEEN = object()


class _Strings:
    """UTF-16 values to text as evtx reads them (up to the first NUL), the short ones
    remembered (a log repeats its computer, channel and device names; a long value is rare
    and would hold memory); ``None``: not built."""

    def __init__(self) -> None:
        self._known: dict[bytes, str | None] = {}

    def text(self, value: bytes) -> str | None:
        known = self._known.get(value, _UNSEEN)
        if known is not _UNSEEN:
            return known  # type: ignore[return-value]
        try:
            text: str | None = value.decode("utf-16le").partition("\x00")[0]
        except UnicodeDecodeError:
            text = None
        if len(value) <= REMEMBERED_BYTES:
            if len(self._known) >= MAX_REMEMBERED:
                self._known.clear()
            self._known[value] = text
        return text


@dataclass(frozen=True, slots=True)
class _Program:
    """A plan for one list of value types: the sources of GUID, qualifiers, channel and
    computer, of the EventData items and binary (or the nested EventData's index), and the
    values to check though not read."""

    system: tuple[tuple, ...]
    data: tuple[tuple, ...]
    binary: tuple | None
    nested: int | None
    checks: tuple[tuple[int, int], ...]


_EMPTY = ("text", "")


def _compile(plan: Plan | None, types: tuple[int, ...], data_plan: tuple | None,
             system: tuple[int, ...] | None) -> _Program | None:
    """The program of ``plan`` (a record's) or ``data_plan`` (a nested EventData's) for
    values of ``types``; ``None`` when a value is not one evtx surely renders."""
    read: set[int] = set()

    def source(value: Source | None, array: bool = False) -> tuple | None:
        if value is None:
            return _EMPTY
        if isinstance(value, str):
            return ("text", value)
        if value >= len(types):
            return None
        value_type = types[value]
        read.add(value)
        if value_type == 0:
            return _EMPTY
        if value_type == STRING_ARRAY and not array:
            return None
        return (value, value_type) if value_type in _CONVERT or value_type == STRING else None

    if plan is not None:
        system_sources = [source(s) for s in (plan.guid, plan.qualifiers, plan.channel,
                                              plan.computer)]
        items, binary_at, nested = plan.data, plan.binary, plan.nested
    else:
        system_sources, (items, binary_at), nested = [], data_plan, None
    data = []
    for name, value in items:
        pair = (source(name) if name is not None else None, source(value, array=True))
        if (name is not None and pair[0] is None) or pair[1] is None:
            return None
        data.append(pair)
    binary = None
    if binary_at is not None:
        if not isinstance(binary_at, int) or binary_at >= len(types) \
                or types[binary_at] not in (0, _BINARY):
            return None
        binary = (binary_at,)
        read.add(binary_at)
    if nested is not None:
        if nested >= len(types) or types[nested] not in (0, BINXML):
            return None
        read.add(nested)
    if None in system_sources:
        return None
    known = set(system[3:5]) if system is not None and plan is not None else set()
    if system is not None and plan is not None:
        known.add(system[0])  # provider name, read exactly by the batch
    checks = []
    for index, value_type in enumerate(types):
        if index in read or index in known or value_type in _PLAIN_TYPES:
            continue
        if value_type != STRING and value_type not in _CHECK:
            return None
        checks.append((index, value_type))
    return _Program(tuple(system_sources), tuple(data), binary, nested, tuple(checks))


@cache
def _event_data_plan(template: Template) -> tuple[tuple, Source | None] | None:
    """The (Name, value) sources and binary of a nested template that is an EventData."""
    root = _tree(template.events)
    return None if root is None or not skeleton_sound(template.events) else _event_data(root)


def skeleton_sound(events: tuple[tuple, ...]) -> bool:
    """Whether a template's own text, its substitutions standing for a plain value, is XML the
    rendered path parses unchanged: literal texts without what a parser changes or refuses,
    and the whole well-formed for lxml (a namespace that is not a valid URI, an undeclared
    prefix or a repeated attribute make ``evtx``'s rendering fail to parse; a built record
    must not exist where the rendered one does not)."""
    parts: list[str] = []
    stack: list[list] = []  # [name, content seen]
    in_attribute = False
    for event in events:
        kind = event[0]
        if kind in ("text", "sub"):
            text = event[1] if kind == "text" else "x"
            unsafe = _UNSAFE_ATTRIBUTE if in_attribute else _UNSAFE_TEXT
            if unsafe.search(text):
                return False
            parts.append(xml_escape(text, _QUOTE) if in_attribute else xml_escape(text))
            continue
        if in_attribute:
            parts.append('"')
            in_attribute = False
        if kind == "open":
            parts.append(f"<{event[1]}")
            stack.append([event[1], False])
        elif kind == "attr":
            parts.append(f' {event[1]}="')
            in_attribute = True
        elif kind == "content" and stack:
            parts.append(">")
            stack[-1][1] = True
        elif kind == "close" and stack:
            name, content = stack.pop()
            parts.append(f"</{name}>" if content else "/>")
    try:  # the parser the rendered path reads records with
        parse_event_xml("".join(parts))
    except etree.XMLSyntaxError:
        return False
    return True


_QUOTE = {'"': "&quot;"}


def _filetime_text(value: bytes) -> str | None:
    """A FILETIME as evtx renders it (:func:`~evtxmpio.ingest.evtx_pyrender.filetime_text`),
    ``None`` outside the times the analysis can hold."""
    (filetime,) = _U64(value)
    return filetime_text(filetime) if FILETIME_MIN <= filetime <= FILETIME_MAX else None


def _string_array(value: bytes) -> list[str] | None:
    """The strings of a string array (each ends with a NUL, as evtx reads them until the
    value's end; one that does not is not built)."""
    if len(value) % 2 or (value and value[-2:] != b"\x00\x00"):
        return None
    try:
        return value.decode("utf-16le").split("\x00")[:-1]
    except UnicodeDecodeError:
        return None


def _sid(value: bytes) -> str | None:
    """``""`` for a well-formed SID (revision 1, its sub-authorities all there)."""
    return "" if len(value) >= 8 and value[0] == 1 and len(value) == 8 + 4 * value[1] \
        else None


def _integer(signed: bool) -> object:
    def convert(value: bytes) -> str:
        return str(int.from_bytes(value, "little", signed=signed))
    return convert


def _hex(value: bytes) -> str:
    return f"0x{int.from_bytes(value, 'little'):x}"


def _guid(value: bytes) -> str:
    return str(uuid.UUID(bytes_le=value)).upper()


# Value type -> its text as evtx renders it (the descriptor sizes are checked by the batch):
# the types a read value may have. Strings are read by _Strings.
_CONVERT: dict[int, object] = {
    **{value_type: _integer(signed) for value_type, (_, signed) in INTEGERS.items()},
    0x14: _hex, 0x15: _hex, _GUID: _guid, FILETIME: _filetime_text,
    STRING_ARRAY: _string_array}
# Value types checked, though not read: their check.
_CHECK: dict[int, object] = {FILETIME: _filetime_text, STRING_ARRAY: _string_array,
                             _SID: _sid}
