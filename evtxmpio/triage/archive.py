"""Read and extract the members of a case archive (``.zip``, or one gzip'd file) safely.

Archives come from customers: their member names and sizes are untrusted. Before anything is
written, every member name is checked and the whole archive is refused, naming the archive and
the member, when one is:

* absolute (``/x``, ``C:\\x``, ``C:x``, ``\\\\server\\share``), climbs out (``..``), holds a
  backslash, a colon (a drive or an NTFS alternate data stream), a NUL, or is a Windows device
  name (``CON``, ``nul.txt``, ``COM1``);
* a symbolic link or encrypted;
* a duplicate: the same path twice (also after ``a/./b`` -> ``a/b``), or two names that are one
  file on a case-insensitive file system (``System.evtx`` / ``system.EVTX``, Unicode
  normalization and Windows' trailing dots and spaces included). They are refused on every
  machine, not only on case-insensitive ones, so a case gives the same outcome on any worker;
* a file whose path is also another member's folder (``logs`` and ``logs/System.evtx``).

Sizes are counted while reading (the header's sizes are not believed) against
:class:`~evtxmpio.ingest.archive.ArchiveLimits` (``--limit archive-*``), judged by the checks
``analyze``'s in-memory reader uses (:mod:`evtxmpio.ingest.members`): bytes of one member,
bytes of the case, the expansion ratio of a member past 1 MiB (zip and gzip), and the member
count. Extraction creates each file new (``O_EXCL``, never through a symbolic link) inside the
case's working folder and checks that its resolved path stays there.

Triage extracts to disk, not to memory, so its defaults (:data:`TRIAGE_ARCHIVE_LIMITS`) allow
larger cases than ``analyze``'s in-memory reading: 16 GiB per case, 4 GiB per member, ratio
1000, 10,000 members.
"""

from __future__ import annotations

import gzip
import os
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from evtxmpio.errors import Error
from evtxmpio.ingest.archive import ArchiveLimits
from evtxmpio.ingest.limits import Limits
from evtxmpio.ingest.members import (
    count_problem,
    entry_problem,
    member_name_problem,
    ratio_problem,
    size_problem,
    total_problem,
)

TRIAGE_ARCHIVE_LIMITS = ArchiveLimits(max_total_bytes=16 << 30, max_member_bytes=4 << 30,
                                      max_ratio=1000, max_members=10_000)
BLOCK = 1 << 20
ARCHIVE_SUFFIXES = (".zip", ".gz")
WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$",
                             *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))})
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(
    os, "O_BINARY", 0)


class UnsafeArchive(Error):
    """An archive is unreadable or breaks a safety limit: ``case.zip: member '../x': ...``."""


_READ_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
                RuntimeError)


def default_limits() -> Limits:
    """The limits of a triage run: :class:`Limits` with :data:`TRIAGE_ARCHIVE_LIMITS`."""
    return Limits(archive=TRIAGE_ARCHIVE_LIMITS)


def _component_problem(part: str) -> str | None:
    if ":" in part:
        return "colon in member name (a drive or an alternate data stream)"
    if part.split(".", 1)[0].rstrip(" ").lower() in WINDOWS_DEVICES:
        return "Windows device name"
    return None


def safe_member_name(name: str) -> str:
    """The member name as a relative POSIX path.

    The ingest stage's rules apply (:func:`evtxmpio.ingest.archive.member_name_problem`), and
    since triage writes members to disk, backslashes, colons and device names are refused too.

    Raises:
        UnsafeArchive: for a name that is refused (see the module docstring).
    """
    problem = member_name_problem(name)
    if problem is None and "\\" in name:
        problem = "Windows-style path (backslash)"
    parts = PurePosixPath(name).parts
    if problem is None and (not parts or "" in parts):
        problem = "empty name"
    for part in parts if problem is None else ():
        problem = problem or _component_problem(part)
    if problem is not None:
        raise UnsafeArchive(f"member {name!r}: {problem}")
    return PurePosixPath(*parts).as_posix()


def collision_key(name: str) -> str:
    """What a case-insensitive file system (NTFS, APFS) sees of a member name."""
    folded = unicodedata.normalize("NFC", name).casefold()
    return "/".join(part.rstrip(". ") for part in folded.split("/"))


def check_names(names: list[tuple[str, str]]) -> None:
    """Refuse duplicates, case-insensitive collisions and file/folder conflicts.

    Args:
        names: ``(raw member name, safe name)`` pairs.

    Raises:
        UnsafeArchive: naming the member and the one it collides with.
    """
    seen: dict[str, str] = {}
    for raw, name in names:
        key = collision_key(name)
        if key in seen:
            first = seen[key]
            why = "appears twice" if first == name else \
                f"same file as {first!r} on a case-insensitive file system"
            raise UnsafeArchive(f"member {raw!r}: {why}")
        seen[key] = name
    for raw, name in names:
        parts = collision_key(name).split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in seen:
                raise UnsafeArchive(f"member {raw!r}: its folder {seen[folder]!r} is also a "
                                    "file member")


