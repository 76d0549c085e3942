"""Windows FILETIME: 100-ns intervals since 1601-01-01 UTC (MS-DTYP 2.3.3)."""

from __future__ import annotations

FILETIME_UNIX_EPOCH = 116_444_736_000_000_000
"""1970-01-01 UTC as a FILETIME: 11,644,473,600 s after 1601-01-01, in 100-ns ticks."""


def filetime_to_ns(filetime: int) -> int:
    """A FILETIME to nanoseconds since 1970-01-01 UTC."""
    return (filetime - FILETIME_UNIX_EPOCH) * 100


def ns_to_filetime(time_ns: int) -> int:
    """Nanoseconds since 1970-01-01 UTC to a FILETIME (truncated to its 100-ns ticks)."""
    return time_ns // 100 + FILETIME_UNIX_EPOCH
