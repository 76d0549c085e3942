"""Binary .evtx through python-evtx, the reference backend.

Spec: libyal libevtx EVTX format (see :mod:`evtxmpio.ingest.evtx_walk`); API: python-evtx
``Evtx.Evtx.ChunkHeader(buf, offset).records()``, ``Record.xml()``. The shared chunk walk
(:func:`evtxmpio.ingest.evtx_walk.walk_chunks`) hands over one chunk at a time; python-evtx
renders typed values its own way, so :mod:`evtxmpio.ingest.evtx_pyrender` renders them as
Windows and the Rust backend do.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from evtxmpio.catalog import filetime_to_ns
from evtxmpio.catalog.relevance import Relevance
from evtxmpio.ingest.base import IngestIssue, ReadOptions, Source, skipped_records
from evtxmpio.ingest.event_element import event_to_record, parse_event_xml
from evtxmpio.ingest.evtx_chunks import looping_links, record_headers
from evtxmpio.ingest.evtx_pyrender import chunk_records, record_xml
from evtxmpio.ingest.evtx_walk import (
    ChunkToDecode,
    ReadItem,
    chain_loop_issue,
    damaged_chunk_issue,
    event_facts,
    walk_chunks,
    walk_issues,
)


def read_evtx_python(source: Source, options: ReadOptions | None = None
                     ) -> Iterator[ReadItem]:
    """Yield every record python-evtx can decode, chunk by chunk, with issues for the rest."""
    relevance = options.record_relevance if options is not None else None
    for item in walk_chunks(source, options):
        if isinstance(item, ChunkToDecode):
            yield from _decode_chunk_python(item, source.name, relevance)
        else:
            yield item


def _decode_chunk_python(chunk: ChunkToDecode, name: str, relevance: Relevance | None
                         ) -> Iterator[ReadItem]:
    info = chunk.info
    walk = walk_issues(name, info, chunk.data, record_headers(chunk.data)) \
        if chunk.cut is None else []
    yield from walk
    loops = looping_links(chunk.data)
    if loops:  # the bounded loaders stop at them (evtx_pyrender); said as the Rust backend does
        yield chain_loop_issue(name, info, loops)
    rendered, walk_error = _render_chunk_python(chunk)
    count = 0
    for offset, xml in rendered:
        if isinstance(xml, Exception):
            yield IngestIssue(name, info.offset + offset, "evtx.bad-record",
                              f"{type(xml).__name__}: {xml}"[:200], records_failed=1)
            continue
        if relevance is not None and not relevance.keeps_xml(xml):
            # Counted like the Rust backend does: before lxml ever sees the record.
            (filetime,) = struct.unpack_from("<Q", chunk.data, offset + 16)
            record_id, time_ns = event_facts(xml, filetime_to_ns(filetime))
            count += 1
            yield skipped_records(name, 1, "not-relevant", info.offset + offset, record_id,
                                 time_ns)
            continue
        try:
            element = parse_event_xml(xml)
        except Exception as exc:  # lxml syntax errors and the like
            yield IngestIssue(name, info.offset + offset, "evtx.bad-record",
                              f"{type(exc).__name__}: {exc}"[:200], records_failed=1)
            continue
        (filetime,) = struct.unpack_from("<Q", chunk.data, offset + 16)
        count += 1
        yield event_to_record(element, name, "python-evtx", "system:evtx:event",
                              info.offset + offset, header_time_ns=filetime_to_ns(filetime))
    damaged = not info.intact or bool(walk)
    if walk_error is not None and chunk.cut is None:
        damaged = True
        yield IngestIssue(name, info.offset, "evtx.chunk-walk",
                          f"record walk stopped: {walk_error}"[:200])
    if damaged:
        yield damaged_chunk_issue(name, info, count)


def _render_chunk_python(chunk: ChunkToDecode
                         ) -> tuple[list[tuple[int, str | Exception]], str | None]:
    """Every record of the chunk as (offset, XML text or the exception rendering raised).

    Also why the record walk stopped, if python-evtx raised (its silent stops at a record
    header it does not accept are reported by :func:`walk_issues`).
    """
    rendered: list[tuple[int, str | Exception]] = []
    try:
        for record in chunk_records(chunk.data):
            offset = record.offset()
            if chunk.cut is not None and offset + record.size() > chunk.cut:
                break
            try:
                rendered.append((offset, record_xml(record)))
            except Exception as exc:  # python-evtx raises assorted types per record
                rendered.append((offset, exc))
    except Exception as exc:  # a broken record header ends the walk of this chunk
        return rendered, f"{type(exc).__name__}: {exc}"
    return rendered, None
