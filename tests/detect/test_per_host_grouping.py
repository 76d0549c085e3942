"""No rule ever joins two hosts (issue 14 item 4): grouping is per host even when a rule's
``group_by``, ``merge_by`` or ``only_if`` leaves the host out."""

from __future__ import annotations

from evtxmpio.detect import Rule, run_rules
from evtxmpio.detect.examples import example_frame
from evtxmpio.timeline import analysis_frame, build_timelines

# Two cluster nodes log event 16 for the same Path ID on their own MPIODisk1 / MPIODisk2.
EVENTS = [
    {"name": "mpio:16", "host": "NODE1", "mpio_disk": 1, "path_id": 0x77030001,
     "time": "2011-06-14T07:47:10Z"},
    {"name": "mpio:16", "host": "NODE2", "mpio_disk": 2, "path_id": 0x77030001,
     "time": "2011-06-14T07:47:10.1Z"},
    {"name": "mpio:32", "host": "NODE2", "mpio_disk": 2, "time": "2011-06-14T07:47:12Z"},
]
COMMON = {"title": "t", "description": "d", "severity": "high", "references": [],
          "remediation": "r"}


def _findings(spec: dict) -> list:
    rule = Rule.from_dict({"id": "two-disks-one-path", **COMMON, **spec}, source="test")
    frame = analysis_frame(example_frame(EVENTS))
    return run_rules([rule], frame, build_timelines(frame))


def test_threshold_grouped_by_path_id_only_stays_per_host() -> None:
    assert _findings({"kind": "threshold", "conditions": [
        {"select": {"name": {"equals": "mpio:16"}}, "group_by": ["path_id"],
         "distinct": "mpio_disk", "min": 2}]}) == []


def test_match_grouped_by_path_id_gives_one_finding_per_host() -> None:
    found = _findings({"kind": "match", "select": {"name": {"equals": "mpio:16"}},
                       "group_by": ["path_id"]})
    assert sorted(f.host for f in found) == ["NODE1", "NODE2"]


def test_only_if_looks_only_at_the_same_host() -> None:
    found = _findings({"kind": "match", "select": {"name": {"equals": "mpio:16"}},
                       "only_if": {"by": ["path_id"],
                                    "select": {"name": {"equals": "mpio:16"},
                                               "mpio_disk": {"equals": 2}}}})
    assert [f.host for f in found] == ["NODE2"]
