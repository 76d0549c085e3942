"""EVTX file and chunk headers, and the lossless chunk pre-filter.

Spec: libyal libevtx "Windows XML Event Log (EVTX) format", sections 2 (file header) and 3
(chunk header): https://github.com/libyal/libevtx/blob/main/documentation/

The pre-filter (DESIGN.md "Measured facts"): every record's provider name occurs as UTF-16LE
text inside its own 64 KiB chunk (in the chunk's template definitions or in the record's
substitution values), so a chunk whose bytes contain none of the relevant provider names holds
no relevant record and can be skipped without decoding. The Rust reader reads a file made of the
original file header (chunk count fixed up) followed by any subset of chunks. A skipped chunk's
record count comes from its header (first/last event record identifier); a chunk whose header
does not look sane is never skipped, so damage can only make the filter decode more.
"""

from __future__ import annotations

import functools
import re
import struct
import zlib
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

EVTX_MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
CHUNK_SIZE = 0x10000
FILE_HEADER_SIZE = 0x1000
CHUNK_HEADER_SIZE = 0x200
FLAG_DIRTY = 0x1
FLAG_FULL = 0x2
# A record is at least 24 bytes of header and trailer plus a few bytes of BinXML.
RECORD_MAGIC = 0x00002A2A
MAX_RECORDS_PER_CHUNK = (CHUNK_SIZE - CHUNK_HEADER_SIZE) // 28


@dataclass(frozen=True, slots=True)
class FileHeader:
    """The fields of the 4 KiB EVTX file header that ingest uses."""

    chunk_count: int
    next_record_id: int
    flags: int
    checksum_ok: bool

    @property
    def dirty(self) -> bool:
        """The log was not closed cleanly; the header's counts may be stale."""
        return bool(self.flags & FLAG_DIRTY)


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    """One 64 KiB chunk slot of the file.

    Attributes:
        index: position of the chunk after the file header (0-based).
        offset: byte offset in the file.
        magic_ok: the chunk starts with ``ElfChnk\\0``.
        empty: the slot is all zero bytes where the magic would be (never written).
        first_id: first event record identifier in the chunk header.
        last_id: last event record identifier in the chunk header.
        header_ok: the header CRC32 matches.
        data_ok: the CRC32 of the records area matches.
        complete: the whole 64 KiB slot is present in the file.
    """

    index: int
    offset: int
    magic_ok: bool
    empty: bool
    first_id: int
    last_id: int
    header_ok: bool
    data_ok: bool
    complete: bool

    @property
    def intact(self) -> bool:
        """Magic and both checksums are right and the slot is complete."""
        return self.magic_ok and self.header_ok and self.data_ok and self.complete

    @property
    def damaged(self) -> bool:
        """A written chunk (not an empty slot) that is not intact."""
        return not self.empty and not self.intact

    @property
    def record_count(self) -> int | None:
        """Records the header says the chunk holds, or ``None`` when the header is not sane."""
        if not self.intact:
            return None
        count = self.last_id - self.first_id + 1
        return count if 0 < count <= MAX_RECORDS_PER_CHUNK else None


def parse_file_header(buf: bytes) -> FileHeader | None:
    """The file header of ``buf``, or ``None`` when it is shorter than the header."""
    if len(buf) < 128 or bytes(buf[:8]) != EVTX_MAGIC:
        return None
    (next_record_id,) = struct.unpack_from("<Q", buf, 24)
    (chunk_count,) = struct.unpack_from("<H", buf, 42)
    flags, checksum = struct.unpack_from("<II", buf, 120)
    return FileHeader(chunk_count, next_record_id, flags, zlib.crc32(buf[:120]) == checksum)


