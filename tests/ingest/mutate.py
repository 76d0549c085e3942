"""Mutations of a valid .evtx file, each with what a lossless reader must still read from it.

Spec: libyal libevtx "Windows XML Event Log (EVTX) format" (file header, chunk header, event
record, BinXML template instance). A :class:`Base` is a valid file and the offsets of its
records; every mutation function returns a :class:`Mutation`: the damaged bytes, the offsets of
the original records in the part the damage did not reach (``survivors``: the oracle of
``tests/ingest/test_evtx_mutations.py``) and the chunk slots whose checksummed content changed
(``damaged``: a reader must report them). Functions that edit inside a record or a header
"so the reader trusts it" re-compute the checksums; the others leave them stale.
"""

from __future__ import annotations

import dataclasses
import functools
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

from evtxmpio.ingest.evtx_chunks import (
    CHUNK_HEADER_SIZE,
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    iter_chunks,
    record_headers,
)

TYPE_STRING = 0x01
TYPE_FILETIME = 0x11
TYPE_SYSTEMTIME = 0x12
TOKEN_FRAGMENT_HEADER = 0x0F
TOKEN_TEMPLATE_INSTANCE = 0x0C
TEMPLATE_HEADER_SIZE = 24  # next offset, GUID, data size
# File header fields (offset, struct format) and chunk header fields a mutation may blow up.
FILE_FIELDS = {"first-chunk": (8, "<Q"), "last-chunk": (16, "<Q"), "next-record-id": (24, "<Q"),
               "header-size": (32, "<I"), "block-size": (40, "<H"), "chunk-count": (42, "<H")}
CHUNK_FIELDS = {"first-number": (8, "<Q"), "last-number": (16, "<Q"), "first-id": (24, "<Q"),
                "last-id": (32, "<Q"), "header-size": (40, "<I"), "last-record": (44, "<I"),
                "free-space": (48, "<I")}


P = ParamSpec("P")
M = TypeVar("M", bound="Mutation | None")


@dataclass(frozen=True, slots=True)
class Span:
    """One record of the base file: its chunk index, file offset and size."""

    chunk: int
    offset: int
    size: int

    @property
    def end(self) -> int:
        """File offset just past the record."""
        return self.offset + self.size


@dataclass(frozen=True, slots=True)
class Value:
    """One substitution value of a record's template instance (file offsets)."""

    type: int
    offset: int
    size: int
    descriptor: int


@dataclass(frozen=True, slots=True)
class Base:
    """A valid .evtx file and where its records are.

    Attributes:
        name: label for test ids.
        data: the file's bytes.
        spans: every record the chunk headers' record walk finds, in file order.
        free: per chunk, the chunk-relative free space offset (end of the checksummed data).
    """

    name: str
    data: bytes = field(repr=False)
    spans: tuple[Span, ...] = field(repr=False)
    free: tuple[int, ...] = field(repr=False)

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Base:
        """Index ``data``: its chunks' free space offsets and record spans."""
        spans: list[Span] = []
        free: list[int] = []
        for info, chunk in iter_chunks(data):
            free.append(struct.unpack_from("<I", chunk, 48)[0] if info.magic_ok else 0)
            headers = record_headers(chunk)
            spans.extend(Span(info.index, info.offset + offset, size)
                         for offset, size in zip(headers.offsets, headers.sizes, strict=True))
        return cls(name, data, tuple(spans), tuple(free))

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(f"<Base {self.name}>")  # type: ignore[attr-defined]  # (Hypothesis output)

    @property
    def chunks(self) -> int:
        """Chunk slots after the file header."""
        return len(self.free)

    def slot(self, index: int) -> int:
        """File offset of chunk slot ``index``."""
        return FILE_HEADER_SIZE + index * CHUNK_SIZE

    def offsets(self, keep: object = None) -> frozenset[int]:
        """Offsets of the records for which ``keep(span)`` is true (all without ``keep``)."""
        return frozenset(s.offset for s in self.spans if keep is None or keep(s))  # type: ignore[operator]

    def values(self, span: Span) -> list[Value]:
        """The substitution values of ``span``'s template instance, ``[]`` if not laid out so."""
        return substitution_values(self.data, span, self.slot(span.chunk))


