"""Judge a case: a verdict per host from its own findings and facts, then the case verdict."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from evtxmpio.detect.engine import Finding
from evtxmpio.detect.facts import HostFacts, host_facts
from evtxmpio.detect.hosts import HostNames
from evtxmpio.detect.hotfix import HotfixStatus, hotfix_status
from evtxmpio.detect.luns import LunOutcome
from evtxmpio.detect.policy import Policy
from evtxmpio.detect.verdict import HostVerdict, Verdict, case_verdict, decide, incident_start

NO_HOST_FACTS = HostFacts("", False, False, 0, 0, "unknown", "unknown", True, None, None, (),
                          ())


@dataclass(frozen=True, slots=True)
class Judgement:
    """Host verdicts (by host name), the hotfix status per host and the case verdict."""

    hosts: list[HostVerdict]
    hotfix: list[HotfixStatus]
    verdict: Verdict


def _host_of(finding: Finding) -> str:
    return finding.host or ""


def judge(policy: Policy, events: pd.DataFrame, findings: list[Finding],
          luns: list[LunOutcome], names: HostNames | None = None, records_read: int = 0
          ) -> Judgement:
    """Verdict per host (``""`` is the host of trace exports that name none) and for the case.

    Args:
        policy: the verdict policy.
        events: the analysis frame (hosts already unified, see :mod:`.hosts`).
        findings: every finding of the case; each host sees only its own.
        luns: LUN outcomes of the case.
        names: how host names were unified (uncertain pairs become a fact).
        records_read: records read from the inputs, said when none was kept.
    """
    names = names or HostNames()
    host_column = events["host"].fillna("").astype(str)
    hosts = sorted(set(host_column.unique()) | {_host_of(f) for f in findings})
    own = {host: [f for f in findings if _host_of(f) == host] for host in hosts}
    hotfix = hotfix_status(events, {host: incident_start(own[host]) for host in hosts})
    status = {h.host: h for h in hotfix}
    verdicts = []
    for host in hosts:
        mine = host_column == host
        # one host (the usual case): all its events, not a copy of them
        facts = host_facts(events if mine.all() else events.loc[mine], host, luns,
                           status.get(host), names.others(host))
        verdicts.append(HostVerdict(host, decide(policy, own[host], facts), facts))
    nothing = dataclasses.replace(NO_HOST_FACTS, inputs=(
        f"{records_read} record(s) read, none from a provider MPIO analysis uses",))
    case = case_verdict(verdicts) if verdicts else decide(policy, [], nothing)
    return Judgement(verdicts, hotfix, case)
