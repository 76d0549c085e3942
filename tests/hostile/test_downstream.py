"""Whatever the readers let through, the analysis and every report format cope with it.

Records of a real race case are taken as readers produce them and their fields are replaced
by hostile values: times no 64-bit clock holds (zero and maximal FILETIMEs), event ids and
record numbers past 64 bits, data values with markup, control characters, 40-digit numbers,
random IO_ERROR_LOG_PACKETs with absurd size fields. The property: normalize, timelines,
rules, verdict and the html/json/csv/timesketch outputs never raise, every record stays an
event (a time at the edge of the clock is kept, never moved), the verdict is one of the six of
the JSON contract (README) and the JSON says the same.

Times at the very edge of the 64-bit clock (2262-04-11T23:47:16.854775807Z, 1677-09-21) are
tried in every run as explicit examples: windows, gaps and spans past the edge once crashed
the whole case, and random search finds that only sometimes.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from evtxmpio import pipeline, report
from evtxmpio.cli import app
from evtxmpio.detect import shipped_rules
from evtxmpio.ingest import IngestResult, ingest_paths
from evtxmpio.ingest.timefmt import filetime_to_ns
from evtxmpio.model import RawRecord
from evtxmpio.normalize import is_relevant
from tests.conftest import RACE_XML_CASE, SAMPLES

HOSTILE_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from([
        "<script>window.__pwned=1</script>", "\\Device\\MPIODisk99999999999999999999999",
        "0x" + "F" * 40, "-1", "=cmd|' /C calc'!A0", "\x00\x01\u202e", "{{ 7*7 }}",
        "C:\\" + "A" * 5000, "\\Device\\HarddiskVolume4\\x.mdb", "",
    ]),
)
HOSTILE_INT = st.one_of(st.none(), st.integers(), st.sampled_from([
    -1, 0, 2**31, 2**63 - 1, 2**63, 2**64 - 1, 10**30, -(2**63)]))
HOSTILE_TIME = st.one_of(st.none(), st.sampled_from([
    filetime_to_ns(0), filetime_to_ns(2**64 - 1), filetime_to_ns(0x7FFFFFFFFFFFFFFF),
    -(2**63), 2**63 - 1, 0]), st.integers(min_value=-(2**70), max_value=2**70))


# The first and last nanosecond datetime64[ns] holds, and one second inside.
CLOCK_MAX = 2**63 - 1
CLOCK_MIN = -(2**63) + 1
SECOND = 10**9
# The six verdicts of the evtxmpio.case/1 contract (README "JSON output").
CONTRACT_VERDICTS = {"kb2406705-race", "all-paths-down", "path-flapping", "healthy-failover",
                     "no-mpio-activity", "inconclusive"}
# Indices into race_records(): 2, 3 mpio 1/2 (disk arrival), 8 iScsiPrt 20, 9 and 10 mpio 16
# (failover start), 15 Ntfs 50 (delayed write), 23 mpio 2, 25 and 53 MPIO trace events.
MPIO_16, NTFS_50, ISCSI_20, TRACE_FIRST, TRACE_LAST = 9, 15, 8, 25, 53


@cache
def race_records() -> tuple[RawRecord, ...]:
    case = SAMPLES / "kb2406705-race"
    paths = [case / "System-FS01.evtx", case / "MPIO-FS01.etw.xml"]
    return tuple(ingest_paths(paths, keep=is_relevant).records)


CHANGES = st.one_of(
    st.tuples(st.just("time_ns"), HOSTILE_TIME),
    st.tuples(st.sampled_from(["event_id", "record_id", "level", "qualifiers"]), HOSTILE_INT),
    st.tuples(st.just("data"), st.lists(st.tuples(
        st.sampled_from([None, "PathId", "MpioDisk", "Caption", "Message", "DeviceName",
                         "FailoverId", "OldState", "NewState", "Status"]), HOSTILE_TEXT),
        max_size=6).map(tuple)),
    st.tuples(st.just("binary"), st.one_of(st.none(), st.binary(max_size=120))),
    st.tuples(st.just("provider"), st.sampled_from(
        ["mpio", "Disk", "Ntfs", "Application Popup", "iScsiPrt", "msdsm", "MPIO", ""])),
    st.tuples(st.sampled_from(["computer", "message", "task_name", "channel"]), HOSTILE_TEXT),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(st.integers(min_value=0), CHANGES), min_size=1, max_size=12))
@example(changes=[(1, ("event_id", None)), (0, ("event_id", 2**63 - 512)),
                  (2, ("record_id", 2**60 + 1)), (3, ("time_ns", None)), (4, ("event_id", None))])
@example(changes=[(MPIO_16, ("time_ns", CLOCK_MAX))])
@example(changes=[(MPIO_16, ("time_ns", CLOCK_MAX - SECOND)), (10, ("time_ns", CLOCK_MAX))])
@example(changes=[(2, ("time_ns", CLOCK_MIN)), (23, ("time_ns", CLOCK_MAX))])
@example(changes=[(3, ("time_ns", CLOCK_MIN + SECOND)), (TRACE_FIRST, ("time_ns", CLOCK_MAX))])
@example(changes=[(NTFS_50, ("time_ns", CLOCK_MIN)), (ISCSI_20, ("time_ns", CLOCK_MIN))])
@example(changes=[(TRACE_LAST, ("time_ns", CLOCK_MIN)), (NTFS_50, ("time_ns", CLOCK_MAX))])
@example(changes=[(at, ("time_ns", CLOCK_MAX)) for at in range(54)])
@example(changes=[(at, ("time_ns", CLOCK_MIN if at % 2 else CLOCK_MAX)) for at in range(54)])
def test_analysis_and_reports_survive_hostile_field_values(changes: list) -> None:
    records = list(race_records())
    for at, (name, value) in changes:
        at %= len(records)
        records[at] = replace(records[at], **{name: value})
    case = pipeline.analyze_ingested(IngestResult(records=records), shipped_rules([]),
                                     ["hostile"])
    assert len(case.events) == len(records)
    _assert_system_times_kept(records, case.events)
    assert case.verdict.id in CONTRACT_VERDICTS
    assert 0.0 <= case.verdict.confidence <= 1.0
    for output_format in ("html", "csv", "timesketch"):
        assert report.render(case, output_format)
    document = json.loads(report.render(case, "json"))
    assert document["schema"] == "evtxmpio.case/1"
    assert document["verdict"] == case.verdict.id


def _assert_system_times_kept(records: list[RawRecord], events: pd.DataFrame) -> None:
    """A System-log record at any time the clock holds keeps exactly that time (trace
    records may be moved by clock alignment, so only System records are counted)."""
    expected = sorted(r.time_ns for r in records if r.time_ns is not None
                      and CLOCK_MIN <= r.time_ns <= CLOCK_MAX and not r.kind.startswith("etw"))
    system = events.loc[~events["kind"].astype(str).str.startswith("etw") & events["time"].notna()]
    assert sorted(t.value for t in system["time"]) == expected


@pytest.mark.parametrize("edge", ["2262-04-11T23:47:16.854775807Z",
                                  "1677-09-21T00:12:43.145224193Z"])
def test_analyze_of_a_failover_at_the_edge_of_the_clock(tmp_path: Path, edge: str) -> None:
    # The race sample with its first mpio 16 (failover start) moved to the edge of the clock.
    text = (RACE_XML_CASE / "System.xml").read_text(encoding="utf-8")
    first_16 = text.index("'>16</EventID>")
    start = text.index("SystemTime='", first_16) + len("SystemTime='")
    end = text.index("'", start)
    (tmp_path / "System.xml").write_text(text[:start] + edge + text[end:], encoding="utf-8")
    runner = CliRunner()
    for output_format, name in (("json", "case.json"), ("csv", "timeline.csv")):
        result = runner.invoke(app, ["analyze", str(tmp_path / "System.xml"), "-f",
                                     output_format, "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    document = json.loads((tmp_path / "case.json").read_text(encoding="utf-8"))
    assert document["verdict"] in CONTRACT_VERDICTS
    assert edge[:19] in (tmp_path / "timeline.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize("output_format", ["html", "json", "csv", "timesketch"])
def test_analyze_of_a_file_whose_name_is_not_utf8(tmp_path: Path, output_format: str) -> None:
    # Byte 0xFF in the name: Python sees the surrogate escape "\udcff" and still opens it.
    case = Path(os.fsdecode(bytes(tmp_path) + b"/case\xff"))
    case.mkdir()
    log = Path(os.fsdecode(bytes(case) + b"/Sys\xfftem.xml"))
    log.write_bytes((RACE_XML_CASE / "System.xml").read_bytes())
    out = tmp_path / f"out.{output_format}"
    result = CliRunner().invoke(app, ["analyze", str(case), "-f", output_format, "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8")  # valid UTF-8
    shown = "Sys\\\\xfftem.xml" if output_format in ("json", "timesketch") else "Sys\\xfftem.xml"
    assert shown in text and "\ufffd" not in text
    if output_format == "json":
        assert json.loads(text)["verdict"] == "kb2406705-race"
