"""``ReportContext``: the one documented object the HTML template renders.

Everything the template shows is computed here (and in :mod:`evtxmpio.report.swimlane` for the
picture); the template and its filters only format. The report leads with the incidents
(:mod:`evtxmpio.report.incidents`): findings grouped per outage, each incident's evidence shown
once. Large cases are capped, not paged: each incident shows its first ``EVIDENCE_CAP``
evidence events and says how many more are in the JSON and CSV outputs, which always hold all
of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio import __version__
from evtxmpio.detect import CaseResult
from evtxmpio.report.hostview import host_views
from evtxmpio.report.impactview import impact_views
from evtxmpio.report.incidents import (
    EVIDENCE_CAP,
    FINDINGS_CAP,
    EvidenceRow,
    FindingView,
    IncidentView,
    Link,
    RuleLine,
    evidence_anchors,
    incident_views,
)
from evtxmpio.report.jsonout import iso
from evtxmpio.report.problems import input_problems
from evtxmpio.report.swimlane import UNNAMED_HOST, SwimLanes, build_swimlanes

__all__ = ["EVIDENCE_CAP", "FINDINGS_CAP", "EvidenceRow", "FindingView", "IncidentView", "Link",
           "LunView", "ReportContext", "RuleLine", "build_context"]
# Verdicts the KB 2406705 fix status bears on; other verdicts show the advice without the table.
HOTFIX_VERDICTS = frozenset({"kb2406705-race"})

DELAYED_WRITES_CAP = 500
ISSUES_CAP = 200
HEALTH_KEYS = ("dirty", "chunks_prefiltered", "record_id_gaps", "record_id_backwards",
               "time_backwards", "first_time", "last_time")


@dataclass(frozen=True, slots=True)
class LunView:
    """One MPIO disk (LUN) of the case: its last state and, when detect gives it, its outcome."""

    host: str
    mpio_disk: str
    last_state: str
    outcome: str
    failovers: int | None


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Everything the report template renders.

    Attributes:
        generator: tool name and version.
        verdict: verdict id; ``verdict_text`` its headline; ``confidence`` in [0, 1];
            ``explanation`` one paragraph for the customer; ``reasons`` the chain that led to
            it; ``hotfix_advice`` what to do.
        hotfix: per host, the KB 2406705 fix status detect derived (dicts: host, os,
            status, fixed_version), empty when detect gives none; ``hotfix_relevant`` says
            whether the verdict is one the fix bears on (the table is shown only then).
        host_verdicts: per host, its verdict (dicts of :func:`.hostview.host_views`;
            ``reports/hosts.html.j2`` renders them).
        impact: what the storage incidents cost the cluster (:func:`.impactview.impact_views`:
            sentences, unattributed cluster events, node clocks; ``reports/impact.html.j2``).
        hosts, mpio_disks, path_ids: what the case covers; ``luns`` one row per MPIO disk.
        time_window: first and last event time (ISO UTC) or ``None``.
        inputs: input paths as named by the engineer.
        swimlanes: the timeline picture, or ``None`` when nothing happened to draw.
        incidents: the first ``FINDINGS_CAP`` findings grouped per incident, with the
            evidence they share; ``findings_shown`` of ``findings_total`` findings.
        delayed_writes: dicts with time, host, file, volume, mpio_disk (at most
            ``DELAYED_WRITES_CAP``);
            ``delayed_writes_total`` counts them all.
        accounts: ingest accounting dicts per file (``health`` normalized or ``None``).
        issues: one line per input problem, with its file and reason, from files that could
            not be read at all too (at most ``ISSUES_CAP``); ``issues_total``.
        event_count: events in the analysis.
        redacted: names were replaced by pseudonyms.
    """

    generator: str
    verdict: str
    verdict_text: str
    confidence: float
    explanation: str
    reasons: tuple[str, ...]
    hotfix_advice: str
    hotfix: tuple[dict[str, Any], ...]
    hotfix_relevant: bool
    host_verdicts: tuple[dict[str, Any], ...]
    impact: dict[str, Any]
    hosts: tuple[str, ...]
    mpio_disks: tuple[str, ...]
    path_ids: tuple[str, ...]
    luns: tuple[LunView, ...]
    time_window: tuple[str, str] | None
    inputs: tuple[str, ...]
    swimlanes: SwimLanes | None
    incidents: tuple[IncidentView, ...]
    findings_shown: int
    findings_total: int
    delayed_writes: tuple[dict[str, Any], ...]
    delayed_writes_total: int
    accounts: tuple[dict[str, Any], ...]
    issues: tuple[str, ...]
    issues_total: int
    event_count: int
    redacted: bool


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _account_view(account: Mapping[str, Any]) -> dict[str, Any]:
    view = dict(account)
    view["errors"] = list(account.get("errors") or [])
    view["skip_reasons"] = ", ".join(f"{reason} {count}" for reason, count in
                                     (account.get("skip_reasons") or {}).items())
    health = account.get("health")
    view["health"] = {k: health.get(k) for k in HEALTH_KEYS} if isinstance(health, Mapping) \
        else None
    for key in ("records_recovered", "chunks_damaged", "duplicates_removed"):
        view[key] = account.get(key, 0)
    view["truncated"] = bool(account.get("truncated", False))
    return view


