"""CSV and Timesketch outputs of the event timeline."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evtxmpio import pipeline, report
from evtxmpio.cli import app
from evtxmpio.report.tabular import CSV_COLUMNS
from tests.conftest import RACE_XML_CASE
from tests.report.cases import make_case, make_rule, race_events


@pytest.fixture(scope="module")
def sample():  # type: ignore[no-untyped-def]
    return pipeline.analyze([RACE_XML_CASE])


def test_csv_has_one_row_per_event_with_its_findings(sample) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(report.render(sample, "csv"))))
    assert len(rows) == len(sample.events)
    assert list(rows[0]) == CSV_COLUMNS
    evidence = {row for f in sample.findings for row in f.evidence}
    flagged = [n for n, row in enumerate(rows) if row["findings"]]
    assert flagged == sorted(sample.events.index.get_indexer(list(evidence)))
    assert sum(row["delayed_write"] == "yes" for row in rows) >= 2
    assert rows[0]["time"].endswith("Z")


def test_csv_defuses_formulas() -> None:
    events = race_events(message="=HYPERLINK(\"http://x\")")
    text = report.render(make_case(events, make_rule()), "csv")
    assert "'=HYPERLINK" in text


def test_timesketch_lines_have_the_required_fields(sample) -> None:  # type: ignore[no-untyped-def]
    lines = report.render(sample, "timesketch").splitlines()
    items = [json.loads(line) for line in lines]
    assert len(items) == len(sample.events) + len(sample.timelines)
    for item in items:
        assert {"message", "datetime", "timestamp_desc", "timestamp"} <= set(item)
        assert pd.Timestamp(item["datetime"]).tzinfo is not None
    times = [item["timestamp"] for item in items]
    assert times == sorted(times)
    assert any(item["timestamp_desc"] == "MPIO State Change" for item in items)
    assert any("mpio-duplicate-failover" in item.get("tag", []) for item in items)


@pytest.mark.parametrize(("output_format", "default"), [("csv", "timeline.csv"),
                                                        ("timesketch", "timeline.jsonl")])
def test_cli_formats(output_format: str, default: str, tmp_path: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["analyze", str(RACE_XML_CASE), "-f", output_format])
    assert result.exit_code == 0, result.output
    assert (tmp_path / default).stat().st_size > 1000
    assert "Verdict:" in result.output
