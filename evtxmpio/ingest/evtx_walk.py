"""The .evtx chunk walk both backends share, and facts read from a record's rendered XML text.

Spec: libyal libevtx "Windows XML Event Log (EVTX) format"
(https://github.com/libyal/libevtx/blob/main/documentation/), sections 2 and 3. Both
python-evtx and the Rust ``evtx`` package trust the file header's chunk count in places, which
loses records behind a stale dirty header (corpus README), so ingest walks every 64 KiB chunk
slot itself, streaming (one chunk in memory at a time), checks each chunk's magic and
checksums, applies the provider pre-filter (:mod:`evtxmpio.ingest.evtx_chunks`) and hands one
:class:`ChunkToDecode` at a time to a backend (:mod:`evtxmpio.ingest.evtx_python`,
:mod:`evtxmpio.ingest.evtx_rust`). A bad chunk costs that chunk, a bad record costs that record.
A file cut inside a chunk keeps every complete record before the cut and is reported as
truncated; so is a file cut at a chunk boundary, when its (checksum-sound) header counts more
chunks than it holds. A record walk that stops short of the chunk header's free space offset,
or a free space offset that falls inside a record, is reported: no record goes missing unseen
(``tests/ingest/test_evtx_mutations.py``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from evtxmpio.catalog import field_int
from evtxmpio.ingest.base import IngestIssue, ReadOptions, SkippedRecords, Source, skipped_records
from evtxmpio.ingest.evtx_chunks import (
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    ChunkInfo,
    ProviderMatcher,
    RecordHeaders,
    parse_chunk,
    parse_file_header,
)
from evtxmpio.ingest.runs import RecordRun
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

ReadItem = RawRecord | IngestIssue | SkippedRecords | RecordRun
SYSTEM_TIME = '<TimeCreated SystemTime="'


@dataclass(frozen=True, slots=True)
class ChunkToDecode:
    """One chunk the walk hands to a backend.

    Attributes:
        header: the file's 4 KiB header (the Rust backend needs a file around the chunk).
        info: chunk header facts.
        data: the chunk's 64 KiB (zero-padded after a cut).
        cut: offset inside the chunk where the file ends, ``None`` if the chunk is complete.
    """

    header: bytes
    info: ChunkInfo
    data: bytes
    cut: int | None


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        block = stream.read(remaining)
        if not block:
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts)


def walk_chunks(source: Source, options: ReadOptions | None = None, first: int = 0,
                stop: int | None = None
                ) -> Iterator[IngestIssue | SkippedRecords | ChunkToDecode]:
    """Stream the chunk slots of ``source``: issues, pre-filtered blocks, chunks to decode.

    ``first`` and ``stop`` walk only the chunk slots ``first`` to ``stop - 1`` (``None``: to the
    end of the file): a file read in parts gives, part after part, exactly the items of one
    walk (file header issues come with the part that starts at slot 0, the end-of-file ones
    with the part that reaches the end).
    """
    providers = options.chunk_providers if options and options.chunk_prefilter else None
    pattern = ProviderMatcher(providers) if providers else None
    with source.open() as stream:
        header = _read_exact(stream, FILE_HEADER_SIZE)
        if first == 0:
            yield from _header_issues(source.name, header)
        if len(header) < FILE_HEADER_SIZE:
            return
        index = first
        if first:
            stream.seek(FILE_HEADER_SIZE + first * CHUNK_SIZE)
        while (stop is None or index < stop) and (data := _read_exact(stream, CHUNK_SIZE)):
            info = parse_chunk(data, index)
            index += 1
            yield from _chunk_items(source.name, header, info, data, pattern)
    if stop is not None:
        return
    file_header = parse_file_header(header)
    if file_header is not None and file_header.checksum_ok and file_header.chunk_count > index:
        # A cut at a chunk boundary leaves no partial chunk behind: only the count tells.
        yield IngestIssue(source.name, FILE_HEADER_SIZE + index * CHUNK_SIZE, "evtx.missing-chunks",
                          f"the file header counts {file_header.chunk_count} chunks, the file "
                          f"holds {index}; the file was cut short", truncated=True)


def _header_issues(name: str, header: bytes) -> Iterator[IngestIssue]:
    if len(header) < FILE_HEADER_SIZE:
        yield IngestIssue(name, 0, "evtx.short-file",
                          f"{len(header)} bytes, smaller than the 4096-byte file header",
                          truncated=True)
        return
    file_header = parse_file_header(header)
    if file_header is None:
        yield IngestIssue(name, 0, "evtx.bad-header",
                          f"file header magic {header[:8]!r} is damaged; chunks are read anyway")
        return
    if not file_header.checksum_ok:
        yield IngestIssue(name, 0, "evtx.header-checksum",
                          "file header checksum does not match; chunks are read anyway")
    if file_header.dirty:
        yield IngestIssue(name, 0, "evtx.dirty",
                          "file header flags the log as dirty (not closed cleanly); "
                          "all chunks are read, not only the counted ones")


def _chunk_items(name: str, header: bytes, info: ChunkInfo, data: bytes,
                 pattern: ProviderMatcher | None
                 ) -> Iterator[IngestIssue | SkippedRecords | ChunkToDecode]:
    cut: int | None = None
    if not info.complete and not info.empty:
        cut = len(data)
        yield IngestIssue(name, info.offset + cut, "evtx.truncated",
                          f"file ends {cut} bytes into chunk {info.index}; complete records "
                          "before the cut are kept", truncated=True)
        data = data.ljust(CHUNK_SIZE, b"\x00")
    if info.empty:
        return  # a never-written slot holds no record; nothing to count
    if not info.magic_ok:
        yield IngestIssue(name, info.offset, "evtx.bad-chunk-magic",
                          f"chunk {info.index} magic {data[:8]!r}; chunk skipped",
                          chunk_damaged=True)
        return
    count = info.record_count
    if pattern is not None and count is not None and not pattern.search(data):
        yield skipped_records(name, count, "prefiltered", info.offset, id_span=count)
        return
    yield ChunkToDecode(header, info, data, cut)


def damaged_chunk_issue(name: str, info: ChunkInfo, recovered: int) -> IngestIssue:
    """The issue a backend yields after decoding a damaged chunk."""
    what = "truncated" if not info.complete else "checksum or structure damaged"
    return IngestIssue(name, info.offset, "evtx.chunk-damaged",
                       f"chunk {info.index} {what}; {recovered} records recovered",
                       records_recovered=recovered, chunk_damaged=True)


def walk_issues(name: str, info: ChunkInfo, data: bytes, headers: RecordHeaders
                ) -> list[IngestIssue]:
    """Issues when the record headers and the chunk header's free space offset disagree.

    Records run back to back from the chunk header up to the free space offset, and both
    backends stop reading there, or silently at the first record header they do not accept. A
    walk (``headers``, no cut) that ends short of that offset, or an offset that falls inside a
    record, means records of the chunk are not read: said here, since a checksum-sound chunk
    gives no other sign of it. The backend then reports the chunk damaged (once).
    """
    (free,) = struct.unpack_from("<I", data, 48)
    _, end = headers.before(free)
    if end < free:
        return [IngestIssue(name, info.offset + end, "evtx.chunk-walk",
                            f"chunk {info.index}: no valid record header at chunk offset {end}, "
                            f"before the free space offset {free}; the rest of the chunk is "
                            "not read")]
    if end > free:
        return [IngestIssue(name, info.offset + end, "evtx.free-space-offset",
                            f"chunk {info.index}: the free space offset {free} falls inside the "
                            f"record that ends at chunk offset {end}; records after it are not "
                            "read")]
    return []


def chain_loop_issue(name: str, info: ChunkInfo, loops: list[int]) -> IngestIssue:
    """The issue for hash chain links that loop (:func:`evtx_chunks.looping_links`)."""
    return IngestIssue(name, info.offset, "evtx.chain-loop",
                       f"chunk {info.index}: {len(loops)} string/template hash chain link(s) "
                       "loop back into their chain; cut so that decoding ends")


def _between(text: str, start_tag: str, end: str) -> str:
    start = text.find(start_tag)
    if start < 0:
        return ""
    start += len(start_tag)
    return text[start:text.find(end, start)]


def event_facts(text: str, header_ns: int | None) -> tuple[int | None, int | None]:
    """``EventRecordID`` and ``SystemTime`` (refined like :func:`event_to_record`) of the XML."""
    record_id = field_int(_between(text, "<EventRecordID>", "<"))
    return record_id, refined_time(_between(text, SYSTEM_TIME, '"'), header_ns)


def refined_time(time_text: str, header_ns: int | None) -> int | None:
    """A ``SystemTime`` text in ns, refined by the record header's time (``header_ns``) when
    both fall in the same microsecond (the text has microseconds, the header 100 ns)."""
    time_ns = parse_iso_ns(time_text, 0) if time_text else None
    if (header_ns is not None and time_ns is not None and time_ns % 1000 == 0
            and header_ns // 1000 == time_ns // 1000):
        time_ns = header_ns
    return time_ns