def parse_chunk(chunk: bytes, index: int) -> ChunkInfo:
    """Header facts of the chunk slot ``index`` whose bytes are ``chunk`` (may be short)."""
    offset = FILE_HEADER_SIZE + index * CHUNK_SIZE
    complete = len(chunk) == CHUNK_SIZE
    magic = chunk[:8]
    if magic != CHUNK_MAGIC or len(chunk) < CHUNK_HEADER_SIZE:
        return ChunkInfo(index, offset, False, not magic.strip(b"\x00"), 0, 0, False, False,
                         complete)
    first_id, last_id = struct.unpack_from("<QQ", chunk, 24)
    free_offset, data_crc = struct.unpack_from("<II", chunk, 48)
    (header_crc,) = struct.unpack_from("<I", chunk, 124)
    header_ok = header_crc == _header_crc(chunk)
    data_ok = complete and CHUNK_HEADER_SIZE <= free_offset <= CHUNK_SIZE and zlib.crc32(
        chunk[CHUNK_HEADER_SIZE:free_offset]) == data_crc
    return ChunkInfo(index, offset, True, False, first_id, last_id, header_ok, data_ok, complete)


def _header_crc(chunk: bytes | memoryview) -> int:
    # The header checksum covers bytes 0-119 and 128-511 (libevtx section 3.1).
    return zlib.crc32(chunk[128:CHUNK_HEADER_SIZE], zlib.crc32(chunk[:120]))


def iter_chunks(buf: bytes) -> Iterator[tuple[ChunkInfo, bytes]]:
    """Every chunk slot of an in-memory file, in order (not only the ones the header counts)."""
    for index, offset in enumerate(range(FILE_HEADER_SIZE, len(buf), CHUNK_SIZE)):
        chunk = buf[offset:offset + CHUNK_SIZE]
        yield parse_chunk(chunk, index), chunk


def provider_pattern(providers: Iterable[str]) -> re.Pattern[bytes]:
    """A bytes regex matching any of ``providers`` as UTF-16LE text, case-insensitively.

    Each character becomes an alternation of its lower/upper/original UTF-16LE code units.
    """
    alternatives = sorted({_utf16_class(name) for name in providers if name}, key=len,
                          reverse=True)
    if not alternatives:
        return re.compile(b"(?!)")
    return re.compile(b"|".join(alternatives))


class ProviderMatcher:
    """Fast test of a chunk for provider names (UTF-16LE, any ASCII case).

    An ASCII name written as UTF-16LE text is its ASCII bytes at every other byte, so a chunk
    that holds it holds the name's ASCII bytes in its even bytes or in its odd bytes. Both
    halves of the chunk are searched for the ASCII names: a chunk where neither holds one
    surely holds none (the test can say yes for a chunk that holds none, never no for one that
    holds one), and searching plain ASCII is faster than UTF-16 full of zero bytes.

    Two engines give the same answer for every chunk (tests compare them on the corpus and
    replayed logs). ``hyperscan`` (when the package imports): one compiled database per name
    set (cached), the names as literal bytes with ``HS_FLAG_CASELESS`` (ASCII case only, like
    ``bytes.lower``), scanning each half until its first match. ``python``: ``bytes.lower``
    (ASCII bytes only) and a ``find`` per name in each half. Non-ASCII names always use
    :func:`provider_pattern`.
    """

    def __init__(self, providers: Iterable[str], engine: str = "auto") -> None:
        names = {name for name in providers if name}
        ascii_names = frozenset(name.lower() for name in names if name.isascii())
        self._ascii = sorted({name.encode("ascii") for name in ascii_names}, key=len)
        other = [name for name in names if not name.isascii()]
        self._pattern = provider_pattern(other) if other else None
        self._hyperscan = None
        if engine not in ("auto", "python", "hyperscan"):
            raise ValueError(f"unknown matcher engine {engine!r}")
        if engine != "python" and ascii_names:
            self._hyperscan = _hyperscan_scanner(ascii_names)
            if self._hyperscan is None and engine == "hyperscan":
                raise ImportError("hyperscan is not installed")

    @property
    def engine(self) -> str:
        """``hyperscan`` or ``python``: what tests the ASCII names."""
        return "hyperscan" if self._hyperscan is not None else "python"

    def search(self, chunk: bytes | memoryview) -> bool:
        """Whether ``chunk`` may contain one of the names (see the class text)."""
        data = chunk if isinstance(chunk, bytes) else bytes(chunk)
        if self._hyperscan is not None:
            if self._hyperscan(data[0::2]) or self._hyperscan(data[1::2]):
                return True
        elif self._ascii:
            lowered = data.lower()
            halves = (lowered[0::2], lowered[1::2])
            if any(needle in half for half in halves for needle in self._ascii):
                return True
        return self._pattern is not None and self._pattern.search(data) is not None


