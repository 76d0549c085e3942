"""Turn one ``<Event>`` element (any reader's XML rendering) into a :class:`RawRecord`.

Shared by the Event XML reader, the tracerpt XML reader and the .evtx backends, so that every
source of XML gives the same record shape. Handles the rendering differences of domain
reference section 1.4: hex (wevtutil) or base64 (python-evtx) ``<Binary>``, python-evtx's
``<string>`` blobs for classic multi-string events, any ``SystemTime`` precision and zone.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from sys import intern
from typing import NamedTuple

from lxml import etree

from evtxmpio.catalog import field_int, trace_providers
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

_STRING_ITEM = re.compile(r"<string>(.*?)</string>", re.DOTALL)
_HEX = re.compile(r"^[0-9A-Fa-f\s]*$")
_HEX_DIGITS = "0123456789abcdefABCDEF"
TRACE_PROVIDERS = frozenset(name.lower() for name in trace_providers())
TRACE_GUIDS = frozenset(guid.strip("{}") for guid in trace_providers().values())


# libxml2's own bounds stay on (no huge_tree): text nodes up to 10 MB, nesting up to 256.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=False, recover=False, remove_comments=True,
                              remove_pis=True)
# Characters XML 1.0 forbids, which .evtx string values can hold (corpus: DNS Analytical logs).
_SURROGATE = re.compile("[\ud800-\udfff]")
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def parse_event_xml(text: str) -> etree._Element:
    """Parse one rendered ``<Event>`` (a .evtx backend's output) with lxml, safely.

    Control characters XML 1.0 forbids are shown as their Unicode "control picture"
    (U+2400 + code) instead of failing the record; both backends do the same.

    Raises:
        etree.XMLSyntaxError: when the text is not well-formed for another reason.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a decoder: shown as U+FFFD
        text = _SURROGATE.sub("\ufffd", text)
        data = text.encode("utf-8")
    try:
        return etree.fromstring(data, _XML_PARSER)
    except etree.XMLSyntaxError:
        if not _FORBIDDEN.search(text):
            raise
        cleaned = _FORBIDDEN.sub(lambda m: chr(0x2400 + ord(m.group())), text)
        return etree.fromstring(cleaned.encode("utf-8"), _XML_PARSER)


def read_event_xml(text: str, source_path: str, reader: str, kind: str,
                   source_offset: int | None = None, header_time_ns: int | None = None
                   ) -> RawRecord:
    """``event_to_record(parse_event_xml(text), ...)``: the record of one rendered ``<Event>``.

    The Rust backend renders every record in one layout (:data:`_RENDERED`); text in that
    layout, with nothing an XML parser would change (entity or character references, carriage
    returns, characters XML forbids, ``]]>``), is read by regular expressions, without a tree.
    Any other text goes through lxml. Both give the same record (``tests/ingest``).

    Raises:
        etree.XMLSyntaxError: as :func:`parse_event_xml`.
    """
    fields = _rendered_fields(text)
    if fields is None:
        return event_to_record(parse_event_xml(text), source_path, reader, kind, source_offset,
                               header_time_ns=header_time_ns)
    return _record(fields, source_path, reader, kind, source_offset, 0, header_time_ns)


# Characters an XML parser would change (references, carriage returns) or refuse (what XML 1.0
# forbids) in a value; values also hold no markup. Of the references, only the five predefined
# entities are read here (:func:`_unescape`).
_PLAIN = r"&\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_ENTITY = "&(?:lt|gt|amp|quot|apos);"
_TEXT = f"[^<{_PLAIN}]*(?:{_ENTITY}[^<{_PLAIN}]*)*"
_VALUE = f'[^"<>\\t\\n{_PLAIN}]*(?:{_ENTITY}[^"<>\\t\\n{_PLAIN}]*)*'


def _attributes(tag: str) -> str:
    """Attributes as the layout writes them: a plain name (not xmlns, which would change the
    element's namespace) not repeated in its tag (lxml refuses that: values hold no '>', so the
    look-ahead stays in the tag), and a value attribute normalization leaves as it is."""
    return (f' (?!xmlns)(?P<{tag}_name>[A-Za-z]+)="{_VALUE}"'
            f'(?![^>]* (?P={tag}_name)=")')


def _leaf(tag: str, group: str | None = None, attributes: str | None = None,
          optional: bool = True) -> str:
    """One ``<System>`` child on its own line: ``<tag ...>text</tag>``."""
    text = f"(?P<{group}>{_TEXT})" if group else _TEXT
    names = f"(?P<{attributes}>(?:{_attributes(tag)})*)" if attributes else \
        f"(?:{_attributes(tag)})*"
    line = f" *<{tag}{names}>{text}</{tag}>\n"
    return f"(?:{line})?" if optional else line


# The layout of the Rust ``evtx`` package: each element on its own line; <System> holds leaves
# in the order of the event schema; <EventData> holds only <Data> leaves, then at most one
# <Binary>. ``]]>`` in a text is looked for apart.
_RENDERED = re.compile(
    '<\\?xml version="1\\.0" encoding="utf-8"\\?>\n'
    '<Event xmlns="http://schemas\\.microsoft\\.com/win/2004/08/events/event">\n'
    ' *<System>\n'
    + _leaf("Provider", attributes="provider", optional=False)
    + _leaf("EventID", "event_id", "event_id_attributes", optional=False)
    + _leaf("Version") + _leaf("Level", "level") + _leaf("Task") + _leaf("Opcode")
    + _leaf("Keywords") + _leaf("TimeCreated", attributes="time", optional=False)
    + _leaf("EventRecordID", "record_id") + _leaf("Correlation") + _leaf("Execution")
    + _leaf("Channel", "channel") + _leaf("Computer", "computer") + _leaf("Security")
    + ' *</System>\n'
    '(?: *<EventData>\n'
    f'(?P<data>(?: *<Data(?: Name="{_VALUE}")?>{_TEXT}</Data>\\n)*)'
    f'(?: *<Binary>(?P<binary>{_TEXT})</Binary>\\n)?'
    ' *</EventData>\n)?'
    '</Event>\n?')
_ATTRIBUTES = re.compile(r' ([A-Za-z]+)="([^"]*)"')
_DATA_ELEMENT = re.compile(r'<Data(?: Name="([^"]*)")?>([^<]*)<')


def _rendered_fields(text: str) -> _Fields | None:
    """The fields of ``text`` in the Rust layout (see :func:`read_event_xml`), else ``None``."""
    match = _RENDERED.fullmatch(text)
    if match is None or "]]>" in text:
        return None
    (provider_attributes, event_id, event_id_attributes, level, time_attributes, record_id,
     channel, computer, data_text, binary) = match.group(*_GROUPS)
    data = tuple((_unescape(name) or None, canonical_value(_unescape(value)))
                 for name, value in _DATA_ELEMENT.findall(data_text)) if data_text else ()
    if "&lt;string&gt;" in text and any(name is None and value.startswith("<string>")
                                         for name, value in data):
        return None  # python-evtx's string blob (see _data_items): left to lxml
    provider = _attribute_values(provider_attributes)
    return _Fields(
        provider.get("Name") or "", provider.get("Guid"), _unescape(event_id),
        _attribute_values(event_id_attributes).get("Qualifiers"),
        _attribute_values(time_attributes).get("SystemTime"), _leaf_text(level),
        _leaf_text(record_id), _leaf_text(channel), _leaf_text(computer), data,
        _unescape(binary) if binary is not None else None, None, None)


_GROUPS = ("provider", "event_id", "event_id_attributes", "level", "time", "record_id",
           "channel", "computer", "data", "binary")


def _attribute_values(attributes: str) -> dict[str, str]:
    return {name: _unescape(value) for name, value in _ATTRIBUTES.findall(attributes)}


def _leaf_text(text: str | None) -> str | None:
    """:func:`_text` of a ``<System>`` child read by :func:`_rendered_fields`."""
    return canonical_value(_unescape(text)) if text is not None else None


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    for child in parent:
        if _local(child.tag) == name:
            return child
    return None


def _children(parent: etree._Element | None) -> dict[str, etree._Element]:
    """Local name -> the first child of that name (what :func:`_child` finds), in one pass."""
    found: dict[str, etree._Element] = {}
    if parent is not None:
        for child in parent:
            tag = child.tag
            # _local(tag), inlined: this runs for every child of every record
            found.setdefault(tag[tag.rfind("}") + 1:] if isinstance(tag, str) else "", child)
    return found


def decode_binary(text: str | None) -> bytes | None:
    """``<Binary>`` text to bytes: hex (wevtutil, Rust evtx) or base64 (python-evtx)."""
    if text is None:
        return None
    if text and len(text) % 2 == 0 and not text.strip(_HEX_DIGITS):
        return bytes.fromhex(text)  # the usual case, hex digits alone, read as below
    stripped = "".join(text.split())
    if not stripped:
        return b""
    if _HEX.match(stripped) and len(stripped) % 2 == 0:
        return bytes.fromhex(stripped)
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return None


def _event_data(parts: dict[str, etree._Element]
                ) -> tuple[tuple[tuple[str | None, str], ...], str | None]:
    """EventData/UserData items and the raw Binary text (``parts``: the ``<Event>``'s
    :func:`_children`)."""
    items: list[tuple[str | None, str]] = []
    binary_text: str | None = None
    container = parts.get("EventData")
    if container is not None:
        for element in container:
            tag = element.tag
            name = tag[tag.rfind("}") + 1:] if isinstance(tag, str) else ""  # _local(tag)
            if name == "Binary":
                binary_text = element.text or ""
            elif name == "Data":
                items.extend(_data_items(element))
        return tuple(items), binary_text
    user_data = parts.get("UserData")
    if user_data is not None:
        for element in user_data.iter():
            if len(element) == 0 and element is not user_data and isinstance(element.tag, str):
                items.append((_local(element.tag), canonical_value(element.text or "")))
    return tuple(items), binary_text


_BARE_GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def canonical_value(text: str) -> str:
    """Undo rendering artefacts so that every reader gives the same value.

    The Rust backend pretty-prints an empty element as a newline plus indentation (so a value
    made only of whitespace with a line break is read as empty, from every reader), and renders
    GUID values without braces; Windows (and python-evtx, see ``evtx_pyrender``) writes
    ``{GUID}``.
    """
    if not text.strip() and "\n" in text:
        return ""
    if len(text) == 36 and _BARE_GUID.match(text):
        return "{" + text + "}"
    return text


def _data_items(element: etree._Element) -> list[tuple[str | None, str]]:
    name = element.get("Name") or None
    text = canonical_value(element.text or "")
    if name is None and text.startswith("<string>"):
        # python-evtx renders a classic event's string array as one escaped blob.
        return [(None, canonical_value(_unescape(item))) for item in _STRING_ITEM.findall(text)]
    return [(name, text)]


def _unescape(text: str) -> str:
    """``text`` with the five predefined entities of XML replaced (each ``&`` starting one)."""
    if "&" not in text:
        return text
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        .replace("&apos;", "'").replace("&amp;", "&")
    )


