"""Find the cases in an inbox and compute each one's content hash.

A case is a sub-directory of the inbox, a ``.zip`` archive, or one gzip'd file (``x.evtx.gz``).
Its identity is its content: sha256 over its members in name order, each as the relative POSIX
path, a NUL, the length as 8 bytes and the bytes. A folder and a zip with the same files have
the same hash, and so the same case id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from evtxmpio.errors import InputError
from evtxmpio.ingest.archive import ArchiveLimits
from evtxmpio.pathtext import name_bytes
from evtxmpio.triage.archive import (
    ARCHIVE_SUFFIXES,
    TRIAGE_ARCHIVE_LIMITS,
    UnsafeArchive,
    iter_members,
)

CASE_ID_LENGTH = 16


@dataclass(frozen=True, slots=True)
class CaseEntry:
    """One case found in the inbox.

    Attributes:
        name: the entry's name in the inbox (directory or archive file name).
        path: absolute path of the directory or archive.
        kind: ``dir``, ``zip`` or ``gz``.
        content_hash: sha256 hex of the members (see module doc); of the raw file bytes when
            the archive cannot be read, and then ``problem`` says why.
        problem: why the archive cannot be read, else ``None``.
    """

    name: str
    path: Path
    kind: str
    content_hash: str
    problem: str | None = None

    @property
    def case_id(self) -> str:
        """The deterministic case id: the first 16 hex digits of the content hash."""
        return self.content_hash[:CASE_ID_LENGTH]


def _dir_members(root: Path) -> Iterator[tuple[str, Iterator[bytes]]]:
    files = sorted((p.relative_to(root).as_posix(), p) for p in root.rglob("*") if p.is_file())
    for name, path in files:
        yield name, _file_blocks(path)


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while block := stream.read(1024**2):
            yield block


def _hash_members(members: Iterable[tuple[str, Iterator[bytes]]]) -> str:
    digest = hashlib.sha256()
    for name, blocks in members:
        body = hashlib.sha256()
        size = 0
        for block in blocks:
            body.update(block)
            size += len(block)
        # Length-prefixed fields keep (name, bytes) pairs unambiguous.
        # The name's own bytes (a name that is not UTF-8 included; UTF-8 names unchanged).
        digest.update(name_bytes(name) + b"\0" + size.to_bytes(8, "little"))
        digest.update(body.digest())
    return digest.hexdigest()


def hash_entry(path: Path, limits: ArchiveLimits = TRIAGE_ARCHIVE_LIMITS) -> CaseEntry:
    """The :class:`CaseEntry` of one inbox entry, with its content hash (an archive is read
    within ``limits``)."""
    if path.is_dir():
        return CaseEntry(path.name, path, "dir", _hash_members(_dir_members(path)))
    kind = path.suffix.lower().lstrip(".")
    try:
        return CaseEntry(path.name, path, kind, _hash_members(iter_members(path, limits)))
    except UnsafeArchive as exc:
        raw = _hash_members([("raw:" + path.name, _file_blocks(path))])
        return CaseEntry(path.name, path, kind, raw, problem=str(exc))


def is_case(path: Path) -> bool:
    """A sub-directory or an archive; hidden entries (``.name``) are not cases."""
    if path.name.startswith("."):
        return False
    return path.is_dir() or (path.is_file() and path.suffix.lower() in ARCHIVE_SUFFIXES)


def discover(inbox: Path, limits: ArchiveLimits = TRIAGE_ARCHIVE_LIMITS,
             threads: int = 8) -> list[CaseEntry]:
    """Every case in ``inbox``, hashed (in parallel threads), in name order.

    An archive that breaks ``limits`` is hashed over its raw bytes and carries the problem;
    its analysis then fails with the same reason.

    Raises:
        InputError: when ``inbox`` is not a directory.
    """
    if not inbox.is_dir():
        raise InputError(f"{inbox}: not a directory")
    paths = sorted((p for p in inbox.resolve().iterdir() if is_case(p)), key=lambda p: p.name)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(partial(hash_entry, limits=limits), paths))


def ignored_entries(inbox: Path) -> list[str]:
    """Names in ``inbox`` that are not cases (plain files, hidden entries), for the log."""
    return sorted(p.name for p in inbox.iterdir() if not is_case(p))
