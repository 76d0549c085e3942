"""``evtxmpio triage`` on the command line, and the two progress displays."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import evtxmpio.cli.triage  # noqa: F401  (registers the command)
from evtxmpio.cli import app
from evtxmpio.triage import dispatch
from evtxmpio.triage.outcome import CaseOutcome, CaseSpec
from evtxmpio.triage.progress import LogReporter, RichReporter, make_reporter
from tests.triage.conftest import race_variant


def test_cli_prints_log_lines_and_summary_off_a_terminal(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    (inbox / "broken").mkdir()
    (inbox / "broken" / "x.evtx").write_bytes(b"junk")
    result = CliRunner().invoke(app, ["triage", str(inbox), "--db", str(tmp_path / "c.duckdb"),
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "triage: 2 case(s) to run on local, 0 already known" in result.output
    assert "] race-1 ok kb2406705-race (0.90)" in result.output
    assert "] broken FAILED no input could be read (x.evtx: " in result.output
    assert "2 case(s) found, 0 already known, 2 triaged (1 failed)" in result.output


def test_cli_fails_when_the_database_cannot_be_opened(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    result = CliRunner().invoke(app, ["triage", str(inbox), "--db",
                                      str(tmp_path / "missing" / "c.duckdb")])
    assert result.exit_code == 1
    assert "Error: " in result.output and "cannot open the case database" in result.output


def test_cli_fails_when_the_scheduler_is_unreachable(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "CONNECT_TIMEOUT_S", 2.0)
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    result = CliRunner().invoke(app, ["triage", str(inbox), "--db", str(tmp_path / "c.duckdb"),
                                      "--scheduler", "tcp://127.0.0.1:9"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("Error: tcp://127.0.0.1:9: cannot reach the Dask scheduler")
    assert result.output.count("\n") == 1
    assert list(tmp_path.glob("c.duckdb*")) == []  # no empty database left behind


def _outcome(status: str) -> CaseOutcome:
    spec = CaseSpec("0" * 16, "[bold]x[/bold]", "/x", "dir", "0" * 64)
    if status == "ok":
        return CaseOutcome(spec, "ok", tables={"cases": [{"verdict": "inconclusive",
                                                          "confidence": 0.5}]})
    return CaseOutcome(spec, "failed", failure_reason="timeout: [red]x")


def test_rich_progress_on_a_terminal_counts_failures() -> None:
    out = io.StringIO()
    reporter = make_reporter(Console(file=out, force_terminal=True, width=120))
    assert isinstance(reporter, RichReporter)
    reporter.start(2, 1, "local")
    reporter.case_done(_outcome("ok"))
    reporter.case_done(_outcome("failed"))
    reporter.finish()
    text = out.getvalue()
    assert "2/2" in text and "1 failed" in text and "[bold]x[/bold] FAILED timeout: [red]x" in text


def test_log_lines_keep_case_names_as_text() -> None:
    out = io.StringIO()
    reporter = make_reporter(Console(file=out, force_terminal=False))
    assert isinstance(reporter, LogReporter)
    reporter.start(1, 0, "dask")
    reporter.case_done(_outcome("ok"))
    reporter.finish()
    assert "[1/1] [bold]x[/bold] ok inconclusive (0.50)" in out.getvalue()


def test_worker_wait_help_names_the_default() -> None:
    from evtxmpio.cli.triage import WORKER_WAIT_HELP
    from evtxmpio.triage.dispatch import WORKER_WAIT_S

    assert f"[default: {WORKER_WAIT_S:g}]" in WORKER_WAIT_HELP
