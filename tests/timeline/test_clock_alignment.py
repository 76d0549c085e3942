"""A trace export whose clock runs seconds off is put back on the System log's clock."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from evtxmpio import pipeline
from tests.conftest import SAMPLES

RACE = SAMPLES / "kb2406705-race"


def _shifted_trace(target: Path, seconds: float) -> Path:
    def shift(match: re.Match[str]) -> str:
        moved = pd.Timestamp(match.group(1)) + pd.Timedelta(seconds=seconds)
        return f'SystemTime="{moved.isoformat()}"'

    text = (RACE / "MPIO-FS01.etw.xml").read_text(encoding="utf-8")
    target.write_text(re.sub(r'SystemTime="([^"]+)"', shift, text), encoding="utf-8")
    return target


@pytest.mark.parametrize("skew", [-4.0, 3.0])
def test_skewed_trace_is_realigned(tmp_path: Path, skew: float) -> None:
    trace = _shifted_trace(tmp_path / "MPIO.etw.xml", skew)
    case = pipeline.analyze([RACE / "System-FS01.xml", trace])
    [alignment] = case.clock_alignment
    assert alignment.applied
    assert alignment.pairs >= 4
    assert abs(alignment.offset.total_seconds() + skew) < 0.01
    fired = {finding.rule.id for finding in case.findings}
    assert {"mpio-duplicate-failover", "mpio-late-io-completion",
            "mpio-normal-to-degraded"} <= fired
    assert case.verdict.id == "kb2406705-race"
    # After alignment the trace's FailoverStart sits next to the System event 16 again.
    events = case.events
    start = events.loc[events["name"] == "MPIO:FailoverStart", "time"].min()
    sixteen = events.loc[events["name"] == "mpio:16", "time"].min()
    assert abs(start - sixteen) < pd.Timedelta(milliseconds=50)


def test_aligned_sources_are_left_alone() -> None:
    case = pipeline.analyze([RACE / "System-FS01.xml", RACE / "MPIO-FS01.etw.xml"])
    [alignment] = case.clock_alignment
    assert not alignment.applied
    assert abs(alignment.offset) < pd.Timedelta(milliseconds=1)


def test_hostless_csv_trace_joins_the_only_system_host() -> None:
    """tracerpt CSV has no computer column: its events belong to the case's one host."""
    case = pipeline.analyze([RACE / "System-FS01.evtx", RACE / "MPIO-FS01.etw.csv"])
    [alignment] = case.clock_alignment
    assert alignment.host_inferred
    assert alignment.host == "FS01.contoso.local"
    assert set(case.events["host"]) == {"FS01.contoso.local"}
    fired = {finding.rule.id for finding in case.findings}
    assert "mpio-late-io-completion" in fired  # trace evidence joined the System evidence
    assert case.verdict.id == "kb2406705-race"
