"""Binary XML (BinXML) for EVTX event records: template definitions and substitution values.

Spec: libyal "Windows XML Event Log (EVTX)", section "Binary XML"
(https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc)
and [MS-EVEN6] section 3.1.4.7.

A record is a fragment header plus one TemplateInstance. The template holds the element tree of
the event with one substitution per value; the record carries only the typed values. One
template is compiled per :class:`EventShape` (which optional elements are present, how many
``<Data>`` items, their names), so a long log reuses a handful of templates per chunk.
Substitution indices put the fixed-size values first, so one ``struct`` call packs them all.

Two layouts of ``<EventData>``: *flat* (its ``<Data>`` items are substitutions of the Event
template) and *windows* (the Event template holds one BinXml substitution in place of
``<EventData>``, whose value is a fragment with a template of its own: ``binxml_data.py``).
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from evtxmpio.catalog import EVENT_NAMESPACE

if TYPE_CHECKING:
    from evtxmpio.replay.events import SystemEvent

# Tokens (libyal "Token types"); 0x40 marks "more attributes/data follow".
TOKEN_EOF = 0x00
TOKEN_OPEN_START_ELEMENT = 0x01
TOKEN_CLOSE_START_ELEMENT = 0x02
TOKEN_CLOSE_EMPTY_ELEMENT = 0x03
TOKEN_END_ELEMENT = 0x04
TOKEN_VALUE = 0x05
TOKEN_ATTRIBUTE = 0x06
TOKEN_TEMPLATE_INSTANCE = 0x0C
TOKEN_NORMAL_SUBSTITUTION = 0x0D
TOKEN_OPTIONAL_SUBSTITUTION = 0x0E
FLAG_MORE = 0x40
FRAGMENT_HEADER = b"\x0f\x01\x01\x00"

# Value types (libyal "Value types").
TYPE_NULL = 0x00
TYPE_STRING = 0x01
TYPE_UINT8 = 0x04
TYPE_UINT16 = 0x06
TYPE_UINT32 = 0x08
TYPE_UINT64 = 0x0A
TYPE_BINARY = 0x0E
TYPE_GUID = 0x0F
TYPE_FILETIME = 0x11
TYPE_HEX_INT64 = 0x15
TYPE_BINXML = 0x21
TYPE_STRING_ARRAY = 0x81

EVTX_LAYOUTS = ("flat", "windows")
"""Where a written record's ``<EventData>`` goes (workload key ``evtx_layout``)."""
STRING_BUCKETS = 64
TEMPLATE_BUCKETS = 32
TEMPLATE_HEADER_SIZE = 24  # next offset, GUID, data size
_NO_DEPENDENCY = 0xFFFF


def name_hash(name: str) -> int:
    """Return the 16-bit name hash Windows stores with a chunk name string (x * 65599 + c)."""
    value = 0
    for code_unit in memoryview(name.encode("utf-16-le")).cast("H"):
        value = (value * 65599 + code_unit) & 0xFFFFFFFF
    return value & 0xFFFF


@lru_cache(maxsize=4096)
def guid_bytes(text: str) -> bytes:
    """Return the 16 on-disk (mixed-endian) bytes of a ``{...}`` GUID string."""
    return uuid.UUID(text.strip("{}")).bytes_le


@dataclass(frozen=True, slots=True)
class Substitution:
    """A template slot filled per record: index into the record's value array."""

    index: int
    value_type: int
    optional: bool = True


@dataclass(frozen=True, slots=True)
class Element:
    """A template element: attributes and children are literals or substitutions."""

    name: str
    attributes: tuple[tuple[str, str | Substitution], ...] = ()
    children: tuple[Element | str | Substitution, ...] = ()


@dataclass(frozen=True, slots=True)
class EventShape:
    """Everything about an event that changes its template (not its values)."""

    has_qualifiers: bool
    has_guid: bool
    has_source_name: bool
    has_version: bool
    has_opcode: bool
    has_process_id: bool
    has_thread_id: bool
    data_count: int
    data_names: tuple[str, ...] | None
    has_binary: bool

    @classmethod
    def of(cls, event: SystemEvent) -> EventShape:
        """Return the shape of ``event``; raise ValueError if its data names do not fit."""
        if event.data_names is not None and len(event.data_names) != len(event.data):
            raise ValueError(
                f"record {event.record_id}: {len(event.data_names)} data names "
                f"for {len(event.data)} data values"
            )
        return cls(*shape_key(event))


