"""The result of analyzing one case: everything the report stage renders."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.detect.delayed_writes import DelayedWriteFailure
from evtxmpio.detect.engine import Finding
from evtxmpio.detect.hosts import HostNames
from evtxmpio.detect.hotfix import HotfixStatus
from evtxmpio.detect.impact import Impact
from evtxmpio.detect.luns import LunOutcome
from evtxmpio.detect.policy import Policy
from evtxmpio.detect.rules import Rule
from evtxmpio.detect.verdict import HostVerdict, Verdict
from evtxmpio.ingest import FileAccount, IngestIssue
from evtxmpio.timeline.clock import ClockAlignment
from evtxmpio.timeline.cluster_clock import Cluster


@dataclass(slots=True)
class CaseResult:
    """One analyzed case.

    Attributes:
        inputs: the paths the engineer named.
        events: the analysis frame (:data:`evtxmpio.model.ANALYSIS_COLUMNS`: the event frame,
            ``name`` included, plus the timeline's ``episode`` and ``paths_left``); it passes
            :func:`evtxmpio.model.check_analysis_frame`.
        timelines: disk and path transitions (:data:`evtxmpio.timeline.TIMELINE_COLUMNS`).
        findings: rule hits, sorted.
        verdict: the case verdict: the most severe host verdict.
        delayed_write_failures: one per lost file.
        accounts: ingest accounting per input file.
        issues: every input problem.
        rules: the rules that were run.
        luns: outcome per (host, MPIO disk).
        hotfix: KB 2406705 fix status per host.
        clock_alignment: offsets applied to put each trace export on the System clock.
        hosts: verdict, confidence, reasons and facts per host, by host name.
        host_names: host names folded into one machine, and pairs that could not be told.
        policy: the verdict policy that decided.
        clusters: hosts recognised as nodes of one failover cluster, with their clocks.
        impact: every Failover Clustering impact event, attributed or not (time order).
    """

    inputs: list[str]
    events: pd.DataFrame
    timelines: pd.DataFrame
    findings: list[Finding]
    verdict: Verdict
    delayed_write_failures: list[DelayedWriteFailure]
    accounts: list[FileAccount]
    issues: list[IngestIssue]
    rules: list[Rule] = field(default_factory=list)
    luns: list[LunOutcome] = field(default_factory=list)
    hotfix: list[HotfixStatus] = field(default_factory=list)
    clock_alignment: list[ClockAlignment] = field(default_factory=list)
    hosts: list[HostVerdict] = field(default_factory=list)
    host_names: HostNames = field(default_factory=HostNames)
    policy: Policy | None = None
    clusters: list[Cluster] = field(default_factory=list)
    impact: list[Impact] = field(default_factory=list)
