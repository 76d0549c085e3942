"""Whatever the readers let through, the analysis and every report format cope with it.

Records of a real race case are taken as readers produce them and their fields are replaced
by hostile values: times no 64-bit clock holds (zero and maximal FILETIMEs), event ids and
record numbers past 64 bits, data values with markup, control characters, 40-digit numbers,
random IO_ERROR_LOG_PACKETs with absurd size fields. The property: normalize, timelines,
rules, verdict and the html/json/csv/timesketch outputs never raise, and the JSON stays JSON.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evtxmpio import pipeline, report
from evtxmpio.detect import shipped_rules
from evtxmpio.ingest import IngestResult, ingest_paths
from evtxmpio.ingest.timefmt import filetime_to_ns
from evtxmpio.model import RawRecord
from evtxmpio.normalize import is_relevant
from tests.conftest import SAMPLES

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
def test_analysis_and_reports_survive_hostile_field_values(changes: list) -> None:
    records = list(race_records())
    for at, (name, value) in changes:
        at %= len(records)
        records[at] = replace(records[at], **{name: value})
    case = pipeline.analyze_ingested(IngestResult(records=records), shipped_rules([]),
                                     ["hostile"])
    assert case.verdict is not None
    for output_format in ("html", "csv", "timesketch"):
        assert report.render(case, output_format)
    document = json.loads(report.render(case, "json"))
    assert document["schema"] == "evtxmpio.case/1"
