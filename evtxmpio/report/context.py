"""``ReportContext``: the one documented object the HTML template renders.

Everything the template shows is computed here; the template and its filters only format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio import __version__
from evtxmpio.detect import CaseResult, Finding
from evtxmpio.report.jsonout import iso, path_id_text

VERDICT_TEXT = {
    "kb2406705-race": "KB 2406705 duplicate-failover race",
    "all-paths-down": "All paths down: genuine loss of storage access",
    "path-flapping": "Path flapping: repeated failover and recovery",
    "healthy-failover": "Healthy failover",
    "no-mpio-activity": "No MPIO failover activity",
    "inconclusive": "Inconclusive",
}
HOTFIX_ADVICE = {
    "kb2406705-race": "Install the KB 2406705 hotfix on every node that uses MPIO with the "
    "Microsoft DSM (mpio.sys 6.0.6001.22876 / 6.0.6002.22610 / 6.1.7600.20959 / "
    "6.1.7601.21720 or later), then restore the failed path and check the files listed under "
    "delayed-write failures.",
    "all-paths-down": "The hotfix for KB 2406705 does not address this: every path to the "
    "storage failed. Investigate the storage fabric, array and HBAs.",
}
MAX_MESSAGE = 2000


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One evidence event as shown in the report."""

    time: str | None
    host: str
    provider: str
    event_id: int | None
    message: str
    source_file: str
    record_id: int | None


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding as shown in the report; ``anchor`` is its link target."""

    anchor: str
    rule_id: str
    title: str
    severity: str
    description: str
    remediation: str
    references: tuple[str, ...]
    host: str | None
    mpio_disk: int | None
    path_id: str | None
    start: str | None
    end: str | None
    evidence: tuple[EvidenceRow, ...]


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Everything the report template renders.

    Attributes:
        generator: tool name and version.
        verdict: verdict id; ``verdict_text`` its headline; ``confidence`` in [0, 1];
            ``reasons`` the chain that led to it; ``hotfix_advice`` what to do.
        hosts, mpio_disks, path_ids: what the case covers.
        time_window: first and last event time (ISO UTC) or ``None``.
        inputs: input paths as named by the engineer.
        findings: the findings, each with its evidence events.
        delayed_writes: dicts with time, host, file, volume.
        accounts: ingest accounting dicts per file.
        issues: one line per input problem.
        event_count: events in the analysis.
    """

    generator: str
    verdict: str
    verdict_text: str
    confidence: float
    reasons: tuple[str, ...]
    hotfix_advice: str
    hosts: tuple[str, ...]
    mpio_disks: tuple[str, ...]
    path_ids: tuple[str, ...]
    time_window: tuple[str, str] | None
    inputs: tuple[str, ...]
    findings: tuple[FindingView, ...]
    delayed_writes: tuple[dict[str, Any], ...]
    accounts: tuple[dict[str, Any], ...]
    issues: tuple[str, ...]
    event_count: int


def _evidence(case: CaseResult, finding: Finding) -> tuple[EvidenceRow, ...]:
    columns = ["time", "host", "provider", "event_id", "message", "source_file", "record_id"]
    subset = case.events.loc[list(finding.evidence), columns]
    return tuple(
        EvidenceRow(iso(time), host, provider, None if pd.isna(eid) else int(eid),
                    ("" if pd.isna(message) else str(message))[:MAX_MESSAGE], file,
                    None if pd.isna(rid) else int(rid))
        for time, host, provider, eid, message, file, rid in subset.itertuples(
            index=False, name=None)
    )


def _finding_view(case: CaseResult, number: int, finding: Finding) -> FindingView:
    rule = finding.rule
    return FindingView(f"finding-{number}", rule.id, rule.title, finding.severity,
                       rule.description, rule.remediation, rule.references, finding.host,
                       finding.mpio_disk, path_id_text(finding.path_id), iso(finding.start),
                       iso(finding.end), _evidence(case, finding))


def build_context(case: CaseResult) -> ReportContext:
    """Compute the report context of a case."""
    events = case.events
    disks = sorted({(h, int(d)) for h, d in events[["host", "mpio_disk"]].dropna().itertuples(
        index=False, name=None)})
    paths = sorted({int(p) for p in events["path_id"].dropna()})
    window = None
    if len(events) and events["time"].notna().any():
        window = (iso(events["time"].min()), iso(events["time"].max()))
    verdict = case.verdict.verdict
    return ReportContext(
        generator=f"evtxmpio {__version__}",
        verdict=verdict,
        verdict_text=VERDICT_TEXT[verdict],
        confidence=case.verdict.confidence,
        reasons=case.verdict.reasons,
        hotfix_advice=HOTFIX_ADVICE.get(verdict, "No hotfix action follows from these logs."),
        hosts=tuple(sorted(set(events["host"].dropna()))),
        mpio_disks=tuple(f"{host}: MPIODisk{disk}" for host, disk in disks),
        path_ids=tuple(f"0x{p:08x}" for p in paths),
        time_window=window,
        inputs=tuple(case.inputs),
        findings=tuple(_finding_view(case, n, f) for n, f in enumerate(case.findings, 1)),
        delayed_writes=tuple({"time": iso(d.time), "host": d.host, "file": d.file,
                              "volume": d.volume} for d in case.delayed_write_failures),
        accounts=tuple(a.to_dict() for a in case.accounts),
        issues=tuple(issue.line() for issue in case.issues),
        event_count=len(events),
    )