class _FirstMatch:
    """Scan a buffer with a Hyperscan database, stopping at the first match."""

    def __init__(self, database: object) -> None:
        import threading

        self._database = database
        self._local = threading.local()  # a scratch per thread: scratches are not shared

    def __call__(self, data: bytes | memoryview) -> bool:
        import hyperscan

        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        try:
            self._database.scan(data, match_event_handler=_stop, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return False


def _stop(*_: object) -> bool:
    return True  # stop the scan: one match decides the chunk


@functools.lru_cache(maxsize=8)
def _hyperscan_scanner(names: frozenset[str]) -> _FirstMatch | None:
    """A compiled Hyperscan block-mode database for ``names`` (lower-case ASCII, searched as
    ASCII), or None."""
    try:
        import hyperscan
    except ImportError:
        return None
    expressions = [b"".join(b"\\x%02x" % byte for byte in name.encode("ascii"))
                   for name in sorted(names)]
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=expressions, ids=list(range(len(expressions))),
                     elements=len(expressions),
                     flags=[hyperscan.HS_FLAG_CASELESS] * len(expressions))
    return _FirstMatch(database)


def _utf16_class(name: str) -> bytes:
    parts: list[bytes] = []
    for char in name:
        variants = sorted({v for v in (char, char.lower(), char.upper()) if len(v) == 1})
        encoded = [re.escape(v.encode("utf-16-le")) for v in variants]
        parts.append(encoded[0] if len(encoded) == 1 else b"(?:" + b"|".join(encoded) + b")")
    return b"".join(parts)


def build_file(header: bytes, chunks: Iterable[bytes]) -> bytes:
    """The original file header followed by ``chunks``, header counts and checksum fixed up.

    The magic and the fixed-size fields (header size, major version, header block size) are
    written afresh too: a reader of the result must not refuse the file for a damaged header
    that ingest has already reported.
    """
    chunks = list(chunks)
    fixed = bytearray(header[:FILE_HEADER_SIZE].ljust(FILE_HEADER_SIZE, b"\x00"))
    fixed[0:8] = EVTX_MAGIC
    fixed[8:24] = struct.pack("<QQ", 0, max(0, len(chunks) - 1))
    fixed[32:36] = struct.pack("<I", 128)
    fixed[38:42] = struct.pack("<HH", 3, FILE_HEADER_SIZE)
    fixed[42:44] = struct.pack("<H", min(len(chunks), 0xFFFF))
    fixed[124:128] = struct.pack("<I", zlib.crc32(fixed[:120]))
    return b"".join([bytes(fixed), *chunks])


@dataclass(slots=True)
class RecordHeaders:
    """The record headers of one chunk, in chunk order, as parallel lists."""

    numbers: list[int]
    offsets: list[int]
    sizes: list[int]
    filetimes: list[int]
    _index: dict[int, int] | None = None

    def before(self, free: int) -> tuple[int, int]:
        """How many records start before ``free`` (the chunk's free space offset: the ones a
        reader reads), and where the last of them ends (the chunk header's end when none)."""
        active = bisect_left(self.offsets, free)  # offsets increase along the walk
        end = self.offsets[active - 1] + self.sizes[active - 1] if active else CHUNK_HEADER_SIZE
        return active, end

    def index(self) -> dict[int, int]:
        """Record number -> position in the lists (the first record of a repeated number)."""
        if self._index is None:
            count = len(self.numbers)
            self._index = dict(zip(reversed(self.numbers), range(count - 1, -1, -1), strict=True))
        return self._index


