"""Write :class:`SystemEvent` records as a binary Windows XML Event Log (.evtx) file.

Spec: libyal "Windows XML Event Log (EVTX)"
(https://github.com/libyal/libevtx/blob/main/documentation/Windows%20XML%20Event%20Log%20(EVTX).asciidoc),
cross-checked against the readers python-evtx and evtx (Rust).

Layout written: a 4096-byte file header, then 64 KiB chunks. Each chunk holds a 512-byte header
(record range, CRC32s, the 64-bucket common string table and the 32-bucket template table) and
records. A template is defined inline by the first record of a chunk that uses it and referenced
by offset afterwards; element and attribute names are written once per chunk and referenced by
offset. Only the current chunk is kept in memory; the file header is rewritten on close.
``layout="windows"`` writes ``<EventData>`` as Windows does, a BinXml value of the Event template
with its own template (``binxml_data.py``), defined and referenced the same way.

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
from evtxmpio.replay.binxml import compile_nested_shape, compile_shape, shape_key, system_key
from evtxmpio.replay.binxml_data import compile_data, data_key
from evtxmpio.replay.binxml_emit import TemplateEmitter

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

    from evtxmpio.replay.binxml import CompiledShape
    from evtxmpio.replay.binxml_data import CompiledData
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

    def add(
        self,
        event: SystemEvent,
        key: tuple,
        compiled: CompiledShape,
        values: bytes,
        data: tuple[tuple, CompiledData, bytes] | None = None,
    ) -> bool:
        """Append one record; return False (chunk unchanged) if it does not fit.

        Args:
            data: the windows layout's EventData: its key, template and instance data; its
                fragment is appended to ``values`` (the Event template's last value).
        """
        offset = len(self.data)
        body_at = offset + _RECORD_HEADER.size
        body = self.references.get(key)
        emitter = None
        if body is None:
            body, emitter = self._define(body_at, key, compiled)
        if data is not None:
            values, emitter = self._with_event_data(body_at + len(body), values, data, emitter)
        size = _RECORD_OVERHEAD + len(body) + len(values)
        if offset + size > CHUNK_SIZE:
            return False
        if emitter is not None:
            self._commit(emitter)
        filetime = ns_to_filetime(event.time_ns)
        data_out = self.data
        data_out += _RECORD_HEADER.pack(_RECORD_MAGIC, size, event.record_id, filetime)
        data_out += body
        data_out += values
        data_out.append(binxml.TOKEN_EOF)
        data_out += _U32.pack(size)
        if offset == CHUNK_HEADER_SIZE:
            self.first_id = event.record_id
        self.last_id = event.record_id
        self.last_offset = offset
        return True

    def _with_event_data(
        self,
        at: int,
        values: bytes,
        data: tuple[tuple, CompiledData, bytes],
        after: TemplateEmitter | None,
    ) -> tuple[bytes, TemplateEmitter | None]:
        """Return ``values`` (placed at ``at``) with the EventData fragment as their last value.

        The fragment defines its template inline at the chunk offset it lands at, the first time
        the chunk uses it. A fragment over 65535 bytes makes a record larger than any chunk, which
        :meth:`add` refuses; its size field is only kept in range.
        """
        key, template, data_values = data
        head = self.references.get(key)
        emitter = after
        if head is None:
            head, emitter = self._define(at + len(values), key, template, after)
        fragment = b"".join((head, data_values, b"\x00"))
        out = bytearray(values)
        out += fragment
        binxml.set_last_size(out, min(len(fragment), 0xFFFF))
        return out, emitter

    def _define(
        self,
        at: int,
        key: tuple,
        template: CompiledShape | CompiledData,
        after: TemplateEmitter | None = None,
    ) -> tuple[bytes, TemplateEmitter]:
        """Return fragment header + instance + inline definition of ``template`` placed at ``at``.

        What it adds to the chunk's tables stays pending in the emitter (shared with ``after``,
        an emitter of the same record) until :meth:`_commit`.
        """
        definition_at = at + len(binxml.FRAGMENT_HEADER) + _INSTANCE.size
        fragment_at = definition_at + binxml.TEMPLATE_HEADER_SIZE
        emitter = TemplateEmitter(self.names, self.string_heads, fragment_at, after)
        emitter.out += binxml.FRAGMENT_HEADER
        emitter.element(template.root)
        emitter.out.append(binxml.TOKEN_EOF)
        bucket = template.template_id % binxml.TEMPLATE_BUCKETS
        next_template = emitter.new_templates.get(bucket, self.template_heads[bucket])
        emitter.new_templates[bucket] = definition_at
        instance = self._instance(template, definition_at)
        emitter.new_references[key] = instance
        definition = b"".join(
            (_U32.pack(next_template), template.guid, _U32.pack(len(emitter.out)), emitter.out)
        )
        return instance + definition, emitter

    @staticmethod
    def _instance(template: CompiledShape | CompiledData, definition_at: int) -> bytes:
        token = binxml.TOKEN_TEMPLATE_INSTANCE
        instance = _INSTANCE.pack(token, 0x01, template.template_id, definition_at)
        return binxml.FRAGMENT_HEADER + instance

    def _commit(self, emitter: TemplateEmitter) -> None:
        """Register the names and templates a record defined, once it is known to fit."""
        self.names.update(emitter.new_names)
        for bucket, head in emitter.new_heads.items():
            self.string_heads[bucket] = head
        for bucket, head in emitter.new_templates.items():
            self.template_heads[bucket] = head
        self.references.update(emitter.new_references)

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
        layout: where ``<EventData>`` goes: ``flat`` (in the Event template) or ``windows``
            (a BinXml value with a template of its own, as Windows writes it).

    Raises:
        ValueError: ``layout`` is not one of :data:`binxml.EVTX_LAYOUTS`.
    """

    def __init__(self, target: str | os.PathLike[str] | BinaryIO, layout: str = "flat") -> None:
        if layout not in binxml.EVTX_LAYOUTS:
            raise ValueError(f"evtx layout {layout!r} not in {list(binxml.EVTX_LAYOUTS)}")
        self._nested = layout == "windows"
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
        data = None
        if self._nested:
            key = system_key(key)
            compiled = compile_nested_shape(key)
            template = compile_data(data_key(event))
            data = (template.key, template, template.encode_values(event))
        else:
            compiled = compile_shape(key)
        values = compiled.encode_values(event, ns_to_filetime(event.time_ns))
        if not self._chunk.add(event, key, compiled, values, data):
            if self._chunk.empty:
                raise ValueError(f"record {event.record_id}: too large for one 64 KiB chunk")
            self._flush_chunk()
            if not self._chunk.add(event, key, compiled, values, data):
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


def write_evtx(
    path: str | os.PathLike[str] | BinaryIO, events: Iterable[SystemEvent], layout: str = "flat"
) -> int:
    """Write ``events`` to ``path`` as an .evtx file; return the number of records written.

    ``layout``: see :class:`EvtxWriter`.
    """
    with EvtxWriter(path, layout) as writer:
        for event in events:
            writer.write(event)
    return writer.records_written
