"""Zip archives (nested) and gzip files: their members become sources, read in memory.

Spec: PKWARE APPNOTE.TXT (zip), RFC 1952 (gzip); Python's ``zipfile`` and ``gzip`` do the
decoding. Nothing is ever extracted to disk, so a member name is only a display name
(``case.zip!logs/System.evtx``, nested ``a.zip!b.zip!x.evtx``) and is never used as a path.
Still, a member whose name is absolute or climbs out (``..``) is refused: it marks a crafted
archive. Zip bombs are defeated by limits checked *before* a member is read (declared sizes,
compression ratio, member count, nesting depth) and enforced while it is read (a shared
budget of uncompressed bytes for the whole top-level archive; gzip has no trustworthy size
field, so its stream is cut at the budget).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import BinaryIO

from evtxmpio.ingest.base import IngestIssue, Source

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"


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


class ArchiveLimitError(OSError):
    """Reading a member went past the archive's budget of uncompressed bytes."""


@dataclass(slots=True)
class Budget:
    """Uncompressed bytes left for one top-level archive (shared by nested ones)."""

    remaining: int
    spent: list[int] = field(default_factory=list)


def archive_kind(head: bytes) -> str | None:
    """``zip`` or ``gzip`` when ``head`` starts like one, else ``None``."""
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    return None


@dataclass(slots=True)
class _Meter:
    """Bytes one gzip member has given so far (the most over all its openings)."""

    budget: Budget
    cap: int
    high: int = 0


class _Capped(io.RawIOBase):
    """A read-only stream over ``inner`` that charges what comes out to the archive budget.

    A member may be opened several times (sniffing, then reading): only bytes beyond the most
    any opening has read are charged. Raises once the member passes ``meter.cap`` or the
    archive's budget runs out.
    """

    def __init__(self, inner: BinaryIO, meter: _Meter, name: str) -> None:
        self._inner = inner
        self._meter = meter
        self._position = 0
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        meter = self._meter
        data = self._inner.read(min(len(buffer), meter.cap - self._position + 1))
        self._position += len(data)
        if self._position > meter.cap:
            raise ArchiveLimitError(f"{self._name}: the member expands beyond its size limit "
                                    "(raise with --limit archive-member=SIZE)")
        if self._position > meter.high:
            meter.budget.remaining -= self._position - meter.high
            meter.high = self._position
            if meter.budget.remaining < 0:
                raise ArchiveLimitError(f"{self._name}: the archive expands beyond its total "
                                        "size limit (raise with --limit archive-total=SIZE)")
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def member_name_problem(name: str) -> str | None:
    """Why a member name is refused, or ``None`` if it is acceptable."""
    if "\x00" in name:
        return "NUL in member name"
    normalized = name.replace("\\", "/")
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":"):
        return "absolute member path"
    if ".." in PurePosixPath(normalized).parts:
        return "member path climbs out of the archive (..)"
    return None


def expand_archive(source: Source, kind: str, limits: ArchiveLimits, budget: Budget
                   ) -> Iterator[Source | IngestIssue]:
    """Members of the archive ``source`` as sources, and issues for refused members."""
    if kind == "gzip":
        yield _gzip_member(source, limits, budget)
        return
    yield from _zip_members(source, limits, budget)


def _gzip_member(source: Source, limits: ArchiveLimits, budget: Budget) -> Source:
    inner = source.name.rsplit("!", 1)[-1]
    stem = PurePosixPath(inner.replace("\\", "/")).name
    stem = stem[:-3] if stem.lower().endswith(".gz") else stem + ".ungz"
    meter = _Meter(budget, limits.max_member_bytes)

    def open_member() -> BinaryIO:
        raw = gzip.GzipFile(fileobj=source.open(), mode="rb")
        return io.BufferedReader(_Capped(raw, meter, source.name))  # type: ignore[arg-type]

    return Source(name=f"{source.name}!{stem}", open=open_member, size=None)


def _zip_members(source: Source, limits: ArchiveLimits, budget: Budget
                 ) -> Iterator[Source | IngestIssue]:
    with source.open() as stream:
        seekable = stream.seekable()
        # Only a gzip member is not seekable, and its stream charges the budget as it reads.
        handle: BinaryIO = stream if seekable else io.BytesIO(stream.read())
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            yield IngestIssue(source.name, None, "zip.bad-archive", f"not a readable zip: {exc}")
            return
        with archive:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if len(infos) > limits.max_members:
                yield IngestIssue(source.name, None, "zip.too-many-members",
                                  f"{len(infos)} members, limit {limits.max_members}; only the "
                                  "first ones are read (raise with --limit archive-members=N)")
            for info in infos[:limits.max_members]:
                problem = _member_problem(info, limits, budget)
                if problem:
                    yield IngestIssue(source.name, info.header_offset, "zip.member-refused",
                                      f"{info.filename!r}: {problem}")
                    continue
                budget.remaining -= info.file_size
                yield Source(name=f"{source.name}!{info.filename}",
                             open=_opener(archive, info), size=info.file_size)


def _opener(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: archive.open(info)


def _member_problem(info: zipfile.ZipInfo, limits: ArchiveLimits, budget: Budget
                    ) -> str | None:
    problem = member_name_problem(info.filename)
    if problem:
        return problem
    if info.flag_bits & 0x1:
        return "encrypted member"
    if (info.external_attr >> 16) & 0o170000 == 0o120000:
        return "symbolic link member"
    if info.file_size > limits.max_member_bytes:
        return (f"{info.file_size} bytes uncompressed, limit {limits.max_member_bytes} "
                "(raise with --limit archive-member=SIZE)")
    if info.file_size > budget.remaining:
        return ("archive expands beyond its total size limit "
                "(raise with --limit archive-total=SIZE)")
    if info.file_size > (1 << 20) and info.file_size > limits.max_ratio * max(
            info.compress_size, 1):
        return (f"compression ratio {info.file_size // max(info.compress_size, 1)} above "
                f"{limits.max_ratio}, a zip bomb? (raise with --limit archive-ratio=N)")
    return None