@dataclass(slots=True)
class _Budget:
    """Counts bytes read from one archive against its :class:`ArchiveLimits`."""

    limits: ArchiveLimits
    total: int = 0

    def take(self, name: str, count: int, member_bytes: int, compressed: int | None) -> None:
        limits = self.limits
        self.total += count
        problem = size_problem(member_bytes, limits)
        if problem is not None:
            raise UnsafeArchive(f"member {name!r}: {problem}")
        problem = total_problem(self.total, limits, case=True)
        if problem is not None:
            raise UnsafeArchive(problem)
        if compressed is not None and (problem := ratio_problem(
                member_bytes, compressed, limits, declared=False)):
            raise UnsafeArchive(f"member {name!r}: {problem}")


def _blocks(stream: BinaryIO, name: str, budget: _Budget, compressed: int | None,
            archive: str) -> Iterator[bytes]:
    size = 0
    try:
        while block := stream.read(BLOCK):
            size += len(block)
            budget.take(name, len(block), size, compressed)
            yield block
    except UnsafeArchive as exc:
        raise UnsafeArchive(f"{archive}: {exc}") from exc
    except _READ_ERRORS as exc:
        raise UnsafeArchive(f"{archive}: member {name!r}: unreadable: {exc}") from exc


def _zip_infos(archive: zipfile.ZipFile, limits: ArchiveLimits
               ) -> list[tuple[str, zipfile.ZipInfo]]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    problem = count_problem(len(infos), limits)
    if problem is not None:
        raise UnsafeArchive(problem)
    for info in infos:
        problem = entry_problem(info)
        if problem is not None:
            raise UnsafeArchive(f"member {info.filename!r}: {problem}")
    named = sorted(((safe_member_name(info.filename), info) for info in infos),
                   key=lambda pair: pair[0])
    check_names([(info.filename, name) for name, info in named])
    return named


def iter_members(path: Path, limits: ArchiveLimits = TRIAGE_ARCHIVE_LIMITS
                 ) -> Iterator[tuple[str, Iterator[bytes]]]:
    """``(member name, its byte blocks)`` in name order; blocks must be consumed in turn.

    Every name is checked before the first member is read.

    Raises:
        UnsafeArchive: when the archive is damaged or breaks a limit (names the archive).
    """
    budget = _Budget(limits)
    try:
        if path.suffix.lower() == ".gz":
            name = safe_member_name(gzip_member_name(path))
            with gzip.open(path, "rb") as stream:
                yield name, _blocks(stream, name, budget, path.stat().st_size, path.name)
            return
        with zipfile.ZipFile(path) as archive:
            for name, info in _zip_infos(archive, limits):
                with archive.open(info) as stream:
                    yield name, _blocks(stream, name, budget, info.compress_size, path.name)
    except UnsafeArchive as exc:
        raise UnsafeArchive(f"{path.name}: {exc}") from exc
    except _READ_ERRORS as exc:
        raise UnsafeArchive(f"{path.name}: unreadable archive: {exc}") from exc


def gzip_member_name(path: Path) -> str:
    """The one member of ``name.ext.gz``: ``name.ext``."""
    return path.stem or "member"


def _create(target: Path, name: str) -> BinaryIO:
    """A new file for member ``name`` under ``target``; never outside it, never through a
    symbolic link, never over an existing file."""
    root = target.resolve()
    parts = PurePosixPath(name).parts
    try:
        folder = root
        for part in parts[:-1]:
            folder = folder / part
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise UnsafeArchive(f"member {name!r}: {part!r} is not a folder")
            folder.mkdir(exist_ok=True)
        out = folder / parts[-1]
        if root not in out.resolve().parents:
            raise UnsafeArchive(f"member {name!r} escapes the case folder")
        return os.fdopen(os.open(out, _OPEN_FLAGS, 0o600), "wb")
    except OSError as exc:
        raise UnsafeArchive(f"member {name!r}: cannot be written: {exc.strerror}") from exc


def extract(path: Path, target: Path, limits: ArchiveLimits = TRIAGE_ARCHIVE_LIMITS) -> int:
    """Extract every member of ``path`` under ``target``; return the member count.

    Raises:
        UnsafeArchive: as :func:`iter_members`, or when a member cannot be written inside
            ``target``.
    """
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UnsafeArchive(f"{path.name}: cannot create {target}: {exc.strerror}") from exc
    count = 0
    for name, blocks in iter_members(path, limits):
        try:
            sink = _create(target, name)
        except UnsafeArchive as exc:
            raise UnsafeArchive(f"{path.name}: {exc}") from exc
        with sink:
            for block in blocks:
                try:
                    sink.write(block)
                except OSError as exc:
                    raise UnsafeArchive(f"{path.name}: member {name!r}: cannot be written: "
                                        f"{exc.strerror}") from exc
        count += 1
    return count
