"""Findings grouped into incidents, the unit the report leads with.

An incident is a run of findings on one host whose time spans overlap or follow each other
within :data:`INCIDENT_GAP`: the duplicate failover, the DSM's missing path, the teardown and
the delayed-write failures of one outage are one incident, shown once with the evidence they
share. Findings without a time form one incident per host at the end.

:func:`incident_views` builds what the report shows of them (:class:`IncidentView`, each with
its :class:`FindingView` and :class:`EvidenceRow` objects); the rest of the report context is
:mod:`evtxmpio.report.context`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from evtxmpio.report.axis import duration_text
from evtxmpio.report.jsonout import iso, path_id_text
from evtxmpio.report.swimlane import UNNAMED_HOST

if TYPE_CHECKING:
    from evtxmpio.detect import CaseResult, Finding

INCIDENT_GAP = pd.Timedelta(minutes=5)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
MAX_MESSAGE = 2000
EVIDENCE_CAP = 100
FINDINGS_CAP = 200


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
    findings: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Link:
    """A reference; ``href`` is set only for http(s) URLs, otherwise it is shown as text."""

    text: str
    href: str | None


@dataclass(frozen=True, slots=True)
class FindingView:
    """One finding as shown in the report; ``anchor`` is its link target, ``number`` the
    number the evidence tables cite it by, ``incident`` its incident's anchor and
    ``evidence_total`` how many evidence events it has (listed in its incident)."""

    anchor: str
    number: int
    incident: str
    rule_id: str
    title: str
    severity: str
    description: str
    remediation: str
    references: tuple[Link, ...]
    host: str | None
    mpio_disk: int | None
    path_id: str | None
    start: str | None
    end: str | None
    evidence_total: int


@dataclass(frozen=True, slots=True)
class RuleLine:
    """One line of an incident's summary: the findings of one rule, worst rules first.

    ``anchor`` links to the first of them; ``count`` says how many; ``where`` names their
    MPIO disks and Path IDs; ``start`` is the first one's time.
    """

    severity: str
    title: str
    anchor: str
    count: int
    where: str
    start: str | None


@dataclass(frozen=True, slots=True)
class IncidentView:
    """Findings of one host that overlap or follow closely in time: one outage.

    ``evidence`` is the union of the findings' evidence, each event once and at most
    ``EVIDENCE_CAP`` of them (``evidence_total`` counts them all); ``severity`` is the worst
    finding's, ``severities`` counts them (``3 critical, 1 high``), ``duration`` reads
    ``12 s``; ``summary`` has one line per rule, ``findings`` every finding.
    """

    anchor: str
    number: int
    host: str
    start: str | None
    end: str | None
    duration: str
    severity: str
    severities: str
    mpio_disks: tuple[str, ...]
    path_ids: tuple[str, ...]
    summary: tuple[RuleLine, ...]
    findings: tuple[FindingView, ...]
    evidence: tuple[EvidenceRow, ...]
    evidence_total: int


def group_findings(findings: Sequence[Finding]) -> list[list[int]]:
    """Indices of ``findings`` per incident, incidents in time order (host breaks ties)."""
    timed = sorted((i for i, f in enumerate(findings) if f.start is not None),
                   key=lambda i: (findings[i].start, str(findings[i].host or ""), i))
    groups: list[list[int]] = []
    open_end: dict[str, tuple[pd.Timestamp, list[int]]] = {}
    for index in timed:
        finding = findings[index]
        host = str(finding.host or "")
        end = finding.end if finding.end is not None else finding.start
        current = open_end.get(host)
        # Python ints: no overflow at the edges of the 64-bit clock
        if current is not None and finding.start.value <= current[0].value + INCIDENT_GAP.value:
            current[1].append(index)
            open_end[host] = (max(current[0], end), current[1])
        else:
            group = [index]
            groups.append(group)
            open_end[host] = (end, group)
    untimed: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        if finding.start is None:
            untimed.setdefault(str(finding.host or ""), []).append(index)
    return groups + [untimed[host] for host in sorted(untimed)]


def worst_severity(severities: Sequence[str]) -> str:
    """The most severe of ``severities`` (``info`` when empty)."""
    ranked = [SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)
              for s in severities]
    return SEVERITY_ORDER[min(ranked)] if ranked and min(ranked) < len(SEVERITY_ORDER) \
        else "info"


def shared_evidence(findings: Sequence[Finding], numbers: Sequence[int]
                    ) -> list[tuple[int, tuple[int, ...]]]:
    """The evidence rows of an incident's findings, each once, in frame order, with the
    numbers of the findings that cite it. ``numbers[k]`` is the number of ``findings[k]``."""
    cited: dict[int, list[int]] = {}
    for finding, number in zip(findings, numbers, strict=True):
        for row in finding.evidence:
            cited.setdefault(row, []).append(number)
    return [(row, tuple(cited[row])) for row in sorted(cited)]


def _text(value: Any) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _evidence(case: CaseResult, cited: list[tuple[int, tuple[int, ...]]]
              ) -> tuple[EvidenceRow, ...]:
    columns = ["time", "host", "provider", "event_id", "message", "source_file", "record_id"]
    shown = cited[:EVIDENCE_CAP]
    subset = case.events.loc[[row for row, _ in shown], columns]
    return tuple(
        EvidenceRow(iso(time), _text(host), _text(provider), _int(eid),
                    _text(message)[:MAX_MESSAGE], _text(file), _int(rid), numbers)
        for (time, host, provider, eid, message, file, rid), (_, numbers) in zip(
            subset.itertuples(index=False, name=None), shown, strict=True)
    )


def _link(reference: str) -> Link:
    safe = reference.lower().startswith(("https://", "http://"))
    return Link(reference, reference if safe else None)


def _finding_view(number: int, incident: str, finding: Finding) -> FindingView:
    rule = finding.rule
    return FindingView(f"finding-{number}", number, incident, rule.id, rule.title,
                       finding.severity, rule.description, rule.remediation,
                       tuple(_link(r) for r in rule.references), finding.host,
                       finding.mpio_disk, path_id_text(finding.path_id), iso(finding.start),
                       iso(finding.end), len(finding.evidence))


def incident_views(case: CaseResult) -> tuple[IncidentView, ...]:
    """The shown findings (numbered in detect's order) grouped per incident."""
    shown = case.findings[:FINDINGS_CAP]
    views = []
    for number, indices in enumerate(group_findings(shown), 1):
        anchor = f"incident-{number}"
        members = [shown[i] for i in indices]
        findings = tuple(_finding_view(i + 1, anchor, shown[i]) for i in indices)
        cited = shared_evidence(members, [f.number for f in findings])
        starts = [f.start for f in members if f.start is not None]
        ends = [f.end if f.end is not None else f.start for f in members if f.start is not None]
        start, end = (min(starts), max(ends)) if starts else (None, None)
        severities = [f.severity for f in members]
        views.append(IncidentView(
            anchor, number, str(members[0].host or UNNAMED_HOST), iso(start), iso(end),
            duration_text(end.value - start.value) if starts else "",
            worst_severity(severities), _severity_counts(severities),
            tuple(f"MPIODisk{d}" for d in sorted({f.mpio_disk for f in members
                                                   if f.mpio_disk is not None})),
            tuple(sorted({t for t in (path_id_text(f.path_id) for f in members) if t})),
            _summary(findings), findings, _evidence(case, cited), len(cited)))
    return tuple(views)


def _summary(findings: tuple[FindingView, ...]) -> tuple[RuleLine, ...]:
    by_rule: dict[str, list[FindingView]] = {}
    for view in findings:
        by_rule.setdefault(view.rule_id, []).append(view)
    lines = []
    for views in by_rule.values():
        first = views[0]
        disks = sorted({v.mpio_disk for v in views if v.mpio_disk is not None})
        paths = sorted({v.path_id for v in views if v.path_id})
        where = " ".join([*(f"MPIODisk{d}" for d in disks), *paths])
        lines.append(RuleLine(first.severity, first.title, first.anchor, len(views), where,
                              first.start))
    return tuple(sorted(lines, key=lambda line: SEVERITY_ORDER.index(line.severity)
                        if line.severity in SEVERITY_ORDER else len(SEVERITY_ORDER)))


def _severity_counts(severities: list[str]) -> str:
    return ", ".join(f"{severities.count(s)} {s}" for s in SEVERITY_ORDER if s in severities)


def evidence_anchors(incidents: tuple[IncidentView, ...], case: CaseResult) -> dict[int, str]:
    """Evidence row -> the anchor of the first finding (by number) that cites it."""
    anchors: dict[int, str] = {}
    views = sorted((view for incident in incidents for view in incident.findings),
                   key=lambda view: view.number)
    for view in views:
        for row in case.findings[view.number - 1].evidence:
            anchors.setdefault(row, view.anchor)
    return anchors