def shape_key(event: SystemEvent) -> tuple:
    """Return the hashable tuple behind :meth:`EventShape.of` (cheap, for cache look-ups)."""
    return (
        event.qualifiers is not None,
        event.provider_guid is not None,
        event.event_source_name is not None,
        event.version is not None,
        event.opcode is not None,
        event.process_id is not None,
        event.thread_id is not None,
        len(event.data),
        event.data_names,
        event.binary is not None,
    )


class _Slots:
    """Hands out substitution indices in the order the values are packed."""

    def __init__(self) -> None:
        self.types: list[int] = []

    def add(self, value_type: int, optional: bool = True) -> Substitution:
        self.types.append(value_type)
        return Substitution(len(self.types) - 1, value_type, optional)


def _fixed_slots(shape: EventShape, slots: _Slots) -> dict[str, Substitution]:
    subs = {
        "level": slots.add(TYPE_UINT8),
        "task": slots.add(TYPE_UINT16),
        "keywords": slots.add(TYPE_HEX_INT64),
        "time": slots.add(TYPE_FILETIME),
        "record_id": slots.add(TYPE_UINT64),
        "event_id": slots.add(TYPE_UINT16),
    }
    optional = (
        ("qualifiers", shape.has_qualifiers, TYPE_UINT16),
        ("version", shape.has_version, TYPE_UINT8),
        ("opcode", shape.has_opcode, TYPE_UINT8),
        ("process_id", shape.has_process_id, TYPE_UINT32),
        ("thread_id", shape.has_thread_id, TYPE_UINT32),
        ("guid", shape.has_guid, TYPE_GUID),
    )
    for name, present, value_type in optional:
        if present:
            subs[name] = slots.add(value_type)
    return subs


def _system_element(shape: EventShape, subs: dict[str, Substitution]) -> Element:
    provider = [("Name", subs["provider"])]
    if shape.has_guid:
        provider.append(("Guid", subs["guid"]))
    if shape.has_source_name:
        provider.append(("EventSourceName", subs["source_name"]))
    qualifiers = (("Qualifiers", subs["qualifiers"]),) if shape.has_qualifiers else ()
    children = [
        Element("Provider", tuple(provider)),
        Element("EventID", qualifiers, (subs["event_id"],)),
    ]
    if shape.has_version:
        children.append(Element("Version", children=(subs["version"],)))
    children += [Element("Level", children=(subs["level"],))]
    children += [Element("Task", children=(subs["task"],))]
    if shape.has_opcode:
        children.append(Element("Opcode", children=(subs["opcode"],)))
    children += [
        Element("Keywords", children=(subs["keywords"],)),
        Element("TimeCreated", (("SystemTime", subs["time"]),)),
        Element("EventRecordID", children=(subs["record_id"],)),
    ]
    execution = [(name, subs[key]) for name, key in _EXECUTION if key in subs]
    if execution:
        children.append(Element("Execution", tuple(execution)))
    children += [
        Element("Channel", children=(subs["channel"],)),
        Element("Computer", children=(subs["computer"],)),
        Element("Security"),
    ]
    return Element("System", children=tuple(children))


_EXECUTION = (("ProcessID", "process_id"), ("ThreadID", "thread_id"))


def _event_data_element(shape: EventShape, subs: dict[str, Substitution]) -> Element:
    children: list[Element] = []
    for position, sub in enumerate(subs["data"]):
        attributes = ()
        if shape.data_names is not None:
            attributes = (("Name", shape.data_names[position]),)
        children.append(Element("Data", attributes, (sub,)))
    if shape.has_binary:
        children.append(Element("Binary", children=(subs["binary"],)))
    return Element("EventData", children=tuple(children))


