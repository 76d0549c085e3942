"""The reports in a real browser: headless Debian Chromium driven by Playwright.

Each sample report opens with no console error and no network request, and hostile strings
from a log show as text and never run, also with the CSP meta removed (escaping alone holds).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evtxmpio import report
from tests.conftest import REPO, SAMPLES
from tests.report.browser import browser, ensure_chromium, open_report
from tests.report.cases import MARKERS, SCRIPT, hostile_case

pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) is not installed")

SAMPLE_REPORTS = sorted(SAMPLES.glob("*/expected/report.html"))
SCREENSHOT = REPO / "docs" / "report-sample.png"
SCREENSHOTS = REPO / "docs" / "screenshots"  # after-<sample>.png; before-* are the old layout
MAX_HEIGHT_PX = 5_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    reason = ensure_chromium()
    if reason:
        pytest.skip(reason)
    with browser() as instance:
        yield instance


def _assert_quiet(log: Any) -> None:
    assert log.console_errors == [] and log.page_errors == []
    assert log.blocked_requests == []
    assert all(url.startswith("file:") for url in log.requests)


@pytest.mark.parametrize("path", SAMPLE_REPORTS, ids=lambda p: p.parent.parent.name)
def test_sample_report_renders_offline(chromium: Any, path: Path, tmp_path: Path) -> None:
    with open_report(chromium, path) as (page, log):
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
        assert page.locator("header.banner h1").inner_text().strip()
        assert page.locator("#timeline svg.lanes").count() == 1
        assert page.locator("#timeline svg.lanes rect.span").count() > 0
        assert page.locator("article.finding").count() >= 1
        first = page.locator("article.finding").first.get_attribute("id")
        page.goto(f"{path.resolve().as_uri()}#{first}")
        _assert_quiet(log)
    assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_sample_screenshot_for_docs(chromium: Any, update_golden: bool) -> None:
    """``--update-golden`` refreshes docs/report-sample.png from the race sample's report."""
    path = SAMPLES / "kb2406705-race-xml" / "expected" / "report.html"
    with open_report(chromium, path) as (page, log):
        if update_golden:
            # the first screens: verdict, summary, timeline, advice, first finding
            page.screenshot(path=str(SCREENSHOT), full_page=True,
                            clip={"x": 0, "y": 0, "width": 1280, "height": 1650})
        _assert_quiet(log)
    assert SCREENSHOT.is_file()


@pytest.mark.parametrize("keep_csp", [True, False], ids=["with-csp", "without-csp"])
def test_hostile_strings_show_as_text_and_never_run(chromium: Any, tmp_path: Path,
                                                     keep_csp: bool) -> None:
    html = report.render(hostile_case(), "html")
    if not keep_csp:
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        html = html[:start] + html[html.index(">", start) + 1:]
    path = tmp_path / "hostile.html"
    path.write_text(html, encoding="utf-8")
    with open_report(chromium, path) as (page, log):
        page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
        for link in page.locator("a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().startswith("javascript"), href
        fired = page.evaluate(f"() => {list(MARKERS)!r}.filter(name => name in window)")
        assert fired == []
        body = page.locator("body").inner_text()
        assert SCRIPT in body  # the payload is visible as text
        assert page.locator("script").count() == 0
        assert page.locator("img").count() == 0
        _assert_quiet(log)


REPLAY_SAMPLES = sorted(p.parent for p in SAMPLES.glob("*/ground_truth.json"))
NOT_INPUT = {"ground_truth.json", "workload.yaml", "stream.csv"}


@pytest.mark.parametrize("folder", REPLAY_SAMPLES, ids=lambda p: p.name)
def test_replay_sample_reports_render_offline(chromium: Any, folder: Path, tmp_path: Path,
                                              update_golden: bool) -> None:
    from evtxmpio import pipeline

    case = pipeline.analyze([p for p in sorted(folder.iterdir()) if p.name not in NOT_INPUT])
    path = tmp_path / "report.html"
    report.write_report(case, path, "html")
    with open_report(chromium, path) as (page, log):
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
        assert page.locator("#timeline svg.lanes").count() == 1
        if update_golden:
            _docs_screenshot(page, SCREENSHOTS / f"after-{folder.name}.png")
        # issue 16: collapsed, the report is short (the race sample was 7,501 px tall)
        assert page.evaluate("document.documentElement.scrollHeight") < MAX_HEIGHT_PX
        page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
        # opened, no time breaks across lines (the nanosecond times wrapped mid-number)
        lines = page.locator("span.t").evaluate_all(
            "nodes => nodes.map(n => n.getClientRects().length)")
        assert lines and set(lines) == {1}
        _assert_quiet(log)


def _docs_screenshot(page: Any, target: Path) -> None:
    """The first 1,400 px of a report at 1280 px wide, as a 128-colour PNG for docs/."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": 1280, "height": 1400})
    Image.open(target).convert("RGB").quantize(128).save(target, optimize=True)
