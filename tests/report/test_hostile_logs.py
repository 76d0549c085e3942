"""Hostile logs end to end: replayed .evtx, Event XML and tracerpt CSV files whose host names,
data fields, messages and file names carry payloads (:mod:`tests.report.hostile_logs`) go
through ``pipeline.analyze`` and ``report.write_outputs``.

The HTML report opens in headless Chromium with no dialog, console error, request or popup; no
payload flag is set; no element or attribute of a payload is in the DOM; every payload shows
as text. JSON, CSV and Timesketch keep the exact text, CSV with formulas defused; the terminal
summary prints it literally with controls visible.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from evtxmpio import pipeline, report
from evtxmpio.detect import CaseResult
from tests.conftest import SAMPLES
from tests.report.browser import browser, ensure_chromium
from tests.report.cases import make_case, make_rule, race_events
from tests.report.hostile_logs import (
    ALL,
    ALL_FLAGS,
    ATTACKER,
    FILE_NAME,
    FILE_NAME_PAYLOADS,
    FORMULA_DSM,
    FORMULA_HOST,
    FORMULA_TRIGGER,
    NUL,
    PAYLOADS,
    READ_ALL,
    READ_HOSTS,
    TEXT_OF_HOST,
    write_hostile_logs,
)

# Elements a payload tries to create; the report template uses none of them.
PAYLOAD_TAGS = ("script", "img", "iframe", "textarea", "object", "embed", "link", "base", "form",
                "input", "button", "frame", "video", "audio", "source", "math", "foreignobject")
# What a spreadsheet takes as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BENIGN_REPORT = SAMPLES / "kb2406705-race-xml" / "expected" / "report.html"
# Template branches the benign sample report does not reach: the input problems list and the
# redaction banner; and the open attribute that _poke sets on every <details>.
TEMPLATE_ONLY = {"ul", "ul@class", "li@class", "span@class", "details@open"}


def visible(text: str) -> str:
    """How the HTML report shows ``text``: each payload in it replaced by its visible form."""
    for payload in (*PAYLOADS, *FILE_NAME_PAYLOADS, NUL):
        text = text.replace(payload.text, payload.visible)
    return text


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_hostile_logs(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="module")
def case(inputs: list[Path]) -> CaseResult:
    return pipeline.analyze(inputs)


@pytest.fixture(scope="module")
def outputs(case: CaseResult, inputs: list[Path], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("out")
    before = sorted(inputs[0].parent.iterdir())
    names = {"html": "report.html", "json": "report.json", "csv": "timeline.csv",
             "timesketch": "timeline.jsonl", "redacted": "redacted.html"}
    written = {key: folder / name for key, name in names.items()}
    for key in ("html", "json", "csv", "timesketch"):
        assert report.write_outputs(case, written[key], key) is None
    report.write_outputs(case, written["redacted"], "html", redact=True)
    assert sorted(inputs[0].parent.iterdir()) == before  # nothing written beside the inputs
    assert {p.name for p in folder.iterdir()} == {*names.values(),
                                                   "redacted.html.redaction.json"}
    return written


def test_the_hostile_case_still_gives_its_findings(case: CaseResult) -> None:
    assert case.verdict.id == "kb2406705-race"
    assert {f.host for f in case.findings} >= set(READ_HOSTS)
    assert {f.host for f in case.delayed_write_failures} == set(READ_HOSTS)
    for failure in case.delayed_write_failures:
        text = TEXT_OF_HOST[failure.host]
        assert failure.file.endswith((f"\\Data\\{text}.0.db", f"\\Data\\{text}.1.db"))
    assert sorted(issue.code for issue in case.issues) == ["csv.short-row", "xml.bad-event"]
    assert all(FILE_NAME in issue.source_path for issue in case.issues)


@dataclass
class PageLog:
    """Everything a page did that it should not have."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)


@contextmanager
def opened(instance: Any, path: Path) -> Iterator[tuple[Any, PageLog]]:
    """``path`` in a fresh page; every request is recorded, every non-file one aborted."""
    context = instance.new_context(viewport={"width": 1280, "height": 900})
    log = PageLog()

    def route(request_route: Any) -> None:
        log.requests.append(request_route.request.url)
        if request_route.request.url.startswith("file:"):
            request_route.continue_()
        else:
            request_route.abort()

    def dialog(item: Any) -> None:
        log.dialogs.append(f"{item.type}: {item.message}")
        item.dismiss()

    context.route("**/*", route)
    page = context.new_page()
    page.on("dialog", dialog)
    page.on("console", lambda message: message.type in ("error", "warning")
            and log.console.append(message.text))
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    page.on("popup", lambda popup: log.popups.append(popup.url))
    try:
        page.goto(path.resolve().as_uri(), wait_until="load")
        yield page, log
    finally:
        context.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    pytest.importorskip("playwright.sync_api", reason="playwright (PyPI) is not installed")
    reason = ensure_chromium()
    if reason:
        pytest.skip(reason)
    with browser() as instance:
        yield instance


