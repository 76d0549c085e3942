"""Golden outputs of the sample cases: JSON and HTML must not change unnoticed.

``pytest --update-golden`` rewrites ``samples/<case>/expected/``; review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio import pipeline, report
from tests.conftest import REPO

GOLDEN_CASES = {"kb2406705-race-xml": "samples/kb2406705-race-xml/case"}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
@pytest.mark.parametrize("output_format", ["json", "html"])
def test_golden(name: str, output_format: str, update_golden: bool, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # evidence paths are shown as given: relative to the checkout
    case = pipeline.analyze([Path(GOLDEN_CASES[name])])
    produced = tmp_path / f"out.{output_format}"
    report.write_report(case, produced, output_format)
    expected = REPO / "samples" / name / "expected" / f"report.{output_format}"
    if update_golden:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(produced.read_bytes())
    assert produced.read_text(encoding="utf-8") == expected.read_text(encoding="utf-8")
