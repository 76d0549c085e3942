"""Faults around the cases, made real: a killed triage, a full disk, names that are not UTF-8,
hostile names in triage's own output. Each costs at most the case it concerns."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner, Result

import evtxmpio.cli.triage  # noqa: F401  (registers the command)
from evtxmpio.cli import app
from evtxmpio.triage import TriageOptions, run_triage
from evtxmpio.triage.dispatch import LocalExecutor
from evtxmpio.triage.lifeline import FOLDER_PREFIX, LOCK_NAME
from tests.faults import fill, small_tmpfs
from tests.triage.conftest import ROOT, race_variant, zip_folder
from tests.triage.faulty_child import CHILD, PID_MARKER, hold_file
from tests.triage.test_local import Collect, statuses

# How long to wait for a process to start or to end before the test gives up (a liveness
# bound, not a measurement: the test asserts what happened, never how fast).
PATIENCE_S = 120.0

TRIAGE_SCRIPT = """
import sys
from pathlib import Path
from evtxmpio.triage import TriageOptions, run_triage
from evtxmpio.triage.dispatch import LocalExecutor
from tests.triage.test_local import Collect
run_triage(TriageOptions(Path(sys.argv[1]), Path(sys.argv[2]), case_timeout=3600), Collect(),
           LocalExecutor(1, child_module=sys.argv[3]))
"""


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting {PATIENCE_S:g} s for {what}")
        time.sleep(0.1)


def _unlocked(lock: Path) -> bool:
    with lock.open("rb") as stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(stream, fcntl.LOCK_UN)
        return True


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_triage_takes_its_analyzer_along_and_the_next_run_cleans_up(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    inbox, pid_file = tmp_path / "inbox", tmp_path / "analyzer.pid"
    staging = race_variant(tmp_path / "staging" / "busy", 7)
    (staging / PID_MARKER).write_text(str(pid_file))
    hold_file(pid_file).touch()
    inbox.mkdir()
    zip_folder(staging, inbox / "busy.zip")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    triage = subprocess.Popen([sys.executable, "-c", TRIAGE_SCRIPT, str(inbox),
                               str(tmp_path / "cases.duckdb"), CHILD], env=env)
    analyzer = None
    try:
        _wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the busy analyzer")
        analyzer = int(pid_file.read_text())
        assert len(list(temp.glob(FOLDER_PREFIX + "*"))) == 1  # the extracted archive
        triage.send_signal(signal.SIGKILL)
        triage.wait()
        _wait_for(lambda: not _alive(analyzer), "the orphaned analyzer to die")
    finally:
        triage.kill()
        triage.wait()
        if analyzer is not None and _alive(analyzer):
            os.kill(analyzer, signal.SIGKILL)  # the fault under test: do not leave it behind
    (leftover,) = temp.glob(FOLDER_PREFIX + "*")  # killed, it could not clean up
    # A killed process's other threads may still be exiting after its main thread shows as
    # dead; its lock is free only once the last one is gone.
    _wait_for(lambda: _unlocked(leftover / LOCK_NAME), "the killed analyzer's lock")
    (inbox / "busy.zip").unlink()
    summary = run_triage(TriageOptions(inbox, tmp_path / "cases.duckdb"), Collect(),
                         LocalExecutor(1))
    assert (summary.found, summary.ran) == (0, 0)  # nothing to run, and still cleaned
    assert list(temp.glob(FOLDER_PREFIX + "*")) == []


FORGED = "[99\u221599] fake-case ok healthy-failover (0.85)"
HOSTILE_NAMES = (f"fake\n{FORGED}", "case\u202etxt.exe", "bell\a\x1b[31mred")


def test_hostile_case_names_are_shown_visibly_in_the_log_and_the_index(tmp_path: Path) -> None:
    inbox, reports = tmp_path / "inbox", tmp_path / "reports"
    for number, name in enumerate(HOSTILE_NAMES, start=1):
        race_variant(inbox / name, number)
    (inbox / "broken\u202egpj.exe").mkdir()
    (inbox / "broken\u202egpj.exe" / "System.evtx").write_bytes(b"not a log")
    result = CliRunner().invoke(app, ["triage", str(inbox), "--db", str(tmp_path / "c.duckdb"),
                                      "--workers", "1", "--reports", str(reports)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not any(line.startswith(FORGED) for line in lines)
    assert any(f"] fake\u240a{FORGED} ok kb2406705-race" in line for line in lines)
    for hidden in ("\u202e", "\a", "\x1b"):
        assert hidden not in result.output
    assert "case\u27e8U+202E\u27e9txt.exe" in result.output
    assert "broken\u27e8U+202E\u27e9gpj.exe FAILED" in result.output
    assert "bell\u2407\u241b[31mred" in result.output
    index = (reports / "index.html").read_text(encoding="utf-8")
    for hidden in ("\u202e", "\a", "\x1b", "fake\n"):
        assert hidden not in index
    assert "case\u27e8U+202E\u27e9txt.exe" in index and f"fake\u240a{FORGED}" in index
    assert "broken\u27e8U+202E\u27e9gpj.exe" in index


def _triage(inbox: Path, db: Path, *extra: str) -> Result:
    return CliRunner().invoke(app, ["triage", str(inbox), "--db", str(db), "--workers", "1",
                                    *extra])


def _one_line_error(result: Result, *expected: str) -> None:
    """The run failed with exactly one ``Error:`` line saying ``expected``, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not an exception that escaped
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output
    assert all(text in errors[0] for text in expected), errors[0]


