"""Safe reading of case archives, and content hashes.

Hostile member names, symbolic links, duplicates and colliding names are refused with a reason
that names the archive and the member, before anything is written; whatever an archive holds,
nothing appears or changes outside the case's working folder.
"""

from __future__ import annotations

import dataclasses
import gzip
import stat
import warnings
import zipfile
from pathlib import Path

import pytest

from evtxmpio.ingest import ArchiveLimits, ingest_paths
from evtxmpio.triage.archive import (
    TRIAGE_ARCHIVE_LIMITS,
    UnsafeArchive,
    collision_key,
    extract,
    safe_member_name,
)
from evtxmpio.triage.inbox import discover, hash_entry
from tests.triage.conftest import race_variant, zip_folder

ABSOLUTE_ESCAPE = Path("/evtxmpio-test-absolute-escape.xml")


@pytest.mark.parametrize("name", [
    "/etc/passwd", "../x.evtx", "a/../../x", "C:/x.evtx", "C:\\x.evtx", "C:x.evtx",
    "\\\\server\\share\\x.evtx", "//server/share/x.evtx", "a\\..\\x", "", "x\x00.evtx",
    "logs/System.evtx:hidden", "CON", "logs/nul.txt", "COM1.evtx", "aux .xml"])
def test_unsafe_member_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeArchive, match=r"^member "):
        safe_member_name(name)


@pytest.mark.parametrize(("name", "safe"), [("logs/System.evtx", "logs/System.evtx"),
                                            ("a/./b.xml", "a/b.xml"), ("a//b.xml", "a/b.xml"),
                                            ("console.evtx", "console.evtx")])
def test_safe_member_names_are_kept(name: str, safe: str) -> None:
    assert safe_member_name(name) == safe


def test_names_that_are_one_file_on_a_case_insensitive_system_collide() -> None:
    assert collision_key("Logs/System.EVTX") == collision_key("logs/system.evtx")
    assert collision_key("Caf\u00e9.xml") == collision_key("cafe\u0301.XML")  # NFC
    assert collision_key("a./b.xml. ") == collision_key("a/b.xml")  # Windows drops these
    assert collision_key("a.xml") != collision_key("b.xml")