@dataclass(frozen=True, slots=True)
class Mutation:
    """A damaged copy of a base file and the oracle for it.

    Attributes:
        kind: mutation class (test ids and the report).
        data: the damaged file.
        survivors: offsets (in the base file) of records every reader must still read.
        damaged: file offsets of chunk slots whose checksummed content changed.
        edited: offset of the one record whose content was edited, if the edit kept the
            structure of the chunk (the other records must all survive).
        in_place: the records that are still there stay at their offsets (no cut, no chunk
            moved), so a record not read must have an issue in its chunk.
        cut: the length the file was cut to, if it was cut short.
        detail: the call that made it (to reproduce a failure).
    """

    kind: str
    data: bytes = field(repr=False)
    survivors: frozenset[int] = field(repr=False)
    damaged: frozenset[int] = frozenset()
    edited: int | None = None
    in_place: bool = True
    cut: int | None = None
    detail: str = ""

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        printer.text(repr(self))  # type: ignore[attr-defined]  # without the file's bytes


def described(make: Callable[P, M]) -> Callable[P, M]:
    """Record in ``detail`` the call that made the mutation (noise bytes by length only)."""

    @functools.wraps(make)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> M:
        mutation = make(*args, **kwargs)
        if mutation is None:
            return mutation
        shown = [f"<{len(a)} bytes>" if isinstance(a, bytes) else repr(a) for a in args[1:]]
        return dataclasses.replace(  # type: ignore[return-value]
            mutation, detail=f"{make.__name__}({', '.join(shown)})")

    return wrapper


def substitution_values(data: bytes, span: Span, chunk_start: int) -> list[Value]:
    """Substitution values of a record whose BinXML is one template instance."""
    end = span.end - 4  # the record ends with a copy of its size
    at = span.offset + 24
    if at + 14 > end or data[at] != TOKEN_FRAGMENT_HEADER:
        return []
    at += 4
    if data[at] != TOKEN_TEMPLATE_INSTANCE:
        return []
    (definition,) = struct.unpack_from("<I", data, at + 6)
    at += 10
    if chunk_start + definition == at:  # the template is defined inline, right here
        (size,) = struct.unpack_from("<I", data, at + 20)
        at += TEMPLATE_HEADER_SIZE + size
    if at + 4 > end:
        return []
    (count,) = struct.unpack_from("<I", data, at)
    descriptors = at + 4
    position = descriptors + 4 * count
    values: list[Value] = []
    for k in range(count):
        size, value_type = struct.unpack_from("<HB", data, descriptors + 4 * k)
        values.append(Value(value_type, position, size, descriptors + 4 * k))
        position += size
    return values if position <= end else []


def fix_checksums(data: bytearray, slot: int) -> None:
    """Re-compute the data and header CRC32 of the chunk at file offset ``slot``."""
    (free,) = struct.unpack_from("<I", data, slot + 48)
    if CHUNK_HEADER_SIZE <= free <= CHUNK_SIZE:
        struct.pack_into("<I", data, slot + 52,
                         zlib.crc32(data[slot + CHUNK_HEADER_SIZE:slot + free]))
    header = zlib.crc32(data[slot + 128:slot + CHUNK_HEADER_SIZE],
                        zlib.crc32(data[slot:slot + 120]))
    struct.pack_into("<I", data, slot + 124, header)


def fix_file_checksum(data: bytearray) -> None:
    """Re-compute the file header CRC32 (bytes 0-119)."""
    struct.pack_into("<I", data, 124, zlib.crc32(data[:120]))


