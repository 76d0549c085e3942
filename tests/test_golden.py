"""Golden outputs of the sample cases: JSON and HTML must not change unnoticed.

``pytest --update-golden`` rewrites ``samples/<case>/expected/``; review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio import pipeline, report
from tests.conftest import REPO

GOLDEN_CASES = {"kb2406705-race-xml": "samples/kb2406705-race-xml/case"}
# One hand-built case per verdict (samples/VERDICT_CASES.md); JSON only, the HTML layout is
# covered by the race case above.
VERDICT_CASES = {f"{verdict}-xml": f"samples/{verdict}-xml/case" for verdict in (
    "all-paths-down", "path-flapping", "healthy-failover", "no-mpio-activity", "inconclusive")}
GOLDEN = [(name, fmt) for name in sorted(GOLDEN_CASES) for fmt in ("json", "html")] + [
    (name, "json") for name in sorted(VERDICT_CASES)]


@pytest.mark.parametrize(("name", "output_format"), GOLDEN)
def test_golden(name: str, output_format: str, update_golden: bool, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # evidence paths are shown as given: relative to the checkout
    case = pipeline.analyze([Path({**GOLDEN_CASES, **VERDICT_CASES}[name])])
    produced = tmp_path / f"out.{output_format}"
    report.write_report(case, produced, output_format)
    expected = REPO / "samples" / name / "expected" / f"report.{output_format}"
    if update_golden:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(produced.read_bytes())
    assert produced.read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
