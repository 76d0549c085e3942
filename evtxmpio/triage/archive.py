"""Read the members of a case archive (``.zip``, or one gzip'd file) safely.

Archives come from customers: their member names and sizes are untrusted. A member name must be
relative, without ``..``, drive letters or backslashes; symbolic links and encrypted members are
refused; sizes are counted while reading (the header's sizes are not believed), and a member
that inflates past :data:`MAX_MEMBER_BYTES`, :data:`MAX_RATIO` times its compressed size, or a
case past :data:`MAX_CASE_BYTES`, stops the case with :class:`UnsafeArchive`.
"""

from __future__ import annotations

import gzip
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from evtxmpio.errors import Error
from evtxmpio.ingest.archive import member_name_problem

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 4 * 1024**3
MAX_CASE_BYTES = 16 * 1024**3
# A System log compresses well (about 10-20x); 1000x with more than 1 MiB out is a bomb.
MAX_RATIO = 1000
RATIO_FLOOR_BYTES = 1024**2
BLOCK = 1024**2

ARCHIVE_SUFFIXES = (".zip", ".gz")


class UnsafeArchive(Error):
    """An archive is unreadable or breaks a safety limit: ``case.zip: member '../x': ...``."""


def safe_member_name(name: str) -> str:
    """The member name as a relative POSIX path.

    The ingest stage's rules apply (:func:`evtxmpio.ingest.archive.member_name_problem`), and
    since triage writes members to disk, backslashes are refused too.

    Raises:
        UnsafeArchive: for absolute names, ``..`` components, drive letters or backslashes.
    """
    problem = member_name_problem(name)
    if problem is None and "\\" in name:
        problem = "Windows-style path (backslash)"
    if problem is not None:
        raise UnsafeArchive(f"member {name!r}: {problem}")
    parts = PurePosixPath(name).parts
    if not parts or "" in parts:
        raise UnsafeArchive(f"member {name!r}: empty name")
    return PurePosixPath(*parts).as_posix()


class _Budget:
    """Counts bytes read from one archive against the case limit."""

    def __init__(self) -> None:
        self.total = 0

    def take(self, name: str, count: int, member_bytes: int, compressed: int | None) -> None:
        self.total += count
        if member_bytes > MAX_MEMBER_BYTES:
            raise UnsafeArchive(f"member {name!r}: larger than {MAX_MEMBER_BYTES} bytes")
        if self.total > MAX_CASE_BYTES:
            raise UnsafeArchive(f"case larger than {MAX_CASE_BYTES} bytes uncompressed")
        if (compressed is not None and member_bytes > RATIO_FLOOR_BYTES
                and member_bytes > MAX_RATIO * max(compressed, 1)):
            raise UnsafeArchive(f"member {name!r}: compression ratio above {MAX_RATIO}")


def _blocks(stream: BinaryIO, name: str, budget: _Budget,
            compressed: int | None) -> Iterator[bytes]:
    size = 0
    while block := stream.read(BLOCK):
        size += len(block)
        budget.take(name, len(block), size, compressed)
        yield block


def _zip_infos(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    infos = [info for info in archive.infolist() if not info.is_dir()]
    if len(infos) > MAX_MEMBERS:
        raise UnsafeArchive(f"more than {MAX_MEMBERS} members")
    for info in infos:
        if stat.S_ISLNK(info.external_attr >> 16):
            raise UnsafeArchive(f"member {info.filename!r}: symbolic link")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"member {info.filename!r}: encrypted")
    return sorted(infos, key=lambda info: safe_member_name(info.filename))


def iter_members(path: Path) -> Iterator[tuple[str, Iterator[bytes]]]:
    """``(member name, its byte blocks)`` in name order; blocks must be consumed in turn.

    Raises:
        UnsafeArchive: when the archive is damaged or breaks a limit (names the archive).
    """
    budget = _Budget()
    try:
        if path.suffix.lower() == ".gz":
            with gzip.open(path, "rb") as stream:
                yield gzip_member_name(path), _blocks(stream, path.stem, budget, None)
            return
        with zipfile.ZipFile(path) as archive:
            seen: set[str] = set()
            for info in _zip_infos(archive):
                name = safe_member_name(info.filename)
                if name in seen:
                    raise UnsafeArchive(f"member {name!r}: appears twice")
                seen.add(name)
                with archive.open(info) as stream:
                    yield name, _blocks(stream, name, budget, info.compress_size)
    except UnsafeArchive as exc:
        raise UnsafeArchive(f"{path.name}: {exc}") from exc
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError,
            RuntimeError) as exc:
        raise UnsafeArchive(f"{path.name}: unreadable archive: {exc}") from exc


def gzip_member_name(path: Path) -> str:
    """The one member of ``name.ext.gz``: ``name.ext``."""
    return path.stem or "member"


def extract(path: Path, target: Path) -> int:
    """Extract every member of ``path`` under ``target``; return the member count.

    Raises:
        UnsafeArchive: as :func:`iter_members`.
    """
    count = 0
    for name, blocks in iter_members(path):
        out = target.joinpath(*PurePosixPath(name).parts)
        if target.resolve() not in out.resolve().parents:
            raise UnsafeArchive(f"{path.name}: member {name!r} escapes the case folder")
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as sink:
            for block in blocks:
                sink.write(block)
        count += 1
    return count
