"""Output files: every path checked before anything is written; each file written atomically.

Faults are real: a tmpfs of a few KiB that fills up (ENOSPC), a read-only mount, a name longer
than the file system allows.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evtxmpio.cli import app
from evtxmpio.errors import Error, ReportError
from evtxmpio.report import OutputPlan, plan_outputs, write_atomic, write_files
from tests.conftest import RACE_XML_CASE
from tests.faults import fill, small_tmpfs

NAME_MAX = 255


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*"))


def test_redact_with_an_overlong_name_writes_nothing(tmp_path: Path) -> None:
    # The report name fits (245 bytes) but its default map name (+ ".redaction.json") does not.
    out = tmp_path / ("r" * (NAME_MAX - 15) + ".html")
    result = CliRunner().invoke(app, ["analyze", str(RACE_XML_CASE), "-o", str(out), "--redact"])
    assert result.exit_code == 1
    assert "file name too long" in result.output
    assert "Traceback" not in result.output
    assert _files(tmp_path) == []


@pytest.mark.parametrize(("make", "expected"), [
    (lambda tmp: tmp / "sub", "it is a folder"),
    (lambda tmp: tmp / "file.txt" / "report.html", "is not a folder"),
    (lambda tmp: tmp / ("x" * (NAME_MAX + 1)), "file name too long"),
    (lambda tmp: tmp / ("d" * (NAME_MAX + 1)) / "report.html", "file name too long"),
    (lambda tmp: tmp / "/".join(["d" * 200] * 21) / "r.html", "path too long"),
    (lambda tmp: tmp / "lone\ud800surrogate.html", "cannot be encoded"),
])
def test_plan_refuses_a_path_that_cannot_be_written(tmp_path: Path, make, expected: str
                                                     ) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ReportError) as raised:
        plan_outputs(make(tmp_path))
    message = str(raised.value)
    assert expected in message and "\n" not in message
    assert isinstance(raised.value, Error)
    assert _files(tmp_path) == ["file.txt", "sub"]


def test_plan_names_every_output_and_refuses_a_map_on_the_report(tmp_path: Path) -> None:
    out = tmp_path / "new" / "report.json"
    assert plan_outputs(out) == OutputPlan(out)
    assert plan_outputs(out, redact=True).paths == (
        out, tmp_path / "new" / "report.json.redaction.json")
    with pytest.raises(ReportError, match="same file"):
        plan_outputs(out, redact=True, redact_map=tmp_path / "new" / ".." / "new" / "report.json")
    assert _files(tmp_path) == []


def test_plan_refuses_a_read_only_file_system(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "64k") as mount:
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(mount)],
                                   capture_output=True, text=True, check=False)
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remounted.stderr.strip()}")
        with pytest.raises(ReportError, match="not writable"):
            plan_outputs(mount / "report.html")


def test_a_full_disk_leaves_the_old_report_whole_and_no_temporary_file(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "64k") as mount:
        report = mount / "report.html"
        report.write_text("old report\n", encoding="utf-8")
        fill(mount)
        with pytest.raises(ReportError) as raised:
            write_atomic(report, "new report " * 10_000, "report")
        assert str(raised.value) == f"{report}: cannot write report: No space left on device"
        assert report.read_text(encoding="utf-8") == "old report\n"
        assert _files(mount) == ["filler", "report.html"]


def test_a_set_cut_by_a_full_disk_puts_nothing_new_in_place(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "mnt", "64k") as mount:
        report, mapping = mount / "report.html", mount / "report.html.redaction.json"
        fill(mount)
        os.unlink(mount / "filler")
        with open(mount / "filler", "wb") as stream:
            stream.write(b"\0" * (64 * 1024 - 3 * 4096))
        with pytest.raises(ReportError, match="redaction map: No space left"):
            write_files([(report, "r" * 100, "report"), (mapping, "m" * 20_000, "redaction map")])
        assert _files(mount) == ["filler"]


def test_written_files_are_complete_and_the_map_is_private(tmp_path: Path) -> None:
    report, mapping = tmp_path / "a" / "report.csv", tmp_path / "a" / "map.json"
    write_files([(report, "x,y\n\udcff\n", "report"), (mapping, b"{}", "redaction map")],
                private=frozenset({mapping}))
    assert report.read_bytes() == b"x,y\n\\udcff\n"
    assert mapping.read_bytes() == b"{}"
    assert stat.S_IMODE(mapping.stat().st_mode) == 0o600
    assert _files(tmp_path) == ["a", "map.json", "report.csv"]


def test_a_symlinked_output_is_replaced_behind_the_link(tmp_path: Path) -> None:
    (tmp_path / "real.html").write_text("old", encoding="utf-8")
    (tmp_path / "link.html").symlink_to("real.html")
    write_atomic(tmp_path / "link.html", "new")
    assert (tmp_path / "link.html").is_symlink()
    assert (tmp_path / "real.html").read_text(encoding="utf-8") == "new"
