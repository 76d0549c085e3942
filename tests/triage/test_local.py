"""Local triage: the database, re-runs, resume, isolation of broken, hanging and crashing
cases, and the reports folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from evtxmpio.triage import TriageOptions, dump_tables, run_triage
from evtxmpio.triage.dispatch import LocalExecutor
from evtxmpio.triage.outcome import CaseOutcome
from evtxmpio.triage.progress import LogReporter
from evtxmpio.triage.supervisor import CRASH_REASON
from tests.triage.conftest import build_inbox, race_variant, zip_folder
from tests.triage.faulty_child import CHILD

TIMEOUT_S = 8.0


class Collect(LogReporter):
    """Keeps the outcomes; optionally stops the run after ``stop_after`` cases (Ctrl-C)."""

    def __init__(self, stop_after: int | None = None) -> None:
        super().__init__(Console(file=open("/dev/null", "w"), force_terminal=False))  # noqa: SIM115
        self.outcomes: list[CaseOutcome] = []
        self.stop_after = stop_after

    def case_done(self, outcome: CaseOutcome) -> None:
        super().case_done(outcome)
        self.outcomes.append(outcome)
        if self.stop_after is not None and len(self.outcomes) >= self.stop_after:
            raise KeyboardInterrupt


def statuses(db: Path) -> dict[str, tuple[str | None, ...]]:
    with duckdb.connect(str(db), read_only=True) as connection:
        rows = connection.execute("SELECT name, status, verdict, failure_reason FROM cases")
        return {row[0]: tuple(row[1:]) for row in rows.fetchall()}


def test_local_triage_isolates_broken_hanging_and_crashing_cases(tmp_path: Path) -> None:
    inbox = build_inbox(tmp_path, hang=True, crash=True)
    db = tmp_path / "cases.duckdb"
    summary = run_triage(TriageOptions(inbox, db, workers=2, case_timeout=TIMEOUT_S), Collect(),
                         LocalExecutor(2, child_module=CHILD))
    found = statuses(db)
    assert summary.found == len(found) == 11 and summary.failed == 3
    assert found["hanging"] == ("failed", None,
                                "timeout: analysis exceeded --case-timeout of 8 s")
    assert found["crashing"] == ("failed", None, CRASH_REASON)
    assert found["broken"][0] == "failed" and "System.evtx" in found["broken"][2]
    for name in ("race-1", "race-2", "race-3.zip", "race-4-System.xml.gz"):
        assert found[name] == ("ok", "kb2406705-race", None), name
    assert found["healthy-failover"][:2] == ("ok", "healthy-failover")
    assert found["path-flapping"][:2] == ("ok", "path-flapping")
    assert found["all-paths-down"][:2] == ("ok", "all-paths-down")
    assert found["cluster-race"][:2] == ("ok", "kb2406705-race")


def test_case_rows_are_complete_and_relative(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race", 1)
    db = tmp_path / "cases.duckdb"
    run_triage(TriageOptions(inbox, db, workers=1), Collect())
    tables = dump_tables(db)
    assert len(tables["cases"]) == 1
    with duckdb.connect(str(db), read_only=True) as connection:
        case = connection.execute(
            "SELECT hosts, data_loss, findings_count, delayed_write_count, records_read "
            "FROM cases").fetchone()
        findings = connection.execute("SELECT count(*) FROM findings").fetchone()[0]
        files = connection.execute("SELECT DISTINCT file FROM evidence UNION "
                                   "SELECT DISTINCT file FROM ingest").fetchall()
        lost = connection.execute("SELECT count(*) FROM delayed_write_failures").fetchone()[0]
    assert case[0] == ["FS01.contoso.local"] and case[1] is True
    assert case[2] == findings > 0 and case[3] == lost == 2 and case[4] == 19
    assert files == [("System.xml",)]


def test_rerun_skips_known_cases_and_force_redoes_them(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for number in (1, 2):
        race_variant(inbox / f"race-{number}", number)
    db = tmp_path / "cases.duckdb"
    first = run_triage(TriageOptions(inbox, db, workers=2), Collect())
    before = dump_tables(db)
    again = run_triage(TriageOptions(inbox, db, workers=2), Collect())
    assert (first.ran, again.ran, again.skipped) == (2, 0, 2)
    forced = run_triage(TriageOptions(inbox, db, workers=2, force=True), Collect())
    assert forced.ran == 2 and dump_tables(db) == before


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    for number in range(1, 7):
        race_variant(inbox / f"race-{number}", number)
    db = tmp_path / "cases.duckdb"
    with pytest.raises(KeyboardInterrupt):
        run_triage(TriageOptions(inbox, db, workers=1), Collect(stop_after=2))
    assert len(statuses(db)) == 2
    resumed = run_triage(TriageOptions(inbox, db, workers=2), Collect())
    assert (resumed.skipped, resumed.ran) == (2, 4)
    reference = tmp_path / "reference.duckdb"
    run_triage(TriageOptions(inbox, reference, workers=2), Collect())
    assert dump_tables(db) == dump_tables(reference)


def test_duplicate_content_is_triaged_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "a", 1)
    race_variant(inbox / "b", 1)
    summary = run_triage(TriageOptions(inbox, tmp_path / "c.duckdb", workers=1), Collect())
    assert summary.ran == 1 and summary.duplicates == [("b", "a")]


def test_reports_and_ranked_index(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    build_inbox(tmp_path)
    race_variant(inbox / "<script>alert(1)</script>", 9)
    reports = tmp_path / "reports"
    summary = run_triage(TriageOptions(inbox, tmp_path / "c.duckdb", workers=2,
                                       reports=reports), Collect())
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert summary.index == reports / "index.html"
    assert "<script>alert(1)" not in index and "&lt;script&gt;alert(1)" in index
    order = [index.index(name) for name in
             ("race-1", "all-paths-down</a>", "path-flapping</a>", "healthy-failover</a>")]
    assert order == sorted(order)
    assert index.index("Failed cases") < index.index("race-1")
    links = [p.name for p in reports.glob("*.html") if p.name != "index.html"]
    assert len(links) == 9 and all(f'href="{name}"' in index for name in links)


def test_file_names_are_relative_to_the_case_in_folders_archives_and_odd_bytes(
        tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(race_variant(tmp_path / "staging" / "deep", 1), inbox / "deep" / "logs" / "x")
    packed = race_variant(tmp_path / "staging" / "packed" / "logs", 2).parent
    (packed / "more").mkdir()
    zip_folder(race_variant(tmp_path / "staging" / "inner", 3), packed / "more" / "inner.zip")
    zip_folder(packed, inbox / "packed.zip")
    odd = race_variant(Path(os.fsdecode(bytes(inbox) + b"/odd/d\xfe")), 4)
    (odd / "System.xml").rename(Path(os.fsdecode(bytes(odd) + b"/Sys\xfftem.xml")))
    db = tmp_path / "cases.duckdb"
    run_triage(TriageOptions(inbox, db, workers=1), Collect())
    with duckdb.connect(str(db), read_only=True) as connection:
        def files(table: str) -> dict[str, set[str]]:
            rows = connection.execute(f"SELECT c.name, t.file FROM {table} t JOIN cases c "
                                      "USING (case_id)").fetchall()
            return {name: {file for case, file in rows if case == name} for name, _ in rows}
        ingest, evidence = files("ingest"), files("evidence")
    assert ingest == {"deep": {"logs/x/System.xml"},
                      "packed.zip": {"logs/System.xml", "more/inner.zip",
                                     "more/inner.zip!System.xml"},
                      "odd": {"d\\xfe/Sys\\xfftem.xml"}}
    assert evidence == {"deep": {"logs/x/System.xml"},
                        "packed.zip": {"logs/System.xml", "more/inner.zip!System.xml"},
                        "odd": {"d\\xfe/Sys\\xfftem.xml"}}
    text = repr(dump_tables(db))
    assert str(tmp_path) not in text and tempfile.gettempdir() + "/" not in text
