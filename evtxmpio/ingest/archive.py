"""Zip archives (nested) and gzip files: their members become sources, read in memory.

Spec: PKWARE APPNOTE.TXT (zip), RFC 1952 (gzip); Python's ``zipfile`` and ``gzip`` do the
decoding. Nothing is ever extracted to disk, so a member name is only a display name
(``case.zip!logs/System.evtx``, nested ``a.zip!b.zip!x.evtx``) and is never used as a path.
Still, a member whose name is absolute or climbs out (``..``) is refused: it marks a crafted
archive. Names, sizes and ratios are judged by :mod:`evtxmpio.ingest.members`, the checks
triage's extraction uses too. Zip bombs are defeated by limits checked *before* a member is
read (declared sizes, compression ratio, member count, nesting depth) and enforced while it is
read (a shared budget of uncompressed bytes for the whole top-level archive; gzip has no
trustworthy size field, so its stream is cut at the budget).
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from evtxmpio.ingest.base import IngestIssue, Source
from evtxmpio.ingest.members import (
    ArchiveLimits,
    count_problem,
    entry_problem,
    member_name_problem,
    ratio_problem,
    size_problem,
    total_problem,
)

__all__ = ["ArchiveLimitError", "ArchiveLimits", "Budget", "archive_kind", "expand_archive",
           "member_name_problem"]

ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
GZIP_MAGIC = b"\x1f\x8b"


class ArchiveLimitError(OSError):
    """Reading a member went past the archive's budget of uncompressed bytes."""


@dataclass(slots=True)
class Budget:
    """Uncompressed bytes left for one top-level archive (shared by nested ones)."""

    remaining: int

    def total_after(self, more: int, limits: ArchiveLimits) -> int:
        """Uncompressed bytes of the top-level archive once ``more`` are read."""
        return limits.max_total_bytes - self.remaining + more


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
    limits: ArchiveLimits
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
        meter, limits = self._meter, self._meter.limits
        data = self._inner.read(min(len(buffer),
                                    limits.max_member_bytes - self._position + 1))
        self._position += len(data)
        problem = size_problem(self._position, limits)
        if self._position > meter.high:
            problem = problem or total_problem(
                meter.budget.total_after(self._position - meter.high, limits), limits)
            meter.budget.remaining -= self._position - meter.high
            meter.high = self._position
        if problem:
            raise ArchiveLimitError(f"{self._name}: {problem}")
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


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
    meter = _Meter(budget, limits)

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
            too_many = count_problem(len(infos), limits)
            if too_many:
                yield IngestIssue(source.name, None, "zip.too-many-members",
                                  f"{too_many}: only the first ones are read")
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
    return (member_name_problem(info.filename) or entry_problem(info)
            or size_problem(info.file_size, limits)
            or total_problem(budget.total_after(info.file_size, limits), limits)
            or ratio_problem(info.file_size, info.compress_size, limits, declared=True))
