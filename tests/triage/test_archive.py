"""Safe reading of case archives, and content hashes."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from evtxmpio.triage import archive
from evtxmpio.triage.archive import UnsafeArchive, extract, safe_member_name
from evtxmpio.triage.inbox import discover, hash_entry
from tests.triage.conftest import race_variant, zip_folder


@pytest.mark.parametrize("name", ["/etc/passwd", "../x.evtx", "a/../../x", "C:/x.evtx",
                                  "a\\..\\x", ""])
def test_unsafe_member_names_are_refused(name: str) -> None:
    with pytest.raises(UnsafeArchive):
        safe_member_name(name)


def test_safe_member_name_is_kept() -> None:
    assert safe_member_name("logs/System.evtx") == "logs/System.evtx"


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in members.items():
            out.writestr(name, data)
    return path


def test_traversal_member_stops_extraction(tmp_path: Path) -> None:
    bad = _zip(tmp_path / "bad.zip", {"ok.xml": b"x", "../evil.xml": b"y"})
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(UnsafeArchive, match=r"bad\.zip: member '\.\./evil\.xml'"):
        extract(bad, target)
    assert not (tmp_path / "evil.xml").exists()


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as out:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        extract(path, tmp_path)


def test_compression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "RATIO_FLOOR_BYTES", 1024)
    bomb = _zip(tmp_path / "bomb.zip", {"zeros.evtx": bytes(4 * 1024**2)})
    with pytest.raises(UnsafeArchive, match="compression ratio"):
        extract(bomb, tmp_path / "out")


def test_member_size_is_counted_not_believed(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    big = _zip(tmp_path / "big.zip", {"a.xml": b"<x/>" * 1000})
    with pytest.raises(UnsafeArchive, match="larger than 1000 bytes"):
        extract(big, tmp_path / "out")


def test_damaged_archive_is_an_unsafe_archive(tmp_path: Path) -> None:
    path = tmp_path / "torn.zip"
    path.write_bytes(b"PK\x03\x04 torn")
    with pytest.raises(UnsafeArchive, match=r"torn\.zip: unreadable archive"):
        extract(path, tmp_path / "out")
    entry = hash_entry(path)
    assert entry.problem is not None and len(entry.content_hash) == 64


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