def event_to_record(
    event: etree._Element, source_path: str, reader: str, kind: str,
    source_offset: int | None = None, default_offset_minutes: int | None = 0,
    header_time_ns: int | None = None,
) -> RawRecord:
    """Build a :class:`RawRecord` from an ``<Event>`` element; never raises for bad fields.

    A field that does not decode is left empty and the record is marked ``corrupted``.
    ``header_time_ns`` is the .evtx record header's FILETIME (100 ns precision): both .evtx
    backends render ``SystemTime`` to the microsecond only, so when the header time falls in
    the same microsecond it replaces the rendered time (full precision, same in both).
    """
    parts = _children(event)
    system = _children(parts.get("System"))
    provider_el = system.get("Provider")
    event_id_el = system.get("EventID")
    time_el = system.get("TimeCreated")
    data, binary_text = _event_data(parts)
    rendering = parts.get("RenderingInfo")
    fields = _Fields(
        provider=(provider_el.get("Name") or "") if provider_el is not None else "",
        guid=provider_el.get("Guid") if provider_el is not None else None,
        event_id=event_id_el.text if event_id_el is not None else None,
        qualifiers=event_id_el.get("Qualifiers") if event_id_el is not None else None,
        time=time_el.get("SystemTime") if time_el is not None else None,
        level=_text(system.get("Level")), record_id=_text(system.get("EventRecordID")),
        channel=_text(system.get("Channel")), computer=_text(system.get("Computer")),
        data=data, binary=binary_text, message=_text(_child(rendering, "Message")),
        task_name=_text(_child(rendering, "Task")))
    return _record(fields, source_path, reader, kind, source_offset, default_offset_minutes,
                   header_time_ns)