def _field(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


def outcomes(case: CaseResult) -> dict[tuple[str, int], str]:
    """(host, MPIO disk) -> outcome from ``CaseResult.luns`` when detect provides it."""
    return {(str(_field(lun, "host")), int(_field(lun, "mpio_disk"))): _text(_field(lun, "outcome"))
            for lun in getattr(case, "luns", None) or []
            if _field(lun, "host") is not None and _field(lun, "mpio_disk") is not None}


def _luns(case: CaseResult, disks: list[tuple[str, int]]) -> tuple[LunView, ...]:
    known = outcomes(case)
    failovers = {(str(_field(lun, "host")), int(_field(lun, "mpio_disk"))):
                 _int(_field(lun, "failovers")) for lun in getattr(case, "luns", None) or []
                 if _field(lun, "host") is not None and _field(lun, "mpio_disk") is not None}
    timelines = case.timelines
    last = {}
    if len(timelines):
        rows = timelines.loc[timelines["scope"] == "disk", ["host", "key", "to_state"]]
        last = {(str(h), int(k)): str(s) for h, k, s in rows.itertuples(index=False, name=None)}
    keys = sorted(set(disks) | set(known) | set(last))
    return tuple(LunView(host, f"MPIODisk{disk}", last.get((host, disk), "no state change"),
                         known.get((host, disk), ""), failovers.get((host, disk)))
                 for host, disk in keys)


def _hotfix(case: CaseResult) -> tuple[dict[str, Any], ...]:
    return tuple({"host": _text(_field(h, "host")), "os": _text(_field(h, "os")),
                  "status": _text(_field(h, "status")),
                  "fixed_version": _text(_field(h, "fixed_version"))}
                 for h in getattr(case, "hotfix", None) or [])


def _explanation(case: CaseResult, luns: tuple[LunView, ...], window: tuple[str, str] | None
                 ) -> str:
    removed = sum(1 for lun in luns if lun.last_state == "REMOVED")
    facts = (f"These logs cover {len({lun.host for lun in luns}) or 'no'} host(s) and "
             f"{len(luns)} MPIO disk(s)"
             + (f" from {window[0][:19]} to {window[1][:19]} UTC" if window else "")
             + f"; {len(case.findings)} finding(s), {removed} MPIO disk(s) removed and "
             f"{len(case.delayed_write_failures)} delayed-write failure(s).")
    return f"{case.verdict.explanation} {facts}"


def build_context(case: CaseResult, redacted: bool = False) -> ReportContext:
    """Compute the report context of a case."""
    events = case.events
    disks = sorted({(str(h), int(d)) for h, d in events[["host", "mpio_disk"]].dropna()
                    .itertuples(index=False, name=None)})
    paths = sorted({int(p) for p in events["path_id"].dropna()})
    window = None
    if len(events) and events["time"].notna().any():
        window = (iso(events["time"].min()), iso(events["time"].max()))
    verdict = case.verdict.id
    incidents = incident_views(case)
    luns = _luns(case, disks)
    problems = input_problems(case)
    return ReportContext(
        generator=f"evtxmpio {__version__}",
        verdict=verdict,
        verdict_text=case.verdict.headline or verdict,
        confidence=case.verdict.confidence,
        explanation=_explanation(case, luns, window),
        reasons=tuple(case.verdict.reasons),
        hotfix_advice=case.verdict.advice,
        hotfix=_hotfix(case),
        hotfix_relevant=verdict in HOTFIX_VERDICTS,
        host_verdicts=host_views(case),
        impact=impact_views(case),
        hosts=tuple(sorted({str(h) or UNNAMED_HOST for h in events["host"].dropna()})),
        mpio_disks=tuple(f"{host}: MPIODisk{disk}" for host, disk in disks),
        path_ids=tuple(f"0x{p:08x}" for p in paths),
        luns=luns,
        time_window=window,
        inputs=tuple(case.inputs),
        swimlanes=build_swimlanes(events, case.timelines, evidence_anchors(incidents, case),
                                  outcomes(case)),
        incidents=incidents,
        findings_shown=min(len(case.findings), FINDINGS_CAP),
        findings_total=len(case.findings),
        delayed_writes=tuple({"time": iso(d.time), "host": d.host, "file": d.file,
                              "volume": d.volume, "mpio_disk": getattr(d, "mpio_disk", None)}
                             for d in case.delayed_write_failures[:DELAYED_WRITES_CAP]),
        delayed_writes_total=len(case.delayed_write_failures),
        accounts=tuple(_account_view(a.to_dict()) for a in case.accounts),
        issues=tuple(problems[:ISSUES_CAP]),
        issues_total=len(problems),
        event_count=len(events),
        redacted=redacted,
    )
