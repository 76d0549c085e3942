"""Fuzz archive expansion (zip, gzip, nested) and everything read out of archives.

The input is the archive. It goes through :func:`evtxmpio.ingest.read_source` with small
:class:`ArchiveLimits`, so limits are hit often. Invariants:

- ``read_source`` never raises, and every account keeps the accounting identity with no reader
  failure caught (:func:`tests.fuzz.common.check_accounts`);
- every account after the first is a member's, named ``fuzz.bin!member``;
- the uncompressed bytes of all members, nested ones included, stay within
  ``max_total_bytes`` (one member may overrun by a read block before it is cut), and no member
  yields more than ``max_member_bytes``; this is measured by expanding the archive again with
  :func:`evtxmpio.ingest.archive.expand_archive` and reading every member.

Run: ``python tests/fuzz/fuzz_archive.py [libFuzzer flags] [corpus dirs]`` (``-max_len``
defaults to 65536).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__", "zipfile", "gzip"):
    from evtxmpio.ingest import ReadOptions, Source
    from evtxmpio.ingest.archive import ArchiveLimits, Budget, archive_kind, expand_archive
    from evtxmpio.normalize.providers import RELEVANT_PROVIDERS

DEFAULTS = {"max_len": "65536"}
LIMITS = ArchiveLimits(max_total_bytes=1 << 20, max_member_bytes=512 << 10, max_depth=3,
                       max_members=16, max_ratio=50)
OPTIONS = ReadOptions(backend="rust", prefilter_providers=RELEVANT_PROVIDERS)
BLOCK = 1 << 16
# Raised by a member's stream (cut at the budget, damaged compressed data) through its reader.
STREAM_ERRORS = ("ArchiveLimitError", "EOFError", "BadGzipFile", "BadZipFile", "error:",
                 "OSError", "zlib.error")


def expanded_bytes(source: Source, kind: str, budget: Budget, depth: int = 1) -> int:
    """Uncompressed bytes of every member of ``source``, nested archives expanded too."""
    total = 0
    try:
        for member in expand_archive(source, kind, LIMITS, budget):
            if isinstance(member, Source):
                size, head = _read_member(member)
                assert size <= LIMITS.max_member_bytes, (member.name, size)
                total += size
                inner = archive_kind(head)
                if inner is not None and depth < LIMITS.max_depth:
                    total += expanded_bytes(member, inner, budget, depth + 1)
    except Exception:  # a broken archive ends its expansion (collect does the same)
        return total
    return total


def _read_member(member: Source) -> tuple[int, bytes]:
    size, head = 0, b""
    try:
        with member.open() as stream:
            while block := stream.read(BLOCK):
                head = head or block[:8]
                size += len(block)
    except Exception:  # a damaged or capped member stops where it broke
        return size, head
    return size, head


def TestOneInput(data: bytes) -> None:
    """One input: the archive's bytes."""
    result = common.check_accounts(data, OPTIONS, LIMITS, STREAM_ERRORS)
    for account in result.accounts[1:]:
        assert account.file.startswith(common.SOURCE_NAME + "!"), account.file
    kind = archive_kind(data[:8])
    if kind is not None:
        total = expanded_bytes(common.bytes_source(data), kind, Budget(LIMITS.max_total_bytes))
        assert total <= LIMITS.max_total_bytes + BLOCK, f"archive expanded to {total} bytes"


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