def test_a_full_disk_under_the_database_costs_one_line_and_loses_no_case(tmp_path: Path
                                                                          ) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    with small_tmpfs(tmp_path / "mnt", "8m") as mount:
        db = mount / "cases.duckdb"
        assert _triage(inbox, db).exit_code == 0
        fill(mount)
        race_variant(inbox / "race-2", 2)
        _one_line_error(_triage(inbox, db), "cannot write case race-2", "No space left")
        (mount / "filler").unlink()
        again = _triage(inbox, db)
        assert again.exit_code == 0, again.output
        assert "1 already known, 1 triaged (0 failed)" in again.output
        assert {name: row[0] for name, row in statuses(db).items()} == {"race-1": "ok",
                                                                        "race-2": "ok"}


def test_a_full_disk_under_the_reports_records_no_case_and_the_rerun_completes(
        tmp_path: Path) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "cases.duckdb"
    race_variant(inbox / "race-1", 1)
    with small_tmpfs(tmp_path / "mnt", "1m") as reports:
        fill(reports)
        _one_line_error(_triage(inbox, db, "--reports", str(reports)), "cannot write report",
                        "No space left on device")
        assert statuses(db) == {}  # not done: its report is not whole
        assert sorted(p.name for p in reports.iterdir()) == ["filler"]  # no cut file, no temp
        subprocess.run(["mount", "-o", "remount,size=8m", str(reports)], check=True)
        again = _triage(inbox, db, "--reports", str(reports))
        assert again.exit_code == 0, again.output
        assert "0 already known, 1 triaged (0 failed)" in again.output
        (report,) = [p for p in reports.glob("*.html") if p.name != "index.html"]
        assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")
        assert f'href="{report.name}"' in (reports / "index.html").read_text(encoding="utf-8")


