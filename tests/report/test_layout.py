"""The report reads at a glance (issue 16): incidents first, findings grouped per incident with
their shared evidence shown once, descriptions and evidence collapsed, milliseconds shown with
the full time in a tooltip, the hotfix table only where the verdict depends on it."""

from __future__ import annotations

import re

import pytest

from evtxmpio import pipeline, report
from tests.conftest import RACE_XML_CASE, SAMPLES


@pytest.fixture(scope="module")
def race() -> tuple[object, str]:
    case = pipeline.analyze([RACE_XML_CASE])
    return case, report.render(case, "html")


@pytest.fixture(scope="module")
def all_paths_down() -> tuple[object, str]:
    case = pipeline.analyze(pipeline.sample_logs(SAMPLES / "all-paths-down"))
    return case, report.render(case, "html")


def test_issue_16_incident_summary_comes_first(race: tuple[object, str]) -> None:
    _, html = race
    order = [html.index(f'<section id="{name}">') for name in
             ("incidents", "summary", "timeline", "advice", "findings", "ingest")]
    assert order == sorted(order)
    assert html.index('<section id="incidents">') < html.index('<section id="hosts">')


def test_issue_16_findings_sharing_evidence_form_one_incident(
        all_paths_down: tuple[object, str]) -> None:
    case, html = all_paths_down
    critical = [f for f in case.findings if f.severity == "critical"]
    assert len(critical) >= 4
    assert html.count('<article class="incident ') == 1
    shared = {row for finding in case.findings for row in finding.evidence}
    assert sum(len(f.evidence) for f in case.findings) > len(shared)  # they do share evidence
    # each evidence event once, in one table
    assert html.count('<tr><td class="time">') == len(shared)
    assert html.count('<table class="evidence">') == 1


def test_issue_16_descriptions_and_evidence_are_collapsed(race: tuple[object, str]) -> None:
    case, html = race
    assert html.count('<details class="about">') == len(case.findings)
    assert "<details open" not in html and " open>" not in html
    for finding in case.findings:  # the long description only inside its <details>
        start = html.index(f'id="finding-{case.findings.index(finding) + 1}"')
        about = html.index('<details class="about">', start)
        assert html.index(finding.rule.description[:40].replace("'", "&#39;"), start) > about


def test_issue_16_milliseconds_shown_full_time_in_tooltip(race: tuple[object, str]) -> None:
    _, html = race
    assert ('<span class="t" title="2011-06-14T07:47:10.402113200Z">2011-06-14 07:47:10.402'
            '</span>') in html
    shown = re.findall(r'<span class="t" title="([^"]+)">([^<]+)</span>', html)
    assert shown
    for full, text in shown:
        date, clock = full.removesuffix("Z").split("T")
        assert text == f"{date} {clock[:12]}"  # HH:MM:SS.mmm


def test_issue_16_hotfix_table_only_where_the_verdict_depends_on_it(
        race: tuple[object, str], all_paths_down: tuple[object, str]) -> None:
    assert "<th>KB 2406705 fix</th>" in race[1]
    case, html = all_paths_down
    assert case.verdict.id == "all-paths-down" and case.hotfix
    assert "<th>KB 2406705 fix</th>" not in html
    assert "does not address this" in html  # the advice itself stays


def test_issue_16_a_removed_path_is_drawn_apart_from_a_removed_disk(
        all_paths_down: tuple[object, str]) -> None:
    _, html = all_paths_down
    spans = re.findall(r'<rect class="span (st-[a-z-]+)[^"]*"[^>]*><title>([^<]*)</title>', html)
    disk = {css for css, title in spans if "REMOVED" in title}
    path = {css for css, title in spans if re.search(r"\bremoved\b", title)}
    assert disk == {"st-removed"}
    assert path == {"st-path-removed"}


def test_issue_16_long_file_names_show_their_last_part() -> None:
    case = pipeline.analyze([RACE_XML_CASE])
    html = report.render(case, "html")
    full = str(RACE_XML_CASE / "System.xml")
    assert (f'<span class="tip mono">System.xml<span class="tip-full">{full}</span></span>'
            in html)
