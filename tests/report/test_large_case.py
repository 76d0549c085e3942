"""10,000 evidence records: the report caps them and bounds the picture; JSON/CSV hold all."""

from __future__ import annotations

import json

import pytest

from evtxmpio import report
from evtxmpio.report.context import DELAYED_WRITES_CAP, EVIDENCE_CAP, build_context
from tests.report.cases import large_case

MAX_HTML_BYTES = 1_500_000


@pytest.fixture(scope="module")
def case():  # type: ignore[no-untyped-def]
    return large_case(10_000)


def test_html_caps_the_evidence_and_stays_small(case) -> None:  # type: ignore[no-untyped-def]
    assert len(case.findings[0].evidence) == 10_000
    html = report.render(case, "html")
    size = len(html.encode("utf-8"))
    print(f"10,000-evidence report: {size} bytes")  # shown with pytest -s; see docs/report.md
    assert size < MAX_HTML_BYTES
    assert "Evidence of incident 1: 10000 record(s), first 100 shown, each once" in html
    assert f"{10_000 - EVIDENCE_CAP} more evidence record(s) are in the JSON" in html
    assert '<details class="evidence-box"' in html  # collapsed
    assert html.count("<tr><td class=\"time\">") <= EVIDENCE_CAP
    assert html.count("title=\"2011-") <= 2 * (EVIDENCE_CAP + DELAYED_WRITES_CAP) + 10


def test_the_picture_is_bounded_and_has_breaks(case) -> None:  # type: ignore[no-untyped-def]
    lanes = build_context(case).swimlanes
    assert lanes is not None
    assert len(lanes.breaks) >= 3  # three days of bursts
    # markers merge per pixel: far fewer than events
    assert len(lanes.markers) < 4_000


def test_json_and_csv_keep_every_evidence_record(case) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(report.render(case, "json"))
    assert len(document["findings"][0]["evidence"]) == 10_000
    rows = report.render(case, "csv").splitlines()
    assert len(rows) == 1 + len(case.events)
    assert sum("bulk-rule" in row for row in rows) == 10_000