def test_a_cut_report_is_repaired_by_the_rerun(tmp_path: Path) -> None:
    inbox, db, reports = tmp_path / "inbox", tmp_path / "cases.duckdb", tmp_path / "reports"
    race_variant(inbox / "race-1", 1)
    race_variant(inbox / "race-2", 2)
    assert _triage(inbox, db, "--reports", str(reports)).exit_code == 0
    cut, whole = sorted(p for p in reports.glob("*.html") if p.name != "index.html")
    expected = cut.read_bytes()
    with cut.open("r+b") as stream:
        stream.truncate(16384)  # where a full disk cut it
    again = _triage(inbox, db, "--reports", str(reports))
    assert again.exit_code == 0, again.output
    assert "1 already known, 1 triaged (1 again for a missing report) (0 failed)" in again.output
    assert cut.read_bytes() == expected
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert f'href="{cut.name}"' in index and f'href="{whole.name}"' in index


def test_a_full_temporary_folder_is_not_recorded_as_a_case_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "cases.duckdb"
    race_variant(inbox / "race-1", 1)
    staging = race_variant(tmp_path / "staging" / "big", 2)
    (staging / "padding.bin").write_bytes(os.urandom(4 << 20))  # extracts to 4 MiB
    zip_folder(staging, inbox / "big.zip")
    with small_tmpfs(tmp_path / "tmp", "1m") as temp:
        monkeypatch.setenv("TMPDIR", str(temp))
        _one_line_error(_triage(inbox, db), "1 case(s) not triaged", "big.zip",
                        "No space left on device", "run again")
        assert statuses(db) == {"race-1": ("ok", "kb2406705-race", None)}
        subprocess.run(["mount", "-o", "remount,size=16m", str(temp)], check=True)
        again = _triage(inbox, db)
        assert again.exit_code == 0, again.output
        assert "1 already known, 1 triaged (0 failed)" in again.output
        assert statuses(db)["big.zip"][:2] == ("ok", "kb2406705-race")


def test_names_that_are_not_utf8_are_triaged_and_shown_escaped(tmp_path: Path) -> None:
    inbox, db, reports = tmp_path / "inbox", tmp_path / "cases.duckdb", tmp_path / "reports"
    race_variant(inbox / "race-1", 1)
    folder = race_variant(Path(os.fsdecode(bytes(inbox) + b"/case\xff")), 2)
    (folder / "System.xml").rename(Path(os.fsdecode(bytes(folder) + b"/Sys\xfftem.xml")))
    result = _triage(inbox, db, "--reports", str(reports))
    assert result.exit_code == 0, result.output
    assert "] case\\xff ok kb2406705-race" in result.output
    assert statuses(db) == {"race-1": ("ok", "kb2406705-race", None),
                            "case\\xff": ("ok", "kb2406705-race", None)}
    with duckdb.connect(str(db), read_only=True) as connection:
        files = connection.execute("SELECT DISTINCT i.file FROM ingest i JOIN cases c "
                                   "USING (case_id) WHERE c.name = 'case\\xff'").fetchall()
    assert files == [("Sys\\xfftem.xml",)]
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "case\\xff" in index
    (report,) = [p for p in reports.glob("*.html") if p.name != "index.html"
                 and "Sys\\xfftem.xml" in p.read_text(encoding="utf-8")]
    assert report.read_text(encoding="utf-8").rstrip().endswith("</html>")
    again = _triage(inbox, db, "--reports", str(reports))
    assert "2 already known, 0 triaged" in again.output


def test_an_analyzer_that_cannot_start_leaves_the_cases_for_the_next_run(tmp_path: Path
                                                                          ) -> None:
    inbox, db = tmp_path / "inbox", tmp_path / "cases.duckdb"
    race_variant(inbox / "race-1", 1)
    reporter = Collect()
    summary = run_triage(TriageOptions(inbox, db), reporter,
                         LocalExecutor(1, child_module="tests.triage.no_such_module"))
    assert (summary.ran, summary.failed) == (0, 0)
    assert summary.left == [("race-1", "not run: no analyzer process could be started")]
    assert reporter.failures == 0 and statuses(db) == {}
    again = run_triage(TriageOptions(inbox, db), Collect(), LocalExecutor(1))
    assert (again.skipped, again.ran, again.failed) == (0, 1, 0)
