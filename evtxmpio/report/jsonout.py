"""The JSON output contract ``evtxmpio.case/1`` (documented in the README).

Stable: later versions add keys, never remove or retype them. Times are ISO-8601 UTC with
``Z``; Path IDs ``0x%08x`` strings; evidence points at ``{file, record_id}`` where
``record_id`` is the event's own EventRecordID (what Event Viewer shows).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

from evtxmpio import __version__
from evtxmpio.detect import CaseResult, DelayedWriteFailure, Finding
from evtxmpio.detect.impact import incident_costs

SCHEMA = "evtxmpio.case/1"


def iso(time: pd.Timestamp | None) -> str | None:
    """A UTC timestamp as ISO-8601 with 9 fractional digits and ``Z``."""
    if time is None or pd.isna(time):
        return None
    utc = time.tz_convert("UTC")
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.value % 1_000_000_000:09d}Z"


def path_id_text(path_id: int | None) -> str | None:
    """``0x%08x`` for a Path ID."""
    return None if path_id is None or pd.isna(path_id) else f"0x{int(path_id):08x}"


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def evidence_refs(case: CaseResult, rows: tuple[int, ...]) -> list[dict[str, Any]]:
    """``{file, record_id}`` for each evidence row."""
    subset = case.events.loc[list(rows), ["source_file", "record_id"]]
    return [{"file": file, "record_id": _int(record_id)}
            for file, record_id in subset.itertuples(index=False, name=None)]


def finding_dict(case: CaseResult, finding: Finding) -> dict[str, Any]:
    """One ``findings[]`` entry."""
    return {
        "rule": finding.rule.id,
        "title": finding.rule.title,
        "severity": finding.severity,
        "host": finding.host,
        "mpio_disk": finding.mpio_disk,
        "path_id": path_id_text(finding.path_id),
        "start": iso(finding.start),
        "end": iso(finding.end),
        "evidence": evidence_refs(case, finding.evidence),
    }


def delayed_write_dict(case: CaseResult, failure: DelayedWriteFailure) -> dict[str, Any]:
    """One ``delayed_write_failures[]`` entry."""
    return {"time": iso(failure.time), "host": failure.host, "file": failure.file,
            "volume": failure.volume, "mpio_disk": failure.mpio_disk,
            "evidence": evidence_refs(case, failure.evidence)}


def timeline_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``timelines[]``: every disk and path state change with the records that caused it."""
    return [
        {"host": host, "scope": scope,
         "mpio_disk": int(key) if scope == "disk" else None,
         "path_id": path_id_text(key) if scope == "path" else None,
         "time": iso(time), "from": from_state, "to": to_state, "source": source,
         "evidence": evidence_refs(case, evidence)}
        for host, scope, key, time, from_state, to_state, source, evidence in
        case.timelines.itertuples(index=False, name=None)
    ]


def lun_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``luns[]``: one entry per (host, MPIO disk) with its outcome."""
    return [{"host": lun.host, "mpio_disk": lun.mpio_disk, "outcome": lun.outcome,
             "failovers": lun.failovers, "final_state": lun.final_state,
             "removed_at": iso(lun.removed_at)} for lun in case.luns]


def hotfix_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``hotfix[]``: KB 2406705 fix status per host."""
    return [{"host": h.host, "os": h.os, "applies": h.applies,
             "fixed_mpio_version": h.fixed_version, "status": h.status,
             "evidence": evidence_refs(case, h.evidence)} for h in case.hotfix]


def host_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``hosts[]``: verdict, confidence and reasons per host, with its OS and fix status.

    ``os`` is ``null`` when the logs do not name it; ``hotfix`` is the ``hotfix[].status`` of
    the host; ``same_machine_unproven`` lists other host names of the case that may be this
    machine (the logs do not prove it, so they are kept apart).
    """
    return [{"host": h.host, "verdict": h.verdict.id, "confidence": h.verdict.confidence,
             "reasons": list(h.verdict.reasons), "os": h.facts.os_name,
             "hotfix": h.facts.hotfix, "kb2406705_os": h.facts.kb2406705_os,
             "same_machine_unproven": list(h.facts.other_names)}
            for h in getattr(case, "hosts", None) or []]


def impact_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``impact[]``: every Failover Clustering impact event, attributed or with its reason."""
    return [{"host": i.host, "kind": i.kind, "name": i.name, "time": iso(i.time),
             "record": evidence_refs(case, (i.row,))[0], "node": i.node,
             "attributed_to": None if i.incident is None else {
                 "host": i.incident.host, "mpio_disk": i.incident.mpio_disk,
                 "finding": i.incident.finding},
             "reason": i.reason, "chain": evidence_refs(case, i.chain),
             "candidates": [{"host": c.host, "mpio_disk": c.mpio_disk} for c in i.candidates]}
            for i in getattr(case, "impact", None) or []]


def cluster_dicts(case: CaseResult) -> list[dict[str, Any]]:
    """``clusters[]``: nodes recognised as one cluster, why, and each node's clock offset."""
    def seconds(delta: pd.Timedelta | None) -> float | None:
        return None if delta is None else delta.total_seconds()

    return [{"name": c.name, "nodes": list(c.nodes), "reference": c.reference,
             "evidence": list(c.evidence),
             "clocks": [{"host": k.host, "offset_s": seconds(k.offset), "pairs": k.pairs,
                         "spread_s": seconds(k.spread), "applied": k.applied}
                        for k in c.clocks]}
            for c in getattr(case, "clusters", None) or []]


def impact_summary(case: CaseResult) -> list[dict[str, Any]]:
    """``impact_summary[]``: one sentence per storage incident that cost the cluster."""
    return [{"host": cost.incident.host, "mpio_disk": cost.incident.mpio_disk,
             "finding": cost.incident.finding, "sentence": cost.sentence}
            for cost in incident_costs(getattr(case, "impact", None) or [])]


def case_dict(case: CaseResult) -> dict[str, Any]:
    """The whole ``evtxmpio.case/1`` document."""
    return {
        "schema": SCHEMA,
        "generator": f"evtxmpio {__version__}",
        "verdict": case.verdict.id,
        "confidence": case.verdict.confidence,
        "verdict_reasons": list(case.verdict.reasons),
        "findings": [finding_dict(case, f) for f in case.findings],
        "delayed_write_failures": [delayed_write_dict(case, d)
                                   for d in case.delayed_write_failures],
        "ingest": [account.to_dict() for account in case.accounts],
        "luns": lun_dicts(case),
        "timelines": timeline_dicts(case),
        "hotfix": hotfix_dicts(case),
        "hosts": host_dicts(case),
        "host_names_merged": [{"name": name, "into": into, "proof": proof}
                              for name, into, proof in case.host_names.merged],
        "clock_alignment": [
            {"host": a.host, "file": a.source_file, "offset_s": a.offset.total_seconds(),
             "pairs": a.pairs, "applied": a.applied, "host_inferred": a.host_inferred}
            for a in case.clock_alignment],
        "clusters": cluster_dicts(case),
        "impact": impact_dicts(case),
        "impact_summary": impact_summary(case),
    }


def render_json(case: CaseResult, transform: Callable[[Any], Any] | None = None) -> str:
    """The case as indented, key-stable JSON text (byte-identical across runs).

    ``transform`` (redaction) is applied to the whole document as the last step; a redacted
    document says so in the added key ``redacted``.
    """
    document = case_dict(case)
    if transform is not None:
        document = transform(document)
        document["redacted"] = True
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