def record_headers(chunk: bytes, limit: int | None = None) -> RecordHeaders:
    """Walk the record headers of one chunk.

    Stops at the first record header that does not look right, or at ``limit`` (a cut).
    """
    headers = RecordHeaders([], [], [], [])
    numbers, offsets = headers.numbers.append, headers.offsets.append
    sizes, filetimes = headers.sizes.append, headers.filetimes.append
    length = len(chunk)
    last = min(length, limit if limit is not None else length) - 24  # a whole header fits
    position = CHUNK_HEADER_SIZE
    unpack = _RECORD_HEADER.unpack_from
    while position <= last:
        magic, size, number, filetime = unpack(chunk, position)
        if magic != RECORD_MAGIC or size < 28 or position + size > length:
            break
        numbers(number)
        offsets(position)
        sizes(size)
        filetimes(filetime)
        position += size
    return headers


_RECORD_HEADER = struct.Struct("<IIQQ")


def record_offsets(chunk: bytes, limit: int | None = None) -> dict[int, tuple[int, int, int]]:
    """Record number -> (offset, size, FILETIME) of one chunk (see :func:`record_headers`)."""
    headers = record_headers(chunk, limit)
    return {number: (headers.offsets[k], headers.sizes[k], headers.filetimes[k])
            for number, k in headers.index().items()}


STRING_TABLE = 0x80  # chunk header: 64 offsets of the common-string hash chains
TEMPLATE_TABLE = 0x180  # chunk header: 32 offsets of the template hash chains
_TABLES = struct.Struct("<96I")


def _chain_nodes(chunk: bytes) -> Iterator[tuple[int, int, int | None]]:
    """Every node of the string and template hash chains, as (table slot, offset of the link
    that points to it, its offset); ``None`` for the offset where the link closes a loop.

    Each chain node starts with the offset of the next node (0 ends the chain); a node too
    close to the chunk's end to hold that link ends its chain.
    """
    heads = _TABLES.unpack_from(chunk, STRING_TABLE)
    unpack = _LINK.unpack_from
    size = len(chunk)
    for slot, offset in enumerate(heads):
        link = STRING_TABLE + 4 * slot
        seen: set[int] = set()
        while offset:
            if offset in seen:
                yield slot, link, None
                break
            seen.add(offset)
            yield slot, link, offset
            if offset + 4 > size:
                break
            link = offset
            (offset,) = unpack(chunk, link)


_LINK = struct.Struct("<I")
_LENGTH = struct.Struct("<H")


def looping_links(chunk: bytes) -> list[int]:
    """Chunk offsets of the links that close a loop in the string or template hash chains.

    A crafted or damaged link that points back into its own chain makes a reader that follows
    it loop forever (the ``evtx`` package does); cutting these links (writing 0) ends every
    chain.
    """
    return [link for _, link, node in _chain_nodes(chunk) if node is None]


def chains_sound(chunk: bytes) -> bool:
    """Whether every string and template hash chain ends (no loop, see :func:`looping_links`)
    and every node on them lies whole inside the chunk: a name structure with its text, a
    template definition with its body. ``evtx`` builds its caches of the chunk from these
    chains and fails the chunk's records on a node it cannot read."""
    size = len(chunk)
    for slot, _, node in _chain_nodes(chunk):
        if node is None:
            return False
        if slot >= 64:  # a template definition: 24-byte header, then its body
            end = node + 24 + (_LINK.unpack_from(chunk, node + 20)[0] if node + 24 <= size
                               else size)
        else:  # a name: 8-byte header, the UTF-16 text, a terminating zero
            end = node + 10 + 2 * (_LENGTH.unpack_from(chunk, node + 6)[0] if node + 8 <= size
                                   else size)
        if end > size:
            return False
    return True
