"""Binary .evtx: the chunk walk shared by both backends, and the python-evtx backend.

Spec: libyal libevtx "Windows XML Event Log (EVTX) format"
(https://github.com/libyal/libevtx/blob/main/documentation/). Both python-evtx and the Rust
``evtx`` package trust the file header's chunk count in places, which loses records behind a
stale dirty header (corpus README), so ingest walks every 64 KiB chunk slot itself, streaming
(one chunk in memory at a time), checks each chunk's magic and checksums, applies the provider
pre-filter (:mod:`evtxmpio.ingest.evtx_chunks`) and hands one chunk at a time to a backend:
``python`` (python-evtx, the reference) or ``rust`` (:mod:`evtxmpio.ingest.evtx_rust`).
A bad chunk costs that chunk, a bad record costs that record. A file cut inside a chunk keeps
every complete record before the cut and is reported as truncated; so is a file cut at a chunk
boundary, when its (checksum-sound) header counts more chunks than it holds. A record walk that
stops short of the chunk header's free space offset, or a free space offset that falls inside a
record, is reported: no record goes missing unseen (``tests/ingest/test_evtx_mutations.py``).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from evtxmpio.catalog import filetime_to_ns
from evtxmpio.catalog.relevance import Relevance
from evtxmpio.errors import Error
from evtxmpio.ingest.base import (
    IngestIssue,
    InputFormat,
    ReadOptions,
    SkippedRecords,
    Source,
    register,
)
from evtxmpio.ingest.evtx_chunks import (
    CHUNK_HEADER_SIZE,
    CHUNK_MAGIC,
    CHUNK_SIZE,
    EVTX_MAGIC,
    FILE_HEADER_SIZE,
    ChunkInfo,
    ProviderMatcher,
    RecordHeaders,
    looping_links,
    parse_chunk,
    parse_file_header,
    record_headers,
)
from evtxmpio.ingest.evtx_pyrender import rendering as python_rendering
from evtxmpio.ingest.xmlevent import event_to_record, parse_event_xml
from evtxmpio.model import RawRecord

__all__ = [
    "CHUNK_MAGIC", "CHUNK_SIZE", "EVTX_MAGIC", "FILE_HEADER_SIZE", "read_evtx",
    "read_evtx_python", "resolve_backend", "sniff_evtx",
]

BACKENDS = ("auto", "python", "rust")
ReadItem = RawRecord | IngestIssue | SkippedRecords


def sniff_evtx(head: bytes) -> bool:
    """EVTX files start with the ``ElfFile\\0`` magic, or a file header whose magic is damaged.

    A damaged magic would otherwise cost the whole file (not sniffed, not read) for one bad
    byte; the header's fixed fields still tell: header size 128, major version 3, header block
    size 4096 (every file of the corpus; 8 bytes no other format puts there).
    """
    if head.startswith(EVTX_MAGIC):
        return True
    if len(head) < 44:
        return False
    header_size, _, major, block_size = struct.unpack_from("<IHHH", head, 32)
    return (header_size, major, block_size) == (128, 3, 4096)


def rust_available() -> bool:
    """Whether the Rust-backed ``evtx`` package can be imported."""
    try:
        import evtx  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str) -> str:
    """``auto`` -> ``rust`` when importable, else ``python``; check explicit choices.

    Raises:
        Error: for an unknown backend name, or ``rust`` when the package is missing.
    """
    if backend not in BACKENDS:
        raise Error(f"--backend: unknown .evtx backend {backend!r} (choose {', '.join(BACKENDS)})")
    if backend == "auto":
        return "rust" if rust_available() else "python"
    if backend == "rust" and not rust_available():
        raise Error("--backend rust: the Rust-backed 'evtx' package is not installed")
    return backend


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


def walk_chunks(source: Source, options: ReadOptions | None = None
                ) -> Iterator[IngestIssue | SkippedRecords | ChunkToDecode]:
    """Stream the chunk slots of ``source``: issues, pre-filtered blocks, chunks to decode."""
    providers = options.chunk_providers if options and options.chunk_prefilter else None
    pattern = ProviderMatcher(providers) if providers else None
    with source.open() as stream:
        header = _read_exact(stream, FILE_HEADER_SIZE)
        yield from _header_issues(source.name, header)
        if len(header) < FILE_HEADER_SIZE:
            return
        index = 0
        while data := _read_exact(stream, CHUNK_SIZE):
            info = parse_chunk(data, index)
            index += 1
            yield from _chunk_items(source.name, header, info, data, pattern)
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
        yield SkippedRecords(name, count, "prefiltered", info.offset, id_span=count)
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
    end = CHUNK_HEADER_SIZE
    for offset, size in zip(headers.offsets, headers.sizes, strict=True):
        if offset >= free:
            break
        end = offset + size
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
    from evtxmpio.ingest.evtx_rust import event_facts  # (import cycle)

    info = chunk.info
    walk = walk_issues(name, info, chunk.data, record_headers(chunk.data)) \
        if chunk.cut is None else []
    yield from walk
    loops = looping_links(chunk.data)
    if loops:  # the patched loaders stop at them (evtx_pyrender); said as the Rust backend does
        yield chain_loop_issue(name, info, loops)
    with python_rendering():  # patched rendering only while this chunk is rendered
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
            yield SkippedRecords(name, 1, "not-relevant", info.offset + offset, record_id,
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
    from Evtx.Evtx import ChunkHeader

    rendered: list[tuple[int, str | Exception]] = []
    try:
        for record in ChunkHeader(chunk.data, 0).records():
            offset = record.offset()
            if chunk.cut is not None and offset + record.size() > chunk.cut:
                break
            try:
                rendered.append((offset, record.xml()))
            except Exception as exc:  # python-evtx raises assorted types per record
                rendered.append((offset, exc))
    except Exception as exc:  # a broken record header ends the walk of this chunk
        return rendered, f"{type(exc).__name__}: {exc}"
    return rendered, None


def read_evtx(source: Source, options: ReadOptions | None = None) -> Iterator[ReadItem]:
    """Read a .evtx with the backend ``options.backend`` names (``auto`` by default)."""
    backend = resolve_backend(options.backend if options else "auto")
    if backend == "rust":
        from evtxmpio.ingest.evtx_rust import read_evtx_rust

        return read_evtx_rust(source, options)
    return read_evtx_python(source, options)


register(InputFormat("evtx", sniff=sniff_evtx, read=read_evtx, priority=10,
                     accepts_options=True))