class _Fields(NamedTuple):
    """The texts of an ``<Event>`` a record is made of, as the XML holds them (attribute values
    and element texts, ``None`` where the element or attribute is absent; ``level`` to
    ``task_name`` already through :func:`_text`)."""

    provider: str
    guid: str | None
    event_id: str | None
    qualifiers: str | None
    time: str | None
    level: str | None
    record_id: str | None
    channel: str | None
    computer: str | None
    data: tuple[tuple[str | None, str], ...]
    binary: str | None
    message: str | None
    task_name: str | None


def _record(fields: _Fields, source_path: str, reader: str, kind: str,
            source_offset: int | None, default_offset_minutes: int | None,
            header_time_ns: int | None) -> RawRecord:
    """The record of ``fields`` (see :func:`event_to_record`)."""
    time_ns = parse_iso_ns(fields.time, default_offset_minutes) if fields.time else None
    if (header_time_ns is not None and time_ns is not None and time_ns % 1000 == 0
            and header_time_ns // 1000 == time_ns // 1000):
        time_ns = header_time_ns
    binary = decode_binary(fields.binary)
    event_id = field_int(fields.event_id)
    corrupted = event_id is None or time_ns is None or (
        fields.binary is not None and binary is None)
    provider = fields.provider
    if provider.lower() in TRACE_PROVIDERS and (
            (fields.guid or "").strip("{}").lower() in TRACE_GUIDS):
        kind = "etw:mpio:trace"
    # In RawRecord's field order (checked at import below): a call with 17 keywords costs
    # a third more, on every record kept. A log repeats a handful of providers, channels and
    # computers: one string each.
    return RawRecord(kind, time_ns, intern(provider), event_id, source_path, reader,
                     field_int(fields.qualifiers), field_int(fields.level),
                     field_int(fields.record_id),
                     intern(fields.channel or ""), intern(fields.computer or ""), fields.data,
                     binary, fields.message, fields.task_name, source_offset, corrupted)


assert [field.name for field in dataclasses.fields(RawRecord)] == [
    "kind", "time_ns", "provider", "event_id", "source_path", "reader", "qualifiers", "level",
    "record_id", "channel", "computer", "data", "binary", "message", "task_name",
    "source_offset", "corrupted"]


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return canonical_value(element.text) if element.text is not None else ""
