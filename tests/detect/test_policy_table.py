"""The shipped verdict policy, table-driven: every verdict and every branch of the policy.

The expected verdicts come from the domain reference (section 3.5: the race is R1 with R4 or
R5; a loss of every path is genuine whatever else is logged; flapping and healthy failovers
are not the race) and from issue 14 (KB 2406705 applies only to Windows Server 2008 and
2008 R2; OS unknown keeps the race possible with a lower confidence; hotfix evidence before
the incident lowers the race; logs that cannot answer say so).
"""

from __future__ import annotations

import dataclasses

import pytest

from evtxmpio.detect import HostFacts, Rule, decide, shipped_policy
from evtxmpio.detect.engine import Finding

DUP, NO_PATH, TORN = "mpio-duplicate-failover", "mpio-dsm-no-valid-path", "mpio-disk-torn-down"
ALL_DOWN, FLAP, HEALTHY = "mpio-all-paths-down", "mpio-path-flapping", "mpio-healthy-failover"
N2D, LATE, LOST = "mpio-normal-to-degraded", "mpio-late-io-completion", "delayed-write-failed"
RACE = frozenset({DUP, NO_PATH, TORN})

BASE = HostFacts(host="FS01.contoso.local", system_log=True, mpio_trace=False, mpio_events=12,
                 disks_failed_over=2, kb2406705_os="applies", hotfix="unknown",
                 host_name_certain=True, os_name="Windows Server 2008 R2 SP1",
                 hotfix_evidence=None, other_names=(), inputs=("System log",))
NOTHING = {"disks_failed_over": 0, "mpio_events": 0}
SECURITY_ONLY = {**NOTHING, "system_log": False, "inputs": ("Security log",)}
OS_2012R2 = {"kb2406705_os": "does-not-apply", "os_name": "Windows Server 2012 R2"}

# (case, rules that fired, facts that differ from BASE, expected verdict)
TABLE = [
    ("race R1 R4 R5 R2 R6", RACE | {N2D, LOST}, {}, "kb2406705-race"),
    ("race R1 R4", {DUP, NO_PATH}, {}, "kb2406705-race"),
    ("race R1 R5 R3 with trace", {DUP, TORN, LATE}, {"mpio_trace": True}, "kb2406705-race"),
    ("race OS unknown", RACE, {"kb2406705_os": "unknown", "os_name": None}, "kb2406705-race"),
    ("race hotfix before", RACE, {"hotfix": "installed-before-incident",
                                  "hotfix_evidence": "WindowsUpdateClient 19 2011-05-02"},
     "kb2406705-race"),
    ("race hotfix after", RACE, {"hotfix": "installed-after-incident",
                                 "hotfix_evidence": "WindowsUpdateClient 19 2011-07-01"},
     "kb2406705-race"),
    ("R1 alone is no race", {DUP}, {}, "inconclusive"),
    ("race pattern on 2012 R2", RACE | {LOST}, OS_2012R2, "inconclusive"),
    ("race pattern on 2012 R2, every path down", RACE | {ALL_DOWN}, OS_2012R2,
     "all-paths-down"),
    ("all paths down", {ALL_DOWN, TORN, LOST}, {}, "all-paths-down"),
    ("R1 R5 and another disk down: race first", {ALL_DOWN, TORN, DUP}, {}, "kb2406705-race"),
    ("teardown alone", {TORN, LOST}, {}, "inconclusive"),
    ("DSM no path alone", {NO_PATH}, {}, "inconclusive"),
    ("flapping", {FLAP, HEALTHY}, {}, "path-flapping"),
    ("healthy failover", {HEALTHY}, {}, "healthy-failover"),
    ("failover, completion not logged", set(), {"disks_failed_over": 1}, "healthy-failover"),
    ("R2 alone", {N2D}, {}, "inconclusive"),
    ("lost writes without failover", {LOST}, {"disks_failed_over": 0}, "inconclusive"),
    ("no MPIO events", set(), NOTHING, "no-mpio-activity"),
    ("MPIO disks but no failover", set(), {"disks_failed_over": 0, "mpio_events": 4},
     "no-mpio-activity"),
    ("Security log only", set(), SECURITY_ONLY, "no-mpio-activity"),
    ("trace only, no System log", {DUP, LATE, TORN}, {"system_log": False, "mpio_trace": True},
     "kb2406705-race"),
    ("host name uncertain", {HEALTHY}, {"host_name_certain": False,
                                        "other_names": ("FS01",)}, "healthy-failover"),
]