def changed_slots(base: Base, data: bytes | bytearray) -> frozenset[int]:
    """Slots (file offsets) of ``base``'s chunks whose checksummed bytes differ in ``data``.

    Checksummed: the chunk header but its flags (bytes 120-123) and the records up to the free
    space offset. A slot cut short before its free space offset counts as changed too.
    """
    changed = set()
    for index, free in enumerate(base.free):
        slot = base.slot(index)
        if not free or len(data) <= slot:
            continue  # never written, or cut off whole
        end = max(free, CHUNK_HEADER_SIZE)
        if (len(data) < slot + end or data[slot:slot + 120] != base.data[slot:slot + 120]
                or data[slot + 124:slot + end] != base.data[slot + 124:slot + end]):
            changed.add(slot)
    return frozenset(changed)


def _chunks_untouched(base: Base, data: bytes | bytearray) -> frozenset[int]:
    touched = {(slot - FILE_HEADER_SIZE) // CHUNK_SIZE for slot in changed_slots(base, data)}
    return base.offsets(lambda s: s.chunk not in touched)


@described
def flip_bits(base: Base, kind: str, positions: list[tuple[int, int]]) -> Mutation:
    """Flip bit ``bit`` of byte ``position`` for each pair (positions past the end wrap)."""
    data = bytearray(base.data)
    for position, bit in positions:
        data[position % len(data)] ^= 1 << (bit % 8)
    return Mutation(kind, bytes(data), _chunks_untouched(base, data), changed_slots(base, data))


@described
def truncate(base: Base, kind: str, cut: int) -> Mutation:
    """The first ``cut`` bytes: records that end at or before the cut must survive."""
    data = base.data[:cut]
    return Mutation(kind, data, base.offsets(lambda s: s.end <= cut), changed_slots(base, data),
                    in_place=False, cut=cut if cut < len(base.data) else None)


def _chunk(base: Base, index: int) -> bytes:
    return base.data[base.slot(index):base.slot(index + 1)]


@described
def duplicate_chunk(base: Base, source: int, target: int) -> Mutation:
    """A copy of chunk ``source`` inserted before slot ``target`` (header counts unchanged)."""
    chunks = [_chunk(base, k) for k in range(base.chunks)]
    chunks.insert(target, chunks[source])
    data = base.data[:FILE_HEADER_SIZE] + b"".join(chunks)
    return Mutation("duplicate-chunk", data, base.offsets(), in_place=False)


@described
def swap_chunks(base: Base, first: int, second: int) -> Mutation:
    """Chunks ``first`` and ``second`` trade places."""
    chunks = [_chunk(base, k) for k in range(base.chunks)]
    chunks[first], chunks[second] = chunks[second], chunks[first]
    data = base.data[:FILE_HEADER_SIZE] + b"".join(chunks)
    return Mutation("swap-chunks", data, base.offsets(), in_place=False)


@described
def bad_checksum(base: Base, which: str, chunk: int, xor: int) -> Mutation:
    """A wrong CRC32 with the content intact: every record must survive.

    ``which``: ``file-header``, ``chunk-header`` or ``chunk-data``.
    """
    data = bytearray(base.data)
    at = {"file-header": 124, "chunk-header": base.slot(chunk) + 124,
          "chunk-data": base.slot(chunk) + 52}[which]
    struct.pack_into("<I", data, at, struct.unpack_from("<I", data, at)[0] ^ (xor or 1))
    return Mutation(f"bad-crc-{which}", bytes(data), base.offsets(), changed_slots(base, data))


@described
def huge_file_field(base: Base, name: str, value: int, trusted: bool) -> Mutation:
    """A file header field set to ``value`` (masked to its width); checksum fixed if trusted."""
    data = bytearray(base.data)
    at, fmt = FILE_FIELDS[name]
    struct.pack_into(fmt, data, at, value & ((1 << (8 * struct.calcsize(fmt))) - 1))
    if trusted:
        fix_file_checksum(data)
    return Mutation(f"huge-file-{name}", bytes(data), base.offsets())


@described
def huge_chunk_field(base: Base, name: str, chunk: int, value: int, trusted: bool) -> Mutation:
    """A chunk header field set to ``value``; both checksums re-computed if ``trusted``."""
    data = bytearray(base.data)
    at, fmt = CHUNK_FIELDS[name]
    slot = base.slot(chunk)
    value &= (1 << (8 * struct.calcsize(fmt))) - 1
    struct.pack_into(fmt, data, slot + at, value)
    damaged = changed_slots(base, data)
    if trusted:
        fix_checksums(data, slot)
    # A sound header whose free space offset ends on a record boundary: the records behind it
    # look like slack after the chunk's records, to any reader.
    boundaries = {s.end - slot for s in base.spans if s.chunk == chunk} | {CHUNK_HEADER_SIZE}
    slack = name == "free-space" and trusted and value in boundaries
    return Mutation(f"huge-chunk-{name}", bytes(data), base.offsets(lambda s: s.chunk != chunk),
                    damaged if not trusted else frozenset(), in_place=not slack)


@described
def huge_record_size(base: Base, span: Span, value: int, trailer: bool) -> Mutation:
    """A record's size (header, or the copy at its end) set to ``value``; CRCs re-computed.

    The records before it in its chunk must survive as well as the other chunks'.
    """
    data = bytearray(base.data)
    at = span.end - 4 if trailer else span.offset + 4
    struct.pack_into("<I", data, at, value & 0xFFFFFFFF)
    fix_checksums(data, base.slot(span.chunk))
    survivors = base.offsets(lambda s: s.chunk != span.chunk or s.end <= span.offset)
    return Mutation("huge-record-size" + ("-trailer" if trailer else ""), bytes(data), survivors)


def _edited(base: Base, kind: str, data: bytearray, span: Span) -> Mutation:
    """A value edit that keeps the chunk's structure: every other record must survive."""
    fix_checksums(data, base.slot(span.chunk))
    return Mutation(kind, bytes(data), base.offsets(lambda s: s != span), edited=span.offset)


@described
def invalid_utf16(base: Base, span: Span, value: Value, unit: int, at: int) -> Mutation:
    """An unpaired surrogate ``unit`` written into a string value at code unit ``at``."""
    data = bytearray(base.data)
    position = value.offset + 2 * (at % max(1, value.size // 2))
    struct.pack_into("<H", data, position, unit)
    return _edited(base, "invalid-utf16", data, span)


@described
def impossible_filetime(base: Base, span: Span, value: Value | None, filetime: int) -> Mutation:
    """A FILETIME value (or, with ``value=None``, the record header's) set to ``filetime``."""
    data = bytearray(base.data)
    struct.pack_into("<Q", data, value.offset if value else span.offset + 16,
                     filetime & 0xFFFFFFFFFFFFFFFF)
    kind = "impossible-filetime" if value else "impossible-header-time"
    return _edited(base, kind, data, span)


@described
def impossible_systemtime(base: Base, span: Span, value: Value, fields: tuple[int, ...]
                          ) -> Mutation:
    """A 16-byte value re-typed as a SYSTEMTIME holding ``fields`` (year, month, ... ms)."""
    data = bytearray(base.data)
    data[value.descriptor + 2] = TYPE_SYSTEMTIME
    struct.pack_into("<8H", data, value.offset, *(f & 0xFFFF for f in fields))
    return _edited(base, "impossible-systemtime", data, span)


@described
def absurd_value_size(base: Base, span: Span, value: Value, size: int) -> Mutation:
    """A value descriptor's size set to ``size``: the values run past the record."""
    data = bytearray(base.data)
    struct.pack_into("<H", data, value.descriptor, size & 0xFFFF)
    return _edited(base, "absurd-value-size", data, span)


@described
def absurd_template_size(base: Base, span: Span, size: int) -> Mutation | None:
    """The data size of a template defined inline in ``span`` set to ``size``; CRCs fixed.

    Every record of the chunk may use the template: only the other chunks must survive.
    """
    at = span.offset + 24 + 4
    if base.data[at] != TOKEN_TEMPLATE_INSTANCE:
        return None
    (definition,) = struct.unpack_from("<I", base.data, at + 6)
    if base.slot(span.chunk) + definition != at + 10:
        return None
    data = bytearray(base.data)
    struct.pack_into("<I", data, at + 10 + 20, size & 0xFFFFFFFF)
    fix_checksums(data, base.slot(span.chunk))
    return Mutation("absurd-template-size", bytes(data),
                    base.offsets(lambda s: s.chunk != span.chunk))


@described
def absurd_name_length(base: Base, chunk: int, bucket: int, length: int) -> Mutation | None:
    """The character count of a name in the chunk's common string table set to ``length``."""
    slot = base.slot(chunk)
    heads = [h for h in struct.unpack_from("<64I", base.data, slot + 128) if h]
    if not heads:
        return None
    data = bytearray(base.data)
    struct.pack_into("<H", data, slot + heads[bucket % len(heads)] + 6, length & 0xFFFF)
    fix_checksums(data, slot)
    return Mutation("absurd-name-length", bytes(data), base.offsets(lambda s: s.chunk != chunk))


def _chain_loop(base: Base, kind: str, chunk: int, table: int, buckets: int, bucket: int,
                length: int) -> Mutation | None:
    """Chain ``length`` heads of a hash table into a loop (each node's first field is next)."""
    slot = base.slot(chunk)
    heads = [h for h in struct.unpack_from(f"<{buckets}I", base.data, slot + table) if h]
    if not heads:
        return None
    ring = [heads[(bucket + k) % len(heads)] for k in range(min(max(length, 1), len(heads)))]
    data = bytearray(base.data)
    for node, following in zip(ring, ring[1:] + ring[:1], strict=True):
        struct.pack_into("<I", data, slot + node, following)
    fix_checksums(data, slot)
    return Mutation(kind, bytes(data), base.offsets(lambda s: s.chunk != chunk))


@described
def name_chain_loop(base: Base, chunk: int, bucket: int, length: int = 1) -> Mutation | None:
    """Names of the common string table whose next-name links form a loop of ``length``."""
    return _chain_loop(base, "name-chain-loop", chunk, 128, 64, bucket, length)


@described
def template_chain_loop(base: Base, chunk: int, bucket: int, length: int = 1) -> Mutation | None:
    """Templates of the template table whose next-template links form a loop of ``length``."""
    return _chain_loop(base, "template-chain-loop", chunk, 384, 32, bucket, length)


@described
def random_after_header(base: Base, noise: bytes, keep_chunks: int) -> Mutation:
    """The file header and the first ``keep_chunks`` chunks, then ``noise``."""
    cut = base.slot(keep_chunks)
    return Mutation("random-after-header", base.data[:cut] + noise,
                    base.offsets(lambda s: s.end <= cut), in_place=False)


@described
def random_chunk(base: Base, chunk: int, noise: bytes, keep_header: bool, trusted: bool
                 ) -> Mutation:
    """Chunk ``chunk`` overwritten by ``noise`` after its magic (or after its whole header)."""
    data = bytearray(base.data)
    slot = base.slot(chunk)
    start = slot + (CHUNK_HEADER_SIZE if keep_header else 8)
    data[start:slot + CHUNK_SIZE] = noise.ljust(slot + CHUNK_SIZE - start, b"\x00")[
        :slot + CHUNK_SIZE - start]
    damaged = changed_slots(base, data)
    if trusted:
        fix_checksums(data, slot)
    return Mutation("random-chunk", bytes(data), base.offsets(lambda s: s.chunk != chunk),
                    damaged if not trusted else frozenset())


@described
def trusted_flips(base: Base, chunk: int, positions: list[tuple[int, int]]) -> Mutation:
    """Bits flipped in one chunk's records, both checksums re-computed."""
    data = bytearray(base.data)
    slot = base.slot(chunk)
    used = max(base.free[chunk] - CHUNK_HEADER_SIZE, 1)
    for position, bit in positions:
        data[slot + CHUNK_HEADER_SIZE + position % used] ^= 1 << (bit % 8)
    fix_checksums(data, slot)
    return Mutation("trusted-flips", bytes(data), base.offsets(lambda s: s.chunk != chunk))
