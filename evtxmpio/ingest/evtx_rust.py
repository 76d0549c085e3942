"""Binary .evtx through the Rust-backed ``evtx`` package (pyevtx-rs), the fast backend.

Spec: libyal libevtx EVTX format (see :mod:`evtxmpio.ingest.evtx`); API: pyevtx-rs
``PyEvtxParser(file_like, number_of_threads=..., skip_errors=...)``, ``records()`` yields
``{"event_record_id", "timestamp", "data"}`` with ``data`` the event rendered as XML.

The shared chunk walk (:func:`evtxmpio.ingest.evtx.walk_chunks`) hands over one chunk at a
time; each is decoded as a one-chunk file (original header, chunk count fixed up), so memory
stays one chunk and every record is tied to its chunk (offsets, damage, cuts). ``evtx`` raises
from inside iteration on damaged data, so errors are caught around ``next()`` and the walk goes
on. When the pipeline names its relevant providers, a record's provider is read from the XML
text with a regex and other records are counted ``not-relevant`` before lxml builds anything
(DESIGN.md: decide relevance before building Python objects).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from lxml import etree

from evtxmpio.ingest.base import IngestIssue, ReadOptions, SkippedRecords, Source
from evtxmpio.ingest.evtx import (
    ChunkToDecode,
    ReadItem,
    damaged_chunk_issue,
    walk_chunks,
)
from evtxmpio.ingest.evtx_chunks import build_file, record_offsets
from evtxmpio.ingest.timefmt import filetime_to_ns, parse_iso_ns
from evtxmpio.ingest.xmlevent import event_to_record, parse_event_xml

READER = "evtx-rs"
MAX_ERRORS_PER_CHUNK = 1000
_PROVIDER = re.compile(r"<Provider Name=\"([^\"]*)\"")
_RECORD_ID = re.compile(r"<EventRecordID>(\d+)</EventRecordID>")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}


def read_evtx_rust(source: Source, options: ReadOptions | None = None) -> Iterator[ReadItem]:
    """Yield every record ``evtx`` decodes, chunk by chunk, with issues for the rest."""
    options = options or ReadOptions()
    for item in walk_chunks(source, options):
        if isinstance(item, ChunkToDecode):
            yield from _decode_chunk(item, source.name, options)
        else:
            yield item


def _decode_chunk(chunk: ChunkToDecode, name: str, options: ReadOptions) -> Iterator[ReadItem]:
    from evtx import PyEvtxParser

    info = chunk.info
    offsets = record_offsets(chunk.data, chunk.cut)
    parser = PyEvtxParser(io.BytesIO(build_file(chunk.header, [chunk.data])),
                          number_of_threads=options.threads, skip_errors=False)
    records = parser.records()
    damaged = not info.intact
    decoded = 0
    errors = 0
    while errors < MAX_ERRORS_PER_CHUNK:
        try:
            raw = next(records)
        except StopIteration:
            break
        except Exception as exc:  # evtx raises RuntimeError (and others) on damaged data
            errors += 1
            if chunk.cut is None:
                damaged = True
                yield IngestIssue(name, info.offset, "evtx.bad-record",
                                  f"chunk {info.index}: {exc}"[:200], records_failed=1)
            continue
        located = offsets.get(raw["event_record_id"])
        if chunk.cut is not None and (located is None or located[0] + located[1] > chunk.cut):
            continue  # the record runs past the cut: not a complete record
        item = _to_item(raw, located, info.offset, name, options.prefilter_providers)
        decoded += not isinstance(item, IngestIssue)
        yield item
    if damaged:
        yield damaged_chunk_issue(name, info, decoded)


def _to_item(raw: dict, located: tuple[int, int, int] | None, chunk_offset: int, name: str,
             providers: frozenset[str] | None) -> ReadItem:
    xml: str = raw["data"]
    if located is not None:
        offset: int | None = chunk_offset + located[0]
        header_ns: int | None = filetime_to_ns(located[2])
    else:
        offset = None
        header_ns = parse_iso_ns(raw.get("timestamp") or "")
    if providers is not None:
        match = _PROVIDER.search(xml)
        provider = _unescape(match.group(1)).lower() if match else ""
        if provider not in providers:
            record_id = _RECORD_ID.search(xml)
            return SkippedRecords(name, 1, "not-relevant", offset,
                                  int(record_id.group(1)) if record_id else None, header_ns)
    try:
        element = parse_event_xml(xml)
    except etree.XMLSyntaxError as exc:
        return IngestIssue(name, offset, "evtx.bad-record-xml", f"{exc}"[:200],
                           records_failed=1)
    return event_to_record(element, name, READER, "system:evtx:event", offset,
                           header_time_ns=header_ns)


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text