DOM_SHAPE = """() => {
  const pairs = new Set(), attributes = [];
  for (const element of document.querySelectorAll('*')) {
    const tag = element.tagName.toLowerCase();
    pairs.add(tag);
    for (const attribute of element.attributes) {
      pairs.add(tag + '@' + attribute.name);
      attributes.push([tag, attribute.name, attribute.value]);
    }
  }
  return {pairs: [...pairs], attributes};
}"""


def _shape(page: Any) -> tuple[set[str], list[list[str]]]:
    shape = page.evaluate(DOM_SHAPE)
    return set(shape["pairs"]), shape["attributes"]


@pytest.fixture(scope="module")
def benign_shape(chromium: Any) -> set[str]:
    """Every tag and tag@attribute of a report made from a benign log."""
    with opened(chromium, BENIGN_REPORT) as (page, _):
        return _shape(page)[0] | TEMPLATE_ONLY


def _poke(page: Any) -> None:
    """Open every <details>, hover and focus what a payload could hang a handler on."""
    page.locator("details").evaluate_all("nodes => nodes.forEach(n => n.open = true)")
    for selector in ("td", "svg.lanes text", "svg.lanes use", "li"):
        for element in page.locator(selector).all()[:40]:
            element.hover(timeout=2000, force=True)
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)  # an <img onerror> would fire asynchronously


@pytest.mark.parametrize("variant", ["as-written", "without-csp", "redacted"])
def test_hostile_logs_never_run_in_the_report(chromium: Any, benign_shape: set[str],
                                              outputs: dict[str, Path], variant: str,
                                              tmp_path: Path) -> None:
    path = outputs["redacted" if variant == "redacted" else "html"]
    if variant == "without-csp":  # escaping alone must hold
        html = path.read_text(encoding="utf-8")
        start = html.index('<meta http-equiv="Content-Security-Policy"')
        path = tmp_path / "no-csp.html"
        path.write_text(html[:start] + html[html.index(">", start) + 1:], encoding="utf-8")
    with opened(chromium, path) as (page, log):
        _poke(page)
        fired = page.evaluate(f"() => {list(ALL_FLAGS)!r}.filter(name => name in window)")
        pairs, attributes = _shape(page)
        url = page.url
    assert fired == []
    assert log.dialogs == [] and log.popups == []
    assert log.console == [] and log.errors == []
    assert log.requests == [path.resolve().as_uri()] == [url]
    assert not pairs & set(PAYLOAD_TAGS)
    assert pairs <= benign_shape, sorted(pairs - benign_shape)
    for tag, name, value in attributes:
        assert not name.startswith("on"), (tag, name)
        lowered = value.lower()
        assert "__pwned" not in lowered and ATTACKER not in lowered, (tag, name, value)
        assert "javascript:" not in lowered and "url(" not in lowered.replace(
            "url(#break-hatch)", ""), (tag, name, value)


def _text(page: Any, selector: str) -> str:
    return "\n".join(page.locator(selector).evaluate_all("nodes => nodes.map(n => n.textContent)"))


