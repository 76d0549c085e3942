"""Write :class:`SystemEvent` records as a binary Windows XML Event Log (.evtx) file.

Spec: libyal "Windows XML Event Log (EVTX)"
(https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc),
cross-checked against the readers python-evtx and evtx (Rust).

Layout written: a 4096-byte file header, then 64 KiB chunks. Each chunk holds a 512-byte header
(record range, CRC32s, the 64-bucket common string table and the 32-bucket template table) and
records. A template is defined inline by the first record of a chunk that uses it and referenced
by offset afterwards; element and attribute names are written once per chunk and referenced by
offset. Only the current chunk is kept in memory; the file header is rewritten on close.

Usage::

    with EvtxWriter("System.evtx") as writer:
        for event in events:
            writer.write(event)
"""

from __future__ import annotations

import os
import struct
import zlib
from typing import TYPE_CHECKING, BinaryIO

from evtxmpio.catalog import ns_to_filetime
from evtxmpio.replay import binxml
from evtxmpio.replay.binxml import Element, Substitution, compile_shape, shape_key

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

    from evtxmpio.replay.binxml import CompiledShape
    from evtxmpio.replay.events import SystemEvent

FILE_HEADER_SIZE = 4096
CHUNK_SIZE = 0x10000
CHUNK_HEADER_SIZE = 512
MAX_CHUNKS = 0xFFFF
FILE_FLAG_DIRTY = 0x0001
_RECORD_MAGIC = 0x00002A2A
_RECORD_HEADER = struct.Struct("<IIQQ")
_RECORD_OVERHEAD = _RECORD_HEADER.size + 1 + 4  # header, EOF token, size copy
_INSTANCE = struct.Struct("<BBII")
_U32 = struct.Struct("<I")


