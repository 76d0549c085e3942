"""Each hand-built verdict case gets the verdict samples/VERDICT_CASES.md gives it."""

from __future__ import annotations

import pytest

from evtxmpio import pipeline
from tests.conftest import SAMPLES

# From samples/VERDICT_CASES.md (domain reference section 3.5, issue 14).
EXPECTED = {"kb2406705-race-xml": "kb2406705-race", "all-paths-down-xml": "all-paths-down",
            "path-flapping-xml": "path-flapping", "healthy-failover-xml": "healthy-failover",
            "no-mpio-activity-xml": "no-mpio-activity", "inconclusive-xml": "inconclusive"}


def test_there_is_one_case_per_verdict() -> None:
    assert set(EXPECTED.values()) == set(pipeline.shipped_policy().verdicts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_case_gets_its_verdict(name: str) -> None:
    case = pipeline.analyze([SAMPLES / name / "case"])
    assert case.verdict.id == EXPECTED[name]
    assert [host.verdict.id for host in case.hosts] == [EXPECTED[name]]
