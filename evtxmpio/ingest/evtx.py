"""Binary .evtx through python-evtx (the reference reader).

Spec: libyal libevtx "Windows XML Event Log (EVTX) format"
(https://github.com/libyal/libevtx/blob/main/documentation/). python-evtx only walks as many
chunks as the file header counts, which loses records behind a stale dirty header (corpus
README), so this reader walks every 64 KiB chunk itself, checks each chunk's magic and
checksums, and catches per record: a bad chunk costs that chunk, a bad record costs that record.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator

from lxml import etree

from evtxmpio.ingest.base import InputFormat, IngestIssue, Source, register
from evtxmpio.ingest.xmlevent import event_to_record
from evtxmpio.model import RawRecord

EVTX_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
CHUNK_SIZE = 0x10000
FILE_HEADER_SIZE = 0x1000
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                              huge_tree=True, recover=False)


def sniff_evtx(head: bytes) -> bool:
    """EVTX files start with the ``ElfFile\\0`` magic."""
    return head.startswith(EVTX_MAGIC)


def _load(source: Source) -> bytes:
    with source.open() as stream:
        try:
            with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                return bytes(mapped)
        except (OSError, ValueError, AttributeError):
            return stream.read()


def read_evtx_python(source: Source) -> Iterator[RawRecord | IngestIssue]:
    """Yield every record python-evtx can decode, chunk by chunk, with issues for the rest."""
    from Evtx.Evtx import ChunkHeader, FileHeader

    buf = _load(source)
    if len(buf) < FILE_HEADER_SIZE:
        yield IngestIssue(source.name, 0, "evtx.short-file",
                          f"{len(buf)} bytes, smaller than the 4096-byte file header",
                          truncated=True)
        return
    header = FileHeader(buf, 0)
    if header.is_dirty():
        yield IngestIssue(source.name, 0, "evtx.dirty",
                          "file header flags the log as dirty (not closed cleanly); "
                          "all chunks are read, not only the counted ones")
    offset = FILE_HEADER_SIZE
    while offset < len(buf):
        if offset + CHUNK_SIZE > len(buf):
            yield IngestIssue(source.name, offset, "evtx.truncated",
                              f"file ends {len(buf) - offset} bytes into a chunk", truncated=True)
            break
        magic = buf[offset:offset + 8]
        if magic == CHUNK_MAGIC:
            yield from _read_chunk(ChunkHeader(buf, offset), source.name, offset)
        elif magic.strip(b"\x00"):
            yield IngestIssue(source.name, offset, "evtx.bad-chunk-magic",
                              f"chunk magic {magic!r}; chunk skipped", chunk_damaged=True)
        offset += CHUNK_SIZE


def _read_chunk(chunk: object, name: str, offset: int) -> Iterator[RawRecord | IngestIssue]:
    damaged = not _chunk_checksums_ok(chunk)
    count = 0
    failed = 0
    try:
        for record in chunk.records():
            rec_offset = offset + record.offset() - chunk.offset()
            try:
                element = etree.fromstring(record.xml().encode("utf-8"), _XML_PARSER)
            except Exception as exc:  # python-evtx raises assorted types per record
                failed += 1
                yield IngestIssue(name, rec_offset, "evtx.bad-record",
                                  f"{type(exc).__name__}: {exc}"[:200], records_failed=1)
                continue
            count += 1
            yield event_to_record(element, name, "python-evtx", "system:evtx:event", rec_offset)
    except Exception as exc:  # a broken record header ends the walk of this chunk
        yield IngestIssue(name, offset, "evtx.chunk-walk",
                          f"record walk stopped: {type(exc).__name__}: {exc}"[:200],
                          chunk_damaged=True)
        damaged = True
    if damaged:
        yield IngestIssue(name, offset, "evtx.chunk-damaged",
                          f"chunk checksum or structure damaged; {count} records recovered, "
                          f"{failed} undecodable", records_recovered=count, chunk_damaged=True)


def _chunk_checksums_ok(chunk: object) -> bool:
    try:
        return bool(chunk.verify())
    except Exception:  # verify itself trips on damaged headers
        return False


register(InputFormat("evtx", sniff=sniff_evtx, read=read_evtx_python, priority=10))