class CompiledShape:
    """Template tree, identity and value packer for one :class:`EventShape`.

    Attributes:
        shape: the shape compiled.
        guid: the 16-byte template identifier (a digest of the shape, so files are reproducible).
        template_id: first 4 bytes of ``guid``, as Windows repeats them in the instance.
        root: the ``<Event>`` element tree with substitutions.
        value_types: value type per substitution index.
    """

    def __init__(self, shape: EventShape, nested: bool = False) -> None:
        self.shape = shape
        self.nested = nested
        identity = repr(shape) + (" nested" if nested else "")
        self.guid = hashlib.md5(identity.encode("utf-8")).digest()
        self.template_id = int.from_bytes(self.guid[:4], "little")
        slots = _Slots()
        subs: dict = _fixed_slots(shape, slots)
        self._fixed_count = len(slots.types)
        self._fixed_format = "<" + "".join(_STRUCT_CODE[t] for t in slots.types)
        subs["provider"] = slots.add(TYPE_STRING, optional=False)
        if shape.has_source_name:
            subs["source_name"] = slots.add(TYPE_STRING, optional=False)
        subs["channel"] = slots.add(TYPE_STRING, optional=False)
        subs["computer"] = slots.add(TYPE_STRING, optional=False)
        if nested:
            event_data: Element | Substitution = slots.add(TYPE_BINXML)
        else:
            subs["data"] = [slots.add(TYPE_STRING, optional=False) for _ in range(shape.data_count)]
            if shape.has_binary:
                subs["binary"] = slots.add(TYPE_BINARY, optional=False)
            event_data = _event_data_element(shape, subs)
        self.value_types = tuple(slots.types)
        self.root = Element(
            "Event", (("xmlns", EVENT_NAMESPACE),), (_system_element(shape, subs), event_data)
        )
        self._prefix = struct.pack("<I", len(slots.types)) + b"".join(
            struct.pack("<HBB", _FIXED_SIZE[t], t, 0) for t in slots.types[: self._fixed_count]
        )
        variable_types = slots.types[self._fixed_count :]
        self._variable_types = tuple(variable_types)
        self._variable_format = "<" + "HH" * len(variable_types)

    def encode_values(self, event: SystemEvent, filetime: int) -> bytes:
        """Return the template instance data (count, descriptors, values) of ``event``.

        A nested shape ends with its BinXml value, left empty (size 0) here: the writer appends
        it and sets its size with :func:`set_last_size`, once it knows where it lands.

        Raises:
            ValueError: a value does not fit its type (integer range, 65535-byte value limit).
        """
        shape = self.shape
        fixed = [event.level, event.task, event.keywords, filetime, event.record_id, event.event_id]
        for present, value in (
            (shape.has_qualifiers, event.qualifiers),
            (shape.has_version, event.version),
            (shape.has_opcode, event.opcode),
            (shape.has_process_id, event.process_id),
            (shape.has_thread_id, event.thread_id),
        ):
            if present:
                fixed.append(value)
        if shape.has_guid:
            fixed.append(guid_bytes(event.provider_guid))
        variable = [event.provider.encode("utf-16-le")]
        if shape.has_source_name:
            variable.append(event.event_source_name.encode("utf-16-le"))
        variable.append(event.channel.encode("utf-16-le"))
        variable.append(event.computer.encode("utf-16-le"))
        if self.nested:
            variable.append(b"")
        else:
            variable += [text.encode("utf-16-le") for text in event.data]
            if shape.has_binary:
                variable.append(bytes(event.binary))
        descriptors = [0] * (2 * len(variable))
        descriptors[0::2] = [len(value) for value in variable]
        descriptors[1::2] = self._variable_types
        try:
            return b"".join(
                (
                    self._prefix,
                    struct.pack(self._variable_format, *descriptors),
                    struct.pack(self._fixed_format, *fixed),
                    *variable,
                )
            )
        except struct.error as exc:
            raise ValueError(f"record {event.record_id}: value out of range: {exc}") from None


_STRUCT_CODE = {
    TYPE_UINT8: "B",
    TYPE_UINT16: "H",
    TYPE_UINT32: "I",
    TYPE_UINT64: "Q",
    TYPE_HEX_INT64: "Q",
    TYPE_FILETIME: "Q",
    TYPE_GUID: "16s",
}
_FIXED_SIZE = {TYPE_UINT8: 1, TYPE_UINT16: 2, TYPE_UINT32: 4, TYPE_UINT64: 8}
_FIXED_SIZE |= {TYPE_HEX_INT64: 8, TYPE_FILETIME: 8, TYPE_GUID: 16}


def set_last_size(values: bytearray, size: int) -> None:
    """Set the size descriptor of the last value in instance data from ``encode_values``."""
    (count,) = struct.unpack_from("<I", values, 0)
    struct.pack_into("<H", values, 4 * count, size)


@lru_cache(maxsize=1024)
def compile_shape(key: tuple) -> CompiledShape:
    """Return the compiled template for a :func:`shape_key` tuple (cached)."""
    return CompiledShape(EventShape(*key))


_SYSTEM_PART = 7  # shape_key fields before data_count: what the Event template of a nested
# layout depends on (its EventData is a value)


@lru_cache(maxsize=1024)
def compile_nested_shape(system_key: tuple) -> CompiledShape:
    """Return the Event template whose EventData is one BinXml value, for :func:`system_key`."""
    return CompiledShape(EventShape(*system_key, 0, None, False), nested=True)


def system_key(key: tuple) -> tuple:
    """Return the part of a :func:`shape_key` tuple that shapes the ``<System>`` element."""
    return key[:_SYSTEM_PART]
