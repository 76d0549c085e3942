"""The CLI end to end on the sample case: verdict, findings, outputs, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from evtxmpio import __version__
from evtxmpio.cli import app
from tests.conftest import RACE_XML_CASE

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"evtxmpio {__version__}"


def test_analyze_sample_json(tmp_path: Path) -> None:
    out = tmp_path / "case.json"
    result = runner.invoke(app, ["analyze", str(RACE_XML_CASE), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "kb2406705-race" in result.output
    case = json.loads(out.read_text(encoding="utf-8"))
    assert case["schema"] == "evtxmpio.case/1"
    assert case["verdict"] == "kb2406705-race"
    [finding] = [f for f in case["findings"] if f["rule"] == "mpio-duplicate-failover"]
    assert finding["path_id"] == "0x77030001"
    assert finding["host"] == "FS01.contoso.local"
    assert finding["start"] == "2011-06-14T07:47:10.402113200Z"
    # Both 16s (disks 1 and 2), the DSM's 32 and the failed fail-over 22.
    assert sorted(e["record_id"] for e in finding["evidence"]) == [48211, 48212, 48214, 48215]
    files = [d["file"] for d in case["delayed_write_failures"]]
    assert files == [r"\Device\HarddiskVolume4\Data\orders.mdb",
                     r"\Device\HarddiskVolume4\Data\ledger.ldf"]
    assert {d["volume"] for d in case["delayed_write_failures"]} == {r"\Device\HarddiskVolume4"}
    [account] = case["ingest"]
    assert account["format"] == "event-xml"
    assert account["records_read"] == 19
    assert account["records_read"] == account["records_used"] + account["records_skipped"]


def test_analyze_sample_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["analyze", str(RACE_XML_CASE), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "KB 2406705 duplicate-failover race" in html
    assert "mpio-duplicate-failover" in html
    assert "orders.mdb" in html
    assert "<script" not in html


def test_analyze_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    for out in (first, second):
        runner.invoke(app, ["analyze", str(RACE_XML_CASE), "-f", "json", "-o", str(out)])
    assert first.read_bytes() == second.read_bytes()


def test_missing_input_is_a_clear_error() -> None:
    result = runner.invoke(app, ["analyze", "does/not/exist.evtx"])
    assert result.exit_code != 0
    assert "does/not/exist.evtx" in result.output


def test_unreadable_only_input_fails_whole_job(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a log")
    result = runner.invoke(app, ["analyze", str(junk), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "junk.bin" in result.output and "not a recognised log format" in result.output


def test_python_dash_m_entry_point() -> None:
    completed = subprocess.run([sys.executable, "-m", "evtxmpio", "--help"],
                               capture_output=True, text=True, check=True)
    assert "analyze" in completed.stdout


HEAVY = ("pandas", "numpy", "lxml", "duckdb", "distributed", "dask", "pyarrow", "jinja2", "yaml",
         "evtx", "Evtx", "rich")


def _imported_modules(*args: str) -> set[str]:
    completed = subprocess.run([sys.executable, "-X", "importtime", "-m", "evtxmpio", *args],
                               capture_output=True, text=True, check=True)
    return {line.rsplit("|", 1)[1].strip() for line in completed.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def test_issue_16_help_and_version_import_no_heavy_library() -> None:
    for args in (["--version"], ["--help"], ["analyze", "--help"], ["triage", "--help"],
                 ["rules", "test", "--help"], ["replay", "--help"], ["limits", "--help"]):
        modules = _imported_modules(*args)
        heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
        assert heavy == [], (args, heavy)


def test_issue_16_help_text_is_plain() -> None:
    for command in (["analyze"], ["triage"], ["replay"], ["rules", "validate"],
                    ["rules", "test"], ["limits"], []):
        text = runner.invoke(app, [*command, "--help"], terminal_width=100).output
        assert "<bool>" not in text and "list[" not in text, command
        assert "{" not in text, command  # no {inputs}... in the usage line
        assert not re.search(r"\s\.(\s|$)", text), command  # no "Output file ."
    analyze_help = runner.invoke(app, ["analyze", "--help"], terminal_width=100).output
    assert "Usage: root analyze [OPTIONS] INPUT..." in analyze_help or \
        "analyze [OPTIONS] INPUT..." in analyze_help
    assert "[default: report.html" in analyze_help
    assert "[default: UTC" in analyze_help


def test_issue_16_defaults_repeated_for_help_agree() -> None:
    from evtxmpio.cli.replay import FORMATS_HELP
    from evtxmpio.cli.triage import CASE_TIMEOUT_HELP
    from evtxmpio.replay import DEFAULT_FORMATS
    from evtxmpio.triage.batch import DEFAULT_CASE_TIMEOUT_S

    assert f"[default: {DEFAULT_CASE_TIMEOUT_S:g}]" in CASE_TIMEOUT_HELP
    assert f"[default: {','.join(DEFAULT_FORMATS)}]" in FORMATS_HELP


def test_issue_16_every_input_problem_is_printed_with_its_reason(tmp_path: Path) -> None:
    case = tmp_path / "case"
    case.mkdir()
    (case / "System.xml").write_bytes((RACE_XML_CASE / "System.xml").read_bytes())
    (case / "junk.bin").write_bytes(b"\x00\x01not a log")
    (case / "empty.evtx").write_bytes(b"")
    result = runner.invoke(app, ["analyze", str(case), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert f"{case / 'junk.bin'}: not a recognised log format" in result.output
    assert f"{case / 'empty.evtx'}: empty file" in result.output
    assert "Input problems (2):" in result.output
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Input problems (2)" in html
    assert "junk.bin: not a recognised log format" in html


def test_issue_16_piped_output_is_plain_and_untruncated(tmp_path: Path) -> None:
    env = dict(os.environ, COLUMNS="80")
    completed = subprocess.run(
        [sys.executable, "-m", "evtxmpio", "analyze", str(RACE_XML_CASE), "-o",
         str(tmp_path / "r.html")], capture_output=True, text=True, env=env, check=True)
    lines = completed.stdout.splitlines()
    [duplicate] = [line for line in lines if "rule: mpio-duplicate-failover" in line]
    assert "start (UTC): 2011-06-14T07:47:10.402113200Z" in duplicate
    assert "…" not in completed.stdout
    assert not any(set(line) & set("│┃━─") for line in lines)  # no table drawing
    assert completed.stderr == ""  # no progress when stderr is not a terminal


def test_issue_16_output_checked_before_the_analysis(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01not a log")  # the analysis would fail on it: it never runs
    result = runner.invoke(app, ["analyze", str(junk), "-o", str(blocker / "report.html")])
    assert result.exit_code == 1
    assert f"Error: {blocker / 'report.html'}: cannot write report" in result.output
    assert "no input could be read" not in result.output
    mapped = runner.invoke(app, ["analyze", str(junk), "--redact", "-o",
                                 str(tmp_path / "r.html"), "--redact-map",
                                 str(blocker / "map.json")])
    assert mapped.exit_code == 1
    assert "cannot write redaction map" in mapped.output
    assert not (tmp_path / "r.html").exists()


def test_issue_16_verdict_printed_when_writing_fails(tmp_path: Path, monkeypatch) -> None:
    from evtxmpio import report
    from evtxmpio.errors import ReportError

    def full_disk(*args: object, **kwargs: object) -> None:
        raise ReportError(f"{tmp_path / 'r.html'}: cannot write report: No space left on device")

    monkeypatch.setattr(report, "write_outputs", full_disk)
    result = runner.invoke(app, ["analyze", str(RACE_XML_CASE), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "Verdict: KB 2406705 duplicate-failover race" in result.output
    assert "cannot write report: No space left on device" in result.output
    assert "Report written" not in result.output
