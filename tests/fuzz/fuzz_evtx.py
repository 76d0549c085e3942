"""Fuzz the binary .evtx reader: both backends, with and without the provider pre-filter.

The first input byte selects the mode, the rest is the file:

- bit 0: backend ``rust`` (set) or ``python`` (clear);
- bit 1: ``prefilter_providers`` = the pipeline's relevant providers;
- bit 2: no chunk pre-filter (``chunk_prefilter=False``; records are still skipped unbuilt);
- bit 3: fix the file header and chunk checksums up first, so that mutated chunks still look
  intact and reach the code paths of sound chunks (pre-filter, skipped runs).

Invariants: those of :mod:`tests.fuzz.common` (items, accounting, canary), and with a
pre-filter the relevant records equal those of a full decode with the same backend (the
pre-filter is lossless, README "Performance").

Run: ``python tests/fuzz/fuzz_evtx.py [libFuzzer flags] [corpus dirs]`` (``-max_len`` defaults
to 200000: a header and three 64 KiB chunks).
"""

from __future__ import annotations

import logging
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__", "Evtx"):
    from evtxmpio.ingest import ReadOptions
    from evtxmpio.model import RawRecord
    from evtxmpio.normalize.providers import RELEVANT_PROVIDERS, is_relevant

HEADER_SIZE = 0x1000
CHUNK_SIZE = 0x10000
CHUNK_HEADER_SIZE = 0x200
DEFAULTS = {"max_len": "200000"}


def options_for(selector: int) -> ReadOptions:
    """The read options the selector byte names."""
    return ReadOptions(backend="rust" if selector & 1 else "python",
                       prefilter_providers=RELEVANT_PROVIDERS if selector & 2 else None,
                       chunk_prefilter=not selector & 4)


def fix_checksums(data: bytes) -> bytes:
    """``data`` with the file header CRC and every chunk's header and data CRCs made right."""
    buf = bytearray(data)
    if len(buf) >= 128:
        struct.pack_into("<I", buf, 124, zlib.crc32(bytes(buf[:120])))
    for offset in range(HEADER_SIZE, len(buf), CHUNK_SIZE):
        chunk = buf[offset:offset + CHUNK_SIZE]
        if len(chunk) < CHUNK_HEADER_SIZE or not chunk.startswith(b"ElfChnk\x00"):
            continue
        (free_offset,) = struct.unpack_from("<I", chunk, 48)
        if CHUNK_HEADER_SIZE <= free_offset <= len(chunk):
            data_crc = zlib.crc32(bytes(chunk[CHUNK_HEADER_SIZE:free_offset]))
            struct.pack_into("<I", buf, offset + 52, data_crc)
            struct.pack_into("<I", chunk, 52, data_crc)
        header_crc = zlib.crc32(bytes(chunk[128:CHUNK_HEADER_SIZE]),
                                zlib.crc32(bytes(chunk[:120])))
        struct.pack_into("<I", buf, offset + 124, header_crc)
    return bytes(buf)


def _key(record: RawRecord) -> tuple[object, ...]:
    return (record.source_offset, record.record_id, record.provider, record.event_id,
            record.time_ns, record.data, record.binary)


def _relevant(items: list[object]) -> list[tuple[object, ...]]:
    return [_key(i) for i in items if isinstance(i, RawRecord) and is_relevant(i)]


def TestOneInput(data: bytes) -> None:
    """One input: selector byte, then the .evtx bytes."""
    if not data:
        return
    selector, body = data[0], data[1:]
    if selector & 8:
        body = fix_checksums(body)
    options = options_for(selector)
    items = common.drain("evtx", body, options)
    if options.prefilter_providers is not None:
        full = common.drain("evtx", body, ReadOptions(backend=options.backend))
        assert _relevant(items) == _relevant(full), "the pre-filter lost or changed records"
    common.check_accounts(body, options)


if __name__ == "__main__":
    logging.getLogger("Evtx").setLevel(logging.ERROR)  # python-evtx warns once per bad token
    common.fuzz_main(TestOneInput, DEFAULTS)
