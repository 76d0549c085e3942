"""The checks of an archive's members, shared by both archive readers.

``analyze`` reads archives in memory (:mod:`evtxmpio.ingest.archive`); triage extracts them to
disk (:mod:`evtxmpio.triage.archive`), which adds stricter name rules and its own default
limits. Both refuse members with these functions, so a name, a size or a ratio is judged the
same way by both, against the same :class:`ArchiveLimits` (``--limit archive-*``; the
in-memory reader also re-exports it). Each function returns why a member is refused, or
``None``; every reason names the ``--limit`` key that raises its limit.

Sizes are judged twice: from the zip's declared sizes before a member is read (``declared``),
and by counting while it is read (declared sizes are not believed; gzip declares none).
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    """Bounds on what one top-level archive may expand to.

    Attributes:
        max_total_bytes: uncompressed bytes over all members, nested ones included.
        max_member_bytes: uncompressed bytes of one member.
        max_depth: archives inside archives (1 = no nesting).
        max_members: members of one archive.
        max_ratio: uncompressed/compressed ratio above which a member is refused (when it
            would expand to more than 1 MiB).
    """

    max_total_bytes: int = 4 << 30
    max_member_bytes: int = 2 << 30
    max_depth: int = 4
    max_members: int = 10_000
    max_ratio: int = 200


# A System log compresses about 10-20x; the ratio applies once a member is past 1 MiB.
RATIO_FLOOR_BYTES = 1 << 20


def member_name_problem(name: str) -> str | None:
    """Why a member name is refused (NUL, absolute, climbs out with ``..``), or ``None``."""
    if "\x00" in name:
        return "NUL in member name"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return "absolute member path"
    if ".." in PurePosixPath(normalized).parts:
        return "member path climbs out of the archive (..)"
    return None


def entry_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is refused whatever its name: encrypted, or a symbolic link."""
    if info.flag_bits & 0x1:
        return "encrypted"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link"
    return None


def count_problem(count: int, limits: ArchiveLimits) -> str | None:
    """Why an archive of ``count`` members is refused (or cut), or ``None``."""
    if count <= limits.max_members:
        return None
    return (f"more than {limits.max_members} members ({count}; limit archive-members; raise "
            "with --limit archive-members=N)")


def size_problem(size: int, limits: ArchiveLimits) -> str | None:
    """Why a member of ``size`` uncompressed bytes (declared, or read so far) is refused."""
    if size <= limits.max_member_bytes:
        return None
    return (f"larger than {limits.max_member_bytes} bytes (limit archive-member; raise with "
            "--limit archive-member=SIZE)")


def total_problem(total: int, limits: ArchiveLimits, *, case: bool = False) -> str | None:
    """Why an archive whose members expand to ``total`` bytes is refused, or ``None``.
    ``case``: triage's wording, for an archive that is a whole case, with the limit in bytes."""
    if total <= limits.max_total_bytes:
        return None
    if case:
        return (f"case larger than {limits.max_total_bytes} bytes uncompressed (limit "
                "archive-total; raise with --limit archive-total=SIZE)")
    return "archive expands beyond its total size limit (raise with --limit archive-total=SIZE)"


def ratio_problem(size: int, compressed: int, limits: ArchiveLimits, *,
                  declared: bool) -> str | None:
    """Why a member that expands from ``compressed`` to ``size`` bytes is refused as a
    likely bomb, or ``None``: its ratio is above ``max_ratio`` once it is past 1 MiB.
    ``declared`` sizes give the member's ratio; while reading, the ratio only grows."""
    if size <= RATIO_FLOOR_BYTES or size <= limits.max_ratio * max(compressed, 1):
        return None
    if declared:
        return (f"compression ratio {size // max(compressed, 1)} above {limits.max_ratio}, "
                "a zip bomb? (raise with --limit archive-ratio=N)")
    return (f"compression ratio above {limits.max_ratio} (zip bomb? limit archive-ratio; "
            "raise with --limit archive-ratio=N)")