def _zip(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            out.writestr(info, target)
        for name, data in members.items():
            info = zipfile.ZipInfo(name.split("#")[0])
            info.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(info, data)
    return path


def _tree(root: Path) -> dict[str, tuple[bool, int, int]]:
    """Every path under ``root`` with (is link, size, mtime): a snapshot to compare."""
    return {str(p.relative_to(root)): (p.is_symlink(), p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


HOSTILE = {
    "traversal": ({"ok.xml": b"x", "../escape.xml": b"y"}, None, "'../escape.xml'"),
    "deep-traversal": ({"a/../../escape.xml": b"y"}, None, "'a/../../escape.xml'"),
    "absolute": ({"ok.xml": b"x", str(ABSOLUTE_ESCAPE): b"y"}, None, str(ABSOLUTE_ESCAPE)),
    "drive": ({"C:\\escape.xml": b"y"}, None, "absolute member path"),
    "drive-relative": ({"C:escape.xml": b"y"}, None, "absolute member path"),
    "unc": ({"\\\\server\\share\\escape.xml": b"y"}, None, "absolute member path"),
    "symlink-then-through-it": ({"link/evil.xml": b"y"}, {"link": "OUTSIDE"},
                                "'link': symbolic link"),
    "file-symlink": ({}, {"System.xml": "OUTSIDE/victim.xml"}, "symbolic link"),
    "duplicate": ({"a.xml": b"x", "a.xml#2": b"y"}, None, "'a.xml': appears twice"),
    "duplicate-after-normalizing": ({"a/b.xml": b"x", "a/./b.xml": b"y"}, None,
                                    "'a/./b.xml': appears twice"),
    "case-collision": ({"System.evtx": b"x", "system.EVTX": b"y"}, None,
                       "'system.EVTX': same file as 'System.evtx' on a case-insensitive"),
    "file-and-folder": ({"logs": b"x", "logs/System.evtx": b"y"}, None,
                        "'logs/System.evtx': its folder 'logs' is also a file member"),
    "alternate-data-stream": ({"System.evtx:hidden": b"y"}, None, "alternate data stream"),
    "device-name": ({"logs/CON.xml": b"y"}, None, "Windows device name"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_write_nothing_outside_the_working_folder(tmp_path: Path,
                                                                   kind: str) -> None:
    members, symlinks, reason = HOSTILE[kind]
    outside = tmp_path / "outside"
    (outside / "victim.xml").parent.mkdir(parents=True)
    (outside / "victim.xml").write_bytes(b"untouched")
    links = {name: target.replace("OUTSIDE", str(outside))
             for name, target in (symlinks or {}).items()}
    archive = _zip(tmp_path / f"{kind}.zip", members, links)
    work = tmp_path / "case" / "work"
    work.mkdir(parents=True)
    before = _tree(tmp_path)
    with pytest.raises(UnsafeArchive) as raised:
        extract(archive, work)
    assert str(raised.value).startswith(f"{kind}.zip: member "), raised.value
    assert reason in str(raised.value)
    assert _tree(tmp_path) == before  # nothing written, inside or outside
    assert not ABSOLUTE_ESCAPE.exists() and not (tmp_path / "case" / "escape.xml").exists()
    assert (outside / "victim.xml").read_bytes() == b"untouched"


def test_links_planted_in_the_working_folder_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.xml").write_bytes(b"untouched")
    work = tmp_path / "work"
    work.mkdir()
    (work / "link").symlink_to(outside, target_is_directory=True)
    (work / "System.xml").symlink_to(outside / "victim.xml")
    with pytest.raises(UnsafeArchive, match=r"'link' is not a folder"):
        extract(_zip(tmp_path / "a.zip", {"link/evil.xml": b"y"}), work)
    with pytest.raises(UnsafeArchive, match=r"'System.xml' escapes the case folder"):
        extract(_zip(tmp_path / "b.zip", {"System.xml": b"y"}), work)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.xml"]
    assert (outside / "victim.xml").read_bytes() == b"untouched"


def test_a_safe_archive_extracts_into_the_working_folder(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "ok.zip", {"logs/System.xml": b"<x/>", "MPIO.etw.csv": b"a"})
    assert extract(archive, tmp_path / "work") == 2
    assert sorted(str(p.relative_to(tmp_path / "work")) for p in
                  (tmp_path / "work").rglob("*") if p.is_file()) == ["MPIO.etw.csv",
                                                                     "logs/System.xml"]


def _limits(**changes: int) -> object:
    return dataclasses.replace(TRIAGE_ARCHIVE_LIMITS, **changes)


def test_compression_bomb_is_refused_and_a_higher_ratio_lets_it_through(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.evtx": bytes(4 << 20)})
    with pytest.raises(UnsafeArchive, match=r"^bomb\.zip: member 'zeros\.evtx': compression "
                       r"ratio above 100 .*--limit archive-ratio=N"):
        extract(bomb, tmp_path / "out", _limits(max_ratio=100))
    assert extract(bomb, tmp_path / "out2", _limits(max_ratio=100_000)) == 1


def test_gzip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    path = tmp_path / "System.xml.gz"
    path.write_bytes(gzip.compress(bytes(4 << 20), mtime=0))
    with pytest.raises(UnsafeArchive, match=r"^System\.xml\.gz: member 'System\.xml': "
                       "compression ratio above 100"):
        extract(path, tmp_path / "out", _limits(max_ratio=100))


def test_sizes_are_counted_not_believed(tmp_path: Path) -> None:
    big = _zip(tmp_path / "big.zip", {"a.xml": b"<x/>" * 1000, "b.xml": b"<y/>" * 1000})
    with pytest.raises(UnsafeArchive, match=r"^big\.zip: member 'a\.xml': larger than 1000 "
                       r"bytes \(limit archive-member"):
        extract(big, tmp_path / "out", _limits(max_member_bytes=1000))
    with pytest.raises(UnsafeArchive, match=r"^big\.zip: case larger than 6000 bytes "
                       r"uncompressed \(limit archive-total"):
        extract(big, tmp_path / "out2", _limits(max_total_bytes=6000))
    with pytest.raises(UnsafeArchive, match=r"^big\.zip: more than 1 members"):
        extract(big, tmp_path / "out3", _limits(max_members=1))


def test_damaged_archive_is_an_unsafe_archive(tmp_path: Path) -> None:
    path = tmp_path / "torn.zip"
    path.write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(UnsafeArchive, match=r"torn\.zip: unreadable archive"):
        extract(path, tmp_path / "out")
    entry = hash_entry(path)
    assert entry.problem is not None and len(entry.content_hash) == 64


def test_damaged_member_data_is_an_unsafe_archive_when_hashing_too(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bad.zip", {"System.xml": b"<Event/>" * 10_000})
    data = bytearray(path.read_bytes())
    start = data.index(b"System.xml") + len("System.xml")
    data[start + 20:start + 60] = bytes(40)  # inside the deflate stream
    path.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match=r"^bad\.zip: member 'System\.xml': unreadable"):
        extract(path, tmp_path / "out")
    entry = hash_entry(path)
    assert entry.problem is not None and "System.xml" in entry.problem


def test_folder_and_zip_of_the_same_files_have_one_hash(tmp_path: Path) -> None:
    folder = race_variant(tmp_path / "inbox" / "case", 7)
    (folder / "sub").mkdir()
    (folder / "sub" / "note.txt").write_text("n")
    zip_folder(folder, tmp_path / "inbox" / "case.zip")
    entries = discover(tmp_path / "inbox")
    assert [e.kind for e in entries] == ["dir", "zip"]
    assert entries[0].content_hash == entries[1].content_hash
    assert entries[0].case_id == entries[0].content_hash[:16]


def test_hash_depends_on_names_and_bytes(tmp_path: Path) -> None:
    first = race_variant(tmp_path / "a", 1)
    second = race_variant(tmp_path / "b", 1)
    assert hash_entry(first).content_hash == hash_entry(second).content_hash
    (second / "System.xml").rename(second / "Other.xml")
    assert hash_entry(first).content_hash != hash_entry(second).content_hash


def _ingest_refusals(archive: Path, limits: object) -> list[str]:
    result = ingest_paths([archive], limits=limits)
    return [error.removeprefix("zip.member-refused: ") for error in result.accounts[0].errors]


def _triage_refusal(archive: Path, target: Path, limits: object) -> str | None:
    try:
        extract(archive, target, limits)
    except UnsafeArchive as exc:
        return str(exc).removeprefix(f"{archive.name}: member ")
    return None


def _encrypted(path: Path) -> Path:
    """A zip whose one member says it is encrypted (flag bit 0; zipfile cannot write one)."""
    _zip(path, {"System.xml": b"<x/>"})
    data = bytearray(path.read_bytes())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        data[data.index(signature) + flag_at] |= 0x1
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("kind", "limits", "reason"), [
    ("symlink", TRIAGE_ARCHIVE_LIMITS, "'link': symbolic link"),
    ("encrypted", TRIAGE_ARCHIVE_LIMITS, "'System.xml': encrypted"),
    ("absolute", TRIAGE_ARCHIVE_LIMITS, "'/x.xml': absolute member path"),
    ("large", ArchiveLimits(max_member_bytes=1000),
     "'a.xml': larger than 1000 bytes (limit archive-member; raise with "
     "--limit archive-member=SIZE)"),
])
def test_both_archive_readers_refuse_a_member_for_the_same_reason(
        tmp_path: Path, kind: str, limits: object, reason: str) -> None:
    archive = {"symlink": lambda p: _zip(p, {}, {"link": "/etc/passwd"}),
               "encrypted": _encrypted,
               "absolute": lambda p: _zip(p, {"/x.xml": b"<x/>"}),
               "large": lambda p: _zip(p, {"a.xml": b"<x/>" * 1000})}[kind](tmp_path / "a.zip")
    assert _ingest_refusals(archive, limits) == [reason]
    assert _triage_refusal(archive, tmp_path / "out", limits) == reason


@pytest.mark.parametrize(("size", "refused"), [(1 << 20, False), ((1 << 20) + 1, True)])
def test_both_archive_readers_apply_the_ratio_past_one_mib(tmp_path: Path, size: int,
                                                           refused: bool) -> None:
    archive = _zip(tmp_path / "a.zip", {"zeros.evtx": bytes(size)})
    limits = ArchiveLimits(max_ratio=100)
    ingest = _ingest_refusals(archive, limits)
    triage = _triage_refusal(archive, tmp_path / "out", limits)
    assert bool(ingest) == (triage is not None) == refused
    if refused:  # from the declared sizes before reading / counted while reading
        assert ingest[0].startswith("'zeros.evtx': compression ratio ")
        assert triage is not None and triage.startswith("'zeros.evtx': compression ratio above 100")
        assert all(text.endswith("raise with --limit archive-ratio=N)")
                   for text in (ingest[0], triage))