def _finding(rule_id: str) -> Finding:
    rule = Rule(rule_id, rule_id, "", "high", "match", (), "", {}, "test")
    return Finding(rule, "FS01.contoso.local", None, None, None, None, ())


def verdict_of(fired: set[str], **changes: object):
    facts = dataclasses.replace(BASE, **changes)
    return decide(shipped_policy(), [_finding(rule_id) for rule_id in sorted(fired)], facts)


@pytest.mark.parametrize(("fired", "changes", "expected"), [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_table(fired: set[str], changes: dict, expected: str) -> None:
    assert verdict_of(fired, **changes).id == expected


def test_every_verdict_and_every_branch_is_reached() -> None:
    policy = shipped_policy()
    results = [verdict_of(fired, **changes) for _, fired, changes, _ in TABLE]
    assert {r.id for r in results} == set(policy.verdicts)
    assert {r.decided_by for r in results} == {item.id for item in policy.items}
    weighed = {where for r in results for where in r.weighed}
    entries = {b.where for item in policy.items for b in item.because}
    entries |= {b.where for b in policy.adjust}
    assert entries - weighed == set()


def test_os_unknown_keeps_the_race_with_a_lower_confidence() -> None:
    known = verdict_of(RACE)
    unknown = verdict_of(RACE, kb2406705_os="unknown", os_name=None)
    assert unknown.id == "kb2406705-race"
    assert unknown.confidence < known.confidence
    assert any("OS not in the logs" in reason for reason in unknown.reasons)


def test_race_pattern_on_an_os_the_kb_does_not_apply_to() -> None:
    verdict = verdict_of(RACE, **OS_2012R2)
    assert verdict.id == "inconclusive"
    assert any("does not apply" in r and "Windows Server 2012 R2" in r and "DSM vendor" in r
               for r in verdict.reasons)


def test_hotfix_before_the_incident_lowers_the_race_and_says_so() -> None:
    plain = verdict_of(RACE)
    before = verdict_of(RACE, hotfix="installed-before-incident",
                        hotfix_evidence="WindowsUpdateClient 19 2011-05-02 10:00:00 UTC")
    assert before.id == "kb2406705-race"
    assert before.confidence < plain.confidence
    assert any("installed before the incident" in r and "2011-05-02" in r
               for r in before.reasons)


def test_hotfix_after_the_incident_is_shown_and_changes_nothing_else() -> None:
    plain = verdict_of(RACE)
    after = verdict_of(RACE, hotfix="installed-after-incident",
                       hotfix_evidence="WindowsUpdateClient 19 2011-07-01 10:00:00 UTC")
    assert after.confidence == plain.confidence
    assert any("installed after the incident" in r for r in after.reasons)


def test_logs_that_cannot_answer_say_so_and_lower_the_confidence() -> None:
    with_system = verdict_of(set(), **NOTHING)
    security = verdict_of(set(), **SECURITY_ONLY)
    assert security.confidence < with_system.confidence
    assert security.confidence <= 0.5
    assert any("Security log" in r and "cannot show" in r for r in security.reasons)


def test_more_corroboration_never_lowers_the_race() -> None:
    assert verdict_of(RACE | {N2D}).confidence >= verdict_of(RACE).confidence
    assert verdict_of({DUP, NO_PATH}).confidence <= verdict_of(RACE).confidence
