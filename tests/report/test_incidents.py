"""Findings grouped per incident: a partition, per host, split only at quiet gaps."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.report.incidents import INCIDENT_GAP, group_findings, shared_evidence

EDGE_LOW = -(2**63) + 1
EDGE_HIGH = 2**63 - 1
GAP = INCIDENT_GAP.value


def _finding(host: str, start: int | None, length: int, evidence: tuple[int, ...] = ()):
    begin = None if start is None else pd.Timestamp(start, tz="UTC")
    end = None if start is None else pd.Timestamp(min(start + length, EDGE_HIGH), tz="UTC")
    return SimpleNamespace(host=host, start=begin, end=end, evidence=evidence)


findings_strategy = st.lists(st.tuples(
    st.sampled_from(["A", "B"]),
    st.one_of(st.none(), st.integers(EDGE_LOW, EDGE_HIGH)),
    st.integers(0, 3 * GAP)), max_size=12)


@given(findings_strategy)
@example([("A", EDGE_HIGH, 0), ("A", EDGE_HIGH - 1, 5)])
@example([("A", EDGE_LOW, 0), ("A", EDGE_LOW + GAP + 1, 0), ("B", EDGE_LOW, 0)])
@example([("A", 0, 0), ("A", GAP, 0), ("A", 2 * GAP + 1, 0)])
@example([("A", None, 0), ("B", 0, 0), ("A", None, 0)])
def test_groups_are_a_partition_split_at_quiet_gaps(items: list) -> None:
    findings = [_finding(*item) for item in items]
    groups = group_findings(findings)
    flat = sorted(i for group in groups for i in group)
    assert flat == list(range(len(findings)))  # every finding exactly once
    for group in groups:
        assert len({findings[i].host for i in group}) == 1
        timed = [findings[i] for i in group if findings[i].start is not None]
        assert len(timed) in (0, len(group))  # untimed findings never join timed ones
        timed.sort(key=lambda f: f.start.value)
        reach = None
        for finding in timed:  # each joins within the gap of what came before
            if reach is not None:
                assert finding.start.value <= reach + GAP
            reach = finding.end.value if reach is None else max(reach, finding.end.value)
    for host in ("A", "B"):  # a host's next incident starts more than the gap after the last
        spans = sorted((min(findings[i].start.value for i in group),
                        max(findings[i].end.value for i in group))
                       for group in groups if findings[group[0]].host == host
                       and findings[group[0]].start is not None)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start > end + GAP


def test_example_gap_boundary() -> None:
    findings = [_finding("A", 0, 0), _finding("A", GAP, 0), _finding("A", 2 * GAP + 1, 0)]
    assert group_findings(findings) == [[0, 1], [2]]


def test_shared_evidence_lists_each_event_once_with_its_findings() -> None:
    findings = [_finding("A", 0, 0, (5, 7)), _finding("A", 0, 0, (7, 9))]
    assert shared_evidence(findings, [1, 2]) == [(5, (1,)), (7, (1, 2)), (9, (2,))]
