"""Zip (nested) and gzip inputs: members read in memory, checked, limited."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import pytest

from evtxmpio.ingest import ArchiveLimits, ingest_paths
from evtxmpio.ingest.archive import member_name_problem
from tests.conftest import zip_bytes
from tests.ingest.conftest import DATA


def test_zip_members_are_read_and_named(tmp_path: Path) -> None:
    case = tmp_path / "case.zip"
    case.write_bytes(zip_bytes({"logs/trace.csv": (DATA / "tracerpt.csv").read_bytes(),
                           "readme.txt": b"customer notes"}))
    result = ingest_paths([case])
    names = [a.file for a in result.accounts]
    assert names == [str(case), f"{case}!logs/trace.csv", f"{case}!readme.txt"]
    assert result.accounts[1].records_used == 2
    assert result.accounts[2].format == "unknown"
    assert {r.source_path for r in result.records} == {f"{case}!logs/trace.csv"}


def test_nested_zip_and_gzip(tmp_path: Path) -> None:
    inner = zip_bytes({"trace.xml": (DATA / "tracerpt.xml").read_bytes()})
    gz = gzip.compress((DATA / "eventviewer.csv").read_bytes())
    case = tmp_path / "outer.zip"
    case.write_bytes(zip_bytes({"inner.zip": inner, "viewer.csv.gz": gz}))
    result = ingest_paths([case])
    names = [a.file for a in result.accounts]
    assert f"{case}!inner.zip!trace.xml" in names
    assert f"{case}!viewer.csv.gz!viewer.csv" in names
    assert len(result.records) == 2 + 3


def test_path_traversal_member_is_refused(tmp_path: Path) -> None:
    case = tmp_path / "evil.zip"
    case.write_bytes(zip_bytes({"../../etc/trace.csv": (DATA / "tracerpt.csv").read_bytes()}))
    result = ingest_paths([case])
    [account] = result.accounts
    assert "climbs out" in account.errors[0]
    assert result.records == []
    assert member_name_problem("/abs/x") and member_name_problem("C:\\x")
    assert member_name_problem("logs/System.evtx") is None


def test_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    """The bomb member is refused from its declared sizes, naming the limit to raise; the
    other member of the archive is read as usual."""
    trace = (DATA / "tracerpt.csv").read_bytes()
    case = tmp_path / "bomb.zip"
    case.write_bytes(zip_bytes({"zeros.evtx": b"\x00" * (8 << 20), "trace.csv": trace}))
    zeros = zipfile.ZipFile(case).getinfo("zeros.evtx")
    ratio = zeros.file_size // zeros.compress_size
    assert ratio > 200
    result = ingest_paths([case])
    archive, member = result.accounts
    assert archive.errors == [f"zip.member-refused: 'zeros.evtx': compression ratio {ratio} "
                              "above 200, a zip bomb? (raise with --limit archive-ratio=N)"]
    assert (member.file, member.records_used) == (f"{case}!trace.csv", 2)
    assert [a.file for a in result.accounts] == [str(case), f"{case}!trace.csv"]
    small = ingest_paths([case], limits=ArchiveLimits(max_total_bytes=1 << 20, max_ratio=10**9))
    assert small.accounts[0].errors == [
        "zip.member-refused: 'zeros.evtx': archive expands beyond its total size limit "
        "(raise with --limit archive-total=SIZE)"]
    assert small.accounts[1].records_used == 2


def test_gzip_bomb_is_cut_at_the_budget(tmp_path: Path) -> None:
    """gzip declares no trustworthy size: reading stops when the budget is spent, and the
    error names the limit; nothing past it is read."""
    case = tmp_path / "bomb.csv.gz"
    rows = (DATA / "eventviewer.csv").read_bytes()
    body = rows + b"x" * (4 << 20)
    case.write_bytes(gzip.compress(body))
    result = ingest_paths([case], limits=ArchiveLimits(max_total_bytes=1 << 20))
    member = result.accounts[1]
    assert member.file == f"{case}!bomb.csv"
    [error] = member.errors
    assert "expands beyond its total size limit (raise with --limit archive-total=SIZE)" in error
    assert member.records_used == 3  # the rows before the junk are kept
    assert sum(len(r.message or "") for r in result.records) < (1 << 20)


def test_nesting_depth_is_limited(tmp_path: Path) -> None:
    data = (DATA / "tracerpt.csv").read_bytes()
    blob = zip_bytes({"trace.csv": data})
    for _ in range(5):
        blob = zip_bytes({"nested.zip": blob})
    case = tmp_path / "deep.zip"
    case.write_bytes(blob)
    result = ingest_paths([case], limits=ArchiveLimits(max_depth=3))
    assert result.records == []
    assert any("nested deeper" in error for a in result.accounts for error in a.errors)


def test_broken_zip_costs_only_itself(tmp_path: Path) -> None:
    broken = tmp_path / "a.zip"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    result = ingest_paths([broken, DATA / "tracerpt.csv"])
    assert result.accounts[0].errors
    assert len(result.records) == 2


def test_files_are_named_relative_to_a_folder(tmp_path: Path) -> None:
    case = tmp_path / "case"
    (case / "logs").mkdir(parents=True)
    (case / "logs" / "outer.zip").write_bytes(zip_bytes({
        "inner.zip": zip_bytes({"trace.xml": (DATA / "tracerpt.xml").read_bytes()})}))
    odd = Path(os.fsdecode(bytes(case) + b"/d\xfe/view\xffer.csv"))
    odd.parent.mkdir()
    odd.write_bytes((DATA / "eventviewer.csv").read_bytes())
    result = ingest_paths([case], relative_to=case)
    names = [a.file for a in result.accounts]
    assert names == ["d\\xfe/view\\xffer.csv", "logs/outer.zip", "logs/outer.zip!inner.zip",
                     "logs/outer.zip!inner.zip!trace.xml"]
    assert {r.source_path for r in result.records} == {
        "d\\xfe/view\\xffer.csv", "logs/outer.zip!inner.zip!trace.xml"}
    single = ingest_paths([odd], relative_to=odd)
    assert [a.file for a in single.accounts] == ["view\\xffer.csv"]


def test_a_file_that_cannot_be_opened_is_named_once(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "System.evtx").write_bytes(b"x")

    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "open", refuse)
    result = ingest_paths([case], relative_to=case)
    (account,) = result.accounts
    assert account.file == "System.evtx"  # the path given is nowhere, not even in the error
    assert account.errors == ["cannot open: PermissionError: Permission denied"]
