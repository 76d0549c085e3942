"""The CLI end to end on the sample case: verdict, findings, outputs, errors."""

from __future__ import annotations

import json
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
