"""Turn one ``<Event>`` element (any reader's XML rendering) into a :class:`RawRecord`.

Shared by the Event XML reader, the tracerpt XML reader and the .evtx backends, so that every
source of XML gives the same record shape. Handles the rendering differences of domain
reference section 1.4: hex (wevtutil) or base64 (python-evtx) ``<Binary>``, python-evtx's
``<string>`` blobs for classic multi-string events, any ``SystemTime`` precision and zone.
"""

from __future__ import annotations

import dataclasses
import re
from sys import intern
from typing import NamedTuple

from lxml import etree

from evtxmpio.catalog import field_int
from evtxmpio.ingest.event_text import (
    canonical_value,
    decode_binary,
    record_kind,
    refined_time,
    rendered_record,
    unescape_entities,
)
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord, raw_record

_STRING_ITEM = re.compile(r"<string>(.*?)</string>", re.DOTALL)
# Readers that render a string array as one <Data> per string, never as python-evtx's blob
# (the python backend renders arrays as evtx does: evtx_pyrender).
ARRAYS_AS_DATA = frozenset({"evtx-rs", "python-evtx"})


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

    The Rust backend renders every record in one layout (:mod:`evtxmpio.ingest.event_text`);
    text in that layout, with nothing an XML parser would change (entity or character
    references, carriage returns, characters XML forbids, ``]]>``), is read by regular
    expressions, without a tree.
    Any other text goes through lxml. Both give the same record (``tests/ingest``).

    Raises:
        etree.XMLSyntaxError: as :func:`parse_event_xml`.
    """
    record = rendered_record(text, source_path, reader, kind, source_offset, header_time_ns)
    if record is None:
        return event_to_record(parse_event_xml(text), source_path, reader, kind, source_offset,
                               header_time_ns=header_time_ns)
    return record


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


def _event_data(parts: dict[str, etree._Element], blobs: bool = True
                ) -> tuple[tuple[tuple[str | None, str], ...], str | None]:
    """EventData/UserData items and the raw Binary text (``parts``: the ``<Event>``'s
    :func:`_children`; ``blobs``: see :func:`_data_items`)."""
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
                items.extend(_data_items(element, blobs))
        return tuple(items), binary_text
    user_data = parts.get("UserData")
    if user_data is not None:
        for element in user_data.iter():
            if len(element) == 0 and element is not user_data and isinstance(element.tag, str):
                items.append((_local(element.tag), canonical_value(element.text or "")))
    return tuple(items), binary_text


def _data_items(element: etree._Element, blobs: bool = True) -> list[tuple[str | None, str]]:
    """A ``<Data>``'s items; ``blobs``: an unnamed one whose text starts with ``<string>`` may
    be python-evtx's rendering of a string array (one blob), split into its strings. Not for a
    reader that renders an array as one ``<Data>`` per string (:data:`ARRAYS_AS_DATA`): there
    such a text is the value itself."""
    name = element.get("Name") or None
    text = canonical_value(element.text or "")
    if blobs and name is None and text.startswith("<string>"):
        # python-evtx renders a classic event's string array as one escaped blob.
        return [(None, canonical_value(unescape_entities(item)))
                for item in _STRING_ITEM.findall(text)]
    return [(name, text)]


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
    data, binary_text = _event_data(parts, reader not in ARRAYS_AS_DATA)
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
    time_ns = refined_time(parse_iso_ns(fields.time, default_offset_minutes) if fields.time
                       else None, header_time_ns)
    binary = decode_binary(fields.binary)
    event_id = field_int(fields.event_id)
    corrupted = event_id is None or time_ns is None or (
        fields.binary is not None and binary is None)
    provider = fields.provider
    kind = record_kind(provider, fields.guid, kind)
    # In RawRecord's field order (checked at import below), by model.raw_record: on every
    # record kept. A log repeats a handful of providers, channels and computers: one string
    # each.
    return raw_record(kind, time_ns, intern(provider), event_id, source_path, reader,
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
