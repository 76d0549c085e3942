"""Windows Event XML exports.

Spec: the event schema http://schemas.microsoft.com/win/2004/08/events/event; shapes from
domain reference section 5: Event Viewer "Save as XML" (``<?xml?>`` + ``<Events>`` root) and
``wevtutil qe /f:xml`` (bare ``<Event>`` elements back to back, no root, any quote style,
UTF-8 or UTF-16 with BOM).

The file is decoded incrementally and fed to an lxml pull parser inside a synthetic root, so
both shapes stream in bounded memory. Entities and DTDs are never resolved and the network is
never touched; a file with a DOCTYPE is hostile and is rejected with an issue. A file cut in the
middle keeps every complete ``<Event>`` before the cut and reports the cut.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterator

from lxml import etree

from evtxmpio.ingest.base import IngestIssue, InputFormat, SkippedRecords, Source, register
from evtxmpio.ingest.xmlevent import event_to_record
from evtxmpio.model import RawRecord

FEED_CHARS = 1 << 20
_ROOT = "evtxmpio-root"
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def detect_encoding(head: bytes) -> str:
    """Encoding of an XML file from its BOM, its NUL pattern or its declaration."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    if head[:2] == b"<\x00":
        return "utf-16-le"
    if head[:2] == b"\x00<":
        return "utf-16-be"
    declared = _ENCODING.search(head[:200])
    if declared and not declared.group(1).lower().startswith(b"utf-16"):
        try:
            return codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            return "utf-8"
    return "utf-8"


def head_text(head: bytes) -> str:
    """The first characters of a file as text, whatever its encoding (for sniffers)."""
    return head.decode(detect_encoding(head), errors="ignore").lstrip("\ufeff \t\r\n")


def sniff_event_xml(head: bytes) -> bool:
    """True for an XML document or fragment whose first element is ``Events`` or ``Event``."""
    text = _DECL.sub("", head_text(head), count=1).lstrip()
    while text.startswith("<!--"):
        text = text.partition("-->")[2].lstrip()
    if text.startswith("<!DOCTYPE") and ("<Event" in text or "Events" in text[:200]):
        return True  # hostile or odd: the reader rejects it with a clear reason
    return text.startswith(("<Events", "<Event ", "<Event>"))


def _make_parser() -> etree.XMLPullParser:
    return etree.XMLPullParser(
        events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
        dtd_validation=False, huge_tree=True, remove_comments=True, remove_pis=True,
    )


def _decoded_pieces(source: Source) -> Iterator[str]:
    with source.open() as stream:
        head = stream.read(4096)
        decoder = codecs.getincrementaldecoder(detect_encoding(head))(errors="replace")
        first = decoder.decode(head)
        yield _DECL.sub("", first.lstrip("\ufeff"), count=1)
        while block := stream.read(FEED_CHARS):
            yield decoder.decode(block)
        yield decoder.decode(b"", final=True)


SkipEvent = Callable[[etree._Element], "str | None"]


def read_event_xml(
    source: Source, reader: str = "event-xml", kind: str = "system:xml:event",
    skip_event: SkipEvent | None = None,
) -> Iterator[RawRecord | IngestIssue | SkippedRecords]:
    """Yield one :class:`RawRecord` per complete ``<Event>``, and issues for what is not.

    Args:
        source: the input.
        reader: reader name recorded on each record.
        kind: record kind (trace MPIO/MSDSM events are recognised by provider and GUID).
        skip_event: returns a skip reason for events to count but not build (e.g. the
            trace header of a tracerpt export); they come out as :class:`SkippedRecords`.
    """
    parser = _make_parser()
    parser.feed(f"<{_ROOT}>")
    fed = 0
    last_id: int | None = None
    try:
        for piece in _decoded_pieces(source):
            if "<!DOCTYPE" in piece or "<!ENTITY" in piece:
                yield IngestIssue(source.name, fed, "xml.doctype",
                                  "DOCTYPE/ENTITY declaration found; file rejected as hostile")
                return
            parser.feed(piece)
            fed += len(piece)
            for record in _drain(parser, source.name, reader, kind, skip_event):
                if isinstance(record, RawRecord) and record.record_id is not None:
                    last_id = record.record_id
                yield record
        parser.feed(f"</{_ROOT}>")
        yield from _drain(parser, source.name, reader, kind, skip_event)
    except etree.XMLSyntaxError as exc:
        yield from _drain(parser, source.name, reader, kind, skip_event)
        yield IngestIssue(
            source.name, fed, "xml.truncated",
            f"XML ends or breaks before a complete <Event> ({exc.msg}); "
            f"kept every complete event before it (last EventRecordID {last_id})",
            truncated=True,
        )


def _drain(parser: etree.XMLPullParser, name: str, reader: str, kind: str,
           skip_event: SkipEvent | None) -> Iterator[RawRecord | SkippedRecords]:
    for _, element in parser.read_events():
        if not isinstance(element.tag, str) or element.tag.rpartition("}")[2] != "Event":
            continue
        parent = element.getparent()
        if parent is None or parent.tag.rpartition("}")[2] not in (_ROOT, "Events"):
            continue
        reason = skip_event(element) if skip_event is not None else None
        if reason is not None:
            yield SkippedRecords(name, 1, reason)
        else:
            yield event_to_record(element, name, reader, kind=kind)
        element.clear()
        while element.getprevious() is not None:
            del parent[0]


register(InputFormat("event-xml", sniff=sniff_event_xml, read=read_event_xml, priority=60))
