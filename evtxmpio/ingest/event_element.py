"""Turn one ``<Event>`` element (any reader's XML rendering) into a :class:`RawRecord`.

Shared by the Event XML reader, the tracerpt XML reader and the .evtx backends, so that every
source of XML gives the same record shape. Handles the rendering differences of domain
reference section 1.4: hex (wevtutil) or base64 (python-evtx) ``<Binary>``, python-evtx's
``<string>`` blobs for classic multi-string events, any ``SystemTime`` precision and zone.
"""

from __future__ import annotations

import base64
import binascii
import re
from sys import intern

from lxml import etree

from evtxmpio.catalog import trace_providers
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

_STRING_ITEM = re.compile(r"<string>(.*?)</string>", re.DOTALL)
_HEX = re.compile(r"^[0-9A-Fa-f\s]*$")
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
            found.setdefault(_local(child.tag), child)
    return found


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def decode_binary(text: str | None) -> bytes | None:
    """``<Binary>`` text to bytes: hex (wevtutil, Rust evtx) or base64 (python-evtx)."""
    if text is None:
        return None
    stripped = "".join(text.split())
    if not stripped:
        return b""
    if _HEX.match(stripped) and len(stripped) % 2 == 0:
        return bytes.fromhex(stripped)
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return None


def _event_data(event: etree._Element) -> tuple[tuple[tuple[str | None, str], ...], str | None]:
    """EventData/UserData items and the raw Binary text."""
    items: list[tuple[str | None, str]] = []
    binary_text: str | None = None
    container = _child(event, "EventData")
    if container is not None:
        for element in container:
            name = _local(element.tag)
            if name == "Binary":
                binary_text = element.text or ""
            elif name == "Data":
                items.extend(_data_items(element))
        return tuple(items), binary_text
    user_data = _child(event, "UserData")
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
    system = _children(_child(event, "System"))
    provider_el = system.get("Provider")
    event_id_el = system.get("EventID")
    time_el = system.get("TimeCreated")
    provider = (provider_el.get("Name") or "") if provider_el is not None else ""
    time_text = time_el.get("SystemTime") if time_el is not None else None
    time_ns = parse_iso_ns(time_text, default_offset_minutes) if time_text else None
    if (header_time_ns is not None and time_ns is not None and time_ns % 1000 == 0
            and header_time_ns // 1000 == time_ns // 1000):
        time_ns = header_time_ns
    data, binary_text = _event_data(event)
    binary = decode_binary(binary_text)
    rendering = _child(event, "RenderingInfo")
    message_el = _child(rendering, "Message")
    task_el = _child(rendering, "Task")
    event_id = _int(event_id_el.text if event_id_el is not None else None)
    corrupted = event_id is None or time_ns is None or (binary_text is not None and binary is None)
    guid = (provider_el.get("Guid") or "").strip("{}").lower() if provider_el is not None else ""
    if provider.lower() in TRACE_PROVIDERS and guid in TRACE_GUIDS:
        kind = "etw:mpio:trace"
    return RawRecord(
        kind=kind,
        time_ns=time_ns,
        # A log repeats a handful of providers, channels and computers: one string each.
        provider=intern(provider),
        event_id=event_id,
        source_path=source_path,
        reader=reader,
        qualifiers=_int(event_id_el.get("Qualifiers")) if event_id_el is not None else None,
        level=_int(_text(system.get("Level"))),
        record_id=_int(_text(system.get("EventRecordID"))),
        channel=intern(_text(system.get("Channel")) or ""),
        computer=intern(_text(system.get("Computer")) or ""),
        data=data,
        binary=binary,
        message=_text(message_el),
        task_name=_text(task_el),
        source_offset=source_offset,
        corrupted=corrupted,
    )


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return canonical_value(element.text) if element.text is not None else ""