def test_every_payload_shows_as_text_in_every_section(chromium: Any,
                                                      outputs: dict[str, Path]) -> None:
    with opened(chromium, outputs["html"]) as (page, _):
        _poke(page)
        whole = page.evaluate("() => document.documentElement.textContent")
        shown = page.locator("body").inner_text()
        sections = {name: _text(page, selector) for name, selector in {
            "summary": "#summary", "lanes": "#timeline svg.lanes text",
            "lane-titles": "#timeline svg.lanes title", "advice": "#advice",
            "findings": "#findings article.finding .meta",
            "evidence": "#findings table.evidence", "delayed-writes": "#delayed-writes",
            "accounts": "#ingest table.accounts", "issues": "#ingest ul.issues"}.items()}
    for payload in (*PAYLOADS, NUL, *FILE_NAME_PAYLOADS):
        assert payload.visible in whole, payload.name
    assert "<script>window.__pwned_script=1</script>" in shown  # rendered, not hidden
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]",
                         whole)
    for name in ("summary", "lanes", "advice", "findings", "evidence", "delayed-writes"):
        for host in READ_HOSTS:
            assert visible(host) in sections[name], name
    assert visible(ALL)[:120] in sections["lane-titles"]  # marker titles are capped
    assert visible(f"{FORMULA_DSM} {ALL} failed to return a Path") in sections["evidence"]
    assert visible(f"\\Data\\{ALL}.0.db") in sections["delayed-writes"]
    for name in ("evidence", "accounts", "issues"):
        assert visible(FILE_NAME) in sections[name], name
    # template-looking text is shown, never evaluated
    assert whole.count("jinja-ran") == whole.count("{% if true %}jinja-ran{% endif %}") > 0


def test_json_keeps_the_exact_text(outputs: dict[str, Path]) -> None:
    document = json.loads(outputs["json"].read_text(encoding="utf-8"))
    assert {f["host"] for f in document["findings"]} >= set(READ_HOSTS)
    for failure in document["delayed_write_failures"]:
        text = TEXT_OF_HOST[failure["host"]]
        assert failure["file"].endswith((f"\\Data\\{text}.0.db", f"\\Data\\{text}.1.db"))
    assert all(FILE_NAME in account["file"] for account in document["ingest"])
    assert [len(account["errors"]) for account in document["ingest"]] == [0, 1, 1, 0]


def test_csv_defuses_formulas_and_keeps_the_rest(outputs: dict[str, Path]) -> None:
    text = outputs["csv"].read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    cells = [cell for row in rows for cell in row.values() if cell]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    hosts = {row["host"] for row in rows}
    assert f"'{READ_HOSTS[1]}" in hosts and READ_HOSTS[0] in hosts  # defused, else exact
    assert f"'{FORMULA_DSM} {READ_ALL}" in {row["dsm"] for row in rows}
    assert any(row["message"].startswith(f"'{FORMULA_DSM} {READ_ALL}") for row in rows)
    triggers = {row["trigger"] for row in rows}
    assert f"'{FORMULA_TRIGGER} {ALL} {NUL.text}" in triggers  # NUL and ESC kept exactly
    assert any(FILE_NAME in row["source_file"] for row in rows)


@pytest.mark.parametrize("start", FORMULA_START)
def test_csv_defuses_every_formula_start(start: str) -> None:
    value = f"{start}HYPERLINK(\"http://{ATTACKER}/x\",\"y\")"
    events = race_events(host=value, message=value, file=value)
    rows = list(csv.DictReader(io.StringIO(report.render(make_case(events, make_rule()), "csv"),
                                           newline="")))
    assert {row["host"] for row in rows} == {f"'{value}"}
    assert f"'{value}" in {row["message"] for row in rows}
    assert f"'{value}" in {row["file"] for row in rows}


def test_timesketch_keeps_the_exact_text_one_object_per_line(case: CaseResult,
                                                            outputs: dict[str, Path]) -> None:
    text = outputs["timesketch"].read_text(encoding="utf-8")
    assert text.splitlines() == text.split("\n")[:-1]  # U+2028/2029/0085 are escaped
    items = [json.loads(line) for line in text.splitlines()]
    assert len(items) == len(case.events) + len(case.timelines)
    assert {item.get("computer_name") for item in items} >= set(READ_HOSTS)  # no quote added
    assert any(READ_ALL in item["message"] for item in items)
    assert any(FILE_NAME in (item.get("filename") or "") for item in items)


SGR = re.compile(r"\x1b\[[0-9;]*m")


def test_terminal_summary_prints_log_text_literally(case: CaseResult) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=20_000)
    report.print_summary(case, console)
    raw = buffer.getvalue()
    bare = SGR.sub("", raw)  # Rich's own colours are the only escape sequences
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", bare)
    assert "\x1b]8;" not in raw  # no hyperlink from [link=...] markup in a log
    assert "[link=http://attacker.invalid/r]rich[/link][bold red]b[/][/]" in bare
    assert "␛[2J␛]0;pwned␇" in bare and "invoice⟨U+202E⟩xcod.exe" in bare
    for payload in FILE_NAME_PAYLOADS:
        assert payload.visible in bare, payload.name
    assert FORMULA_HOST in bare