class _TemplateEmitter:
    """Serialises one template definition at a known chunk offset.

    Names already in the chunk are referenced by offset; new ones are written inline right after
    their offset field and kept *pending* until :meth:`_Chunk.commit` accepts the record, so a
    record that does not fit leaves the chunk untouched.
    """

    def __init__(self, names: dict[str, int], heads: list[int], base: int) -> None:
        self.out = bytearray()
        self.base = base
        self._names = names
        self._heads = heads
        self.new_names: dict[str, int] = {}
        self.new_heads: dict[int, int] = {}

    def name(self, name: str) -> None:
        offset = self._names.get(name, self.new_names.get(name))
        if offset is not None:
            self.out += _U32.pack(offset)
            return
        offset = self.base + len(self.out) + 4
        hash_value = binxml.name_hash(name)
        bucket = hash_value % binxml.STRING_BUCKETS
        next_offset = self.new_heads.get(bucket, self._heads[bucket])
        encoded = name.encode("utf-16-le")
        self.out += _U32.pack(offset)
        self.out += struct.pack("<IHH", next_offset, hash_value, len(encoded) // 2)
        self.out += encoded + b"\x00\x00"
        self.new_names[name] = offset
        self.new_heads[bucket] = offset

    def value(self, value: str | Substitution) -> None:
        if isinstance(value, Substitution):
            token = binxml.TOKEN_OPTIONAL_SUBSTITUTION
            if not value.optional:
                token = binxml.TOKEN_NORMAL_SUBSTITUTION
            self.out += struct.pack("<BHB", token, value.index, value.value_type)
            return
        encoded = value.encode("utf-16-le")
        self.out += struct.pack("<BBH", binxml.TOKEN_VALUE, binxml.TYPE_STRING, len(encoded) // 2)
        self.out += encoded

    def element(self, element: Element) -> None:
        out = self.out
        start = len(out)
        token = binxml.TOKEN_OPEN_START_ELEMENT
        if element.attributes:
            token |= binxml.FLAG_MORE
        out += struct.pack("<BHI", token, 0xFFFF, 0)
        self.name(element.name)
        if element.attributes:
            self._attributes(element.attributes)
        if element.children:
            out.append(binxml.TOKEN_CLOSE_START_ELEMENT)
            for child in element.children:
                if isinstance(child, Element):
                    self.element(child)
                else:
                    self.value(child)
            out.append(binxml.TOKEN_END_ELEMENT)
        else:
            out.append(binxml.TOKEN_CLOSE_EMPTY_ELEMENT)
        # Element data size excludes the token, dependency id and the size field itself.
        struct.pack_into("<I", out, start + 3, len(out) - start - 7)

    def _attributes(self, attributes: tuple[tuple[str, str | Substitution], ...]) -> None:
        out = self.out
        size_at = len(out)
        out += b"\x00\x00\x00\x00"
        last = len(attributes) - 1
        for position, (name, value) in enumerate(attributes):
            more = binxml.FLAG_MORE if position < last else 0
            out.append(binxml.TOKEN_ATTRIBUTE | more)
            self.name(name)
            self.value(value)
        struct.pack_into("<I", out, size_at, len(out) - size_at - 4)


class _Chunk:
    """The chunk being filled: records, name table and template table."""

    def __init__(self) -> None:
        self.data = bytearray(CHUNK_HEADER_SIZE)
        self.names: dict[str, int] = {}
        self.string_heads = [0] * binxml.STRING_BUCKETS
        self.template_heads = [0] * binxml.TEMPLATE_BUCKETS
        self.references: dict[tuple, bytes] = {}
        self.first_id = 0
        self.last_id = 0
        self.last_offset = 0

    @property
    def empty(self) -> bool:
        return len(self.data) == CHUNK_HEADER_SIZE

    def add(self, event: SystemEvent, key: tuple, compiled: CompiledShape, values: bytes) -> bool:
        """Append one record; return False (chunk unchanged) if it does not fit."""
        offset = len(self.data)
        body = self.references.get(key)
        emitter = None
        if body is None:
            body, emitter = self._define(offset, compiled)
        size = _RECORD_OVERHEAD + len(body) + len(values)
        if offset + size > CHUNK_SIZE:
            return False
        if emitter is not None:
            self._commit(key, compiled, offset, emitter)
        filetime = ns_to_filetime(event.time_ns)
        data = self.data
        data += _RECORD_HEADER.pack(_RECORD_MAGIC, size, event.record_id, filetime)
        data += body
        data += values
        data.append(binxml.TOKEN_EOF)
        data += _U32.pack(size)
        if offset == CHUNK_HEADER_SIZE:
            self.first_id = event.record_id
        self.last_id = event.record_id
        self.last_offset = offset
        return True

    def _define(self, offset: int, compiled: CompiledShape) -> tuple[bytes, _TemplateEmitter]:
        """Return the fragment + instance + inline template definition for a record at offset."""
        instance_at = offset + _RECORD_HEADER.size + len(binxml.FRAGMENT_HEADER)
        definition_at = instance_at + _INSTANCE.size
        fragment_at = definition_at + binxml.TEMPLATE_HEADER_SIZE
        emitter = _TemplateEmitter(self.names, self.string_heads, fragment_at)
        emitter.out += binxml.FRAGMENT_HEADER
        emitter.element(compiled.root)
        emitter.out.append(binxml.TOKEN_EOF)
        bucket = compiled.template_id % binxml.TEMPLATE_BUCKETS
        definition = b"".join(
            (
                _U32.pack(self.template_heads[bucket]),
                compiled.guid,
                _U32.pack(len(emitter.out)),
                emitter.out,
            )
        )
        return self._instance(compiled, definition_at) + definition, emitter

    @staticmethod
    def _instance(compiled: CompiledShape, definition_at: int) -> bytes:
        token = binxml.TOKEN_TEMPLATE_INSTANCE
        instance = _INSTANCE.pack(token, 0x01, compiled.template_id, definition_at)
        return binxml.FRAGMENT_HEADER + instance

    def _commit(
        self, key: tuple, compiled: CompiledShape, offset: int, emitter: _TemplateEmitter
    ) -> None:
        """Register the names and the template a record defined, once it is known to fit."""
        self.names.update(emitter.new_names)
        for bucket, head in emitter.new_heads.items():
            self.string_heads[bucket] = head
        definition_at = offset + _RECORD_HEADER.size + len(binxml.FRAGMENT_HEADER) + _INSTANCE.size
        self.template_heads[compiled.template_id % binxml.TEMPLATE_BUCKETS] = definition_at
        self.references[key] = self._instance(compiled, definition_at)

    def finish(self) -> bytes:
        """Return the full 64 KiB chunk with its header and checksums filled in."""
        data = self.data
        free_at = len(data)
        data += bytes(CHUNK_SIZE - free_at)
        struct.pack_into(
            "<8sQQQQIIII",
            data,
            0,
            b"ElfChnk\x00",
            self.first_id,
            self.last_id,
            self.first_id,
            self.last_id,
            128,
            self.last_offset,
            free_at,
            zlib.crc32(data[CHUNK_HEADER_SIZE:free_at]),
        )
        struct.pack_into("<64I", data, 128, *self.string_heads)
        struct.pack_into("<32I", data, 384, *self.template_heads)
        checksum = zlib.crc32(data[128:CHUNK_HEADER_SIZE], zlib.crc32(data[:120]))
        struct.pack_into("<I", data, 124, checksum)
        return bytes(data)


def file_header(chunk_count: int, next_record_id: int, flags: int = 0) -> bytes:
    """Return the 4096-byte file header, checksum included.

    Args:
        chunk_count: chunks that follow the header.
        next_record_id: EventRecordID the next record would get.
        flags: file flags (``FILE_FLAG_DIRTY`` while writing, 0 once closed).
    """
    header = bytearray(FILE_HEADER_SIZE)
    last_chunk = max(chunk_count - 1, 0)
    struct.pack_into(
        "<8sQQQIHHHH",
        header,
        0,
        b"ElfFile\x00",
        0,
        last_chunk,
        next_record_id,
        128,
        1,
        3,
        FILE_HEADER_SIZE,
        chunk_count,
    )
    struct.pack_into("<I", header, 120, flags)
    struct.pack_into("<I", header, 124, zlib.crc32(header[:120]))
    return bytes(header)


class EvtxWriter:
    """Streams :class:`SystemEvent` records into an .evtx file, one 64 KiB chunk at a time.

    Records must come in increasing ``record_id`` order (gaps are allowed). The file header is
    marked dirty until :meth:`close` rewrites it with the final counts.

    Args:
        target: a path, or a binary file object opened for writing and seeking.
    """

    def __init__(self, target: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(target, (str, os.PathLike)):
            self._file: BinaryIO = open(target, "wb")  # noqa: SIM115 - closed in close()
            self._owns_file = True
        else:
            self._file = target
            self._owns_file = False
        self._start = self._file.tell()
        self._file.write(file_header(0, 1, FILE_FLAG_DIRTY))
        self._chunk = _Chunk()
        self._chunk_count = 0
        self._last_id: int | None = None
        self._closed = False
        self.records_written = 0

    def __enter__(self) -> EvtxWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, event: SystemEvent) -> None:
        """Append one event as a record.

        Raises:
            ValueError: the record id does not increase, a value does not fit its BinXML type,
                the record is larger than a chunk, or the file would exceed 65535 chunks.
        """
        if self._last_id is not None and event.record_id <= self._last_id:
            raise ValueError(f"record {event.record_id}: ids must increase (after {self._last_id})")
        if event.data_names is not None and len(event.data_names) != len(event.data):
            raise ValueError(
                f"record {event.record_id}: {len(event.data_names)} data names "
                f"for {len(event.data)} data values"
            )
        key = shape_key(event)
        compiled = compile_shape(key)
        values = compiled.encode_values(event, ns_to_filetime(event.time_ns))
        if not self._chunk.add(event, key, compiled, values):
            if self._chunk.empty:
                raise ValueError(f"record {event.record_id}: too large for one 64 KiB chunk")
            self._flush_chunk()
            if not self._chunk.add(event, key, compiled, values):
                raise ValueError(f"record {event.record_id}: too large for one 64 KiB chunk")
        self._last_id = event.record_id
        self.records_written += 1

    def _flush_chunk(self) -> None:
        if self._chunk_count >= MAX_CHUNKS:
            raise ValueError(f"more than {MAX_CHUNKS} chunks: split the log into several files")
        self._file.write(self._chunk.finish())
        self._chunk_count += 1
        self._chunk = _Chunk()

    def close(self) -> None:
        """Write the last chunk and the final (clean) file header; close an owned file."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self._chunk.empty:
                self._flush_chunk()
            next_id = 1 if self._last_id is None else self._last_id + 1
            end = self._file.tell()
            self._file.seek(self._start)
            self._file.write(file_header(self._chunk_count, next_id))
            self._file.seek(end)
            self._file.flush()
        finally:
            if self._owns_file:
                self._file.close()


def write_evtx(path: str | os.PathLike[str] | BinaryIO, events: Iterable[SystemEvent]) -> int:
    """Write ``events`` to ``path`` as an .evtx file; return the number of records written."""
    with EvtxWriter(path) as writer:
        for event in events:
            writer.write(event)
    return writer.records_written
