"""A :class:`CaseResult` as rows of the case database tables (plain, picklable values).

Rows come from the ``evtxmpio.case/1`` JSON document (:func:`evtxmpio.report.case_dict`), so
the database says exactly what ``evtxmpio analyze --format json`` says. Times are UTC without
an offset (``TIMESTAMP_NS`` columns); numbering (``finding_no`` ...) follows the report's order.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from evtxmpio.detect import SEVERITY_RANK, CaseResult
from evtxmpio.report import case_dict
from evtxmpio.triage.outcome import Row


def utc_text(iso: str | None) -> str | None:
    """``2011-06-14T06:58:20.100000000Z`` -> ``2011-06-14T06:58:20.100000000`` (UTC)."""
    return None if iso is None else iso.removesuffix("Z")


def _time_text(value: Any) -> str | None:
    if value is None or pd.isna(value):
        return None
    utc = pd.Timestamp(value).tz_convert("UTC")
    return f"{utc.strftime('%Y-%m-%dT%H:%M:%S')}.{utc.value % 1_000_000_000:09d}"


def _evidence_rows(owner: str, owner_no: int, refs: list[dict[str, Any]]) -> list[Row]:
    return [{"owner": owner, "owner_no": owner_no, "evidence_no": number,
             "file": ref["file"], "record_id": ref["record_id"]}
            for number, ref in enumerate(refs)]


def finding_rows(document: dict[str, Any]) -> tuple[list[Row], list[Row]]:
    """``findings`` rows and their ``evidence`` rows."""
    findings: list[Row] = []
    evidence: list[Row] = []
    for number, finding in enumerate(document["findings"]):
        findings.append({
            "finding_no": number, "rule": finding["rule"], "title": finding["title"],
            "severity": finding["severity"], "host": finding["host"],
            "mpio_disk": finding["mpio_disk"], "path_id": finding["path_id"],
            "start_time": utc_text(finding["start"]), "end_time": utc_text(finding["end"]),
            "evidence_count": len(finding["evidence"]),
        })
        evidence += _evidence_rows("finding", number, finding["evidence"])
    return findings, evidence


def delayed_write_rows(document: dict[str, Any]) -> tuple[list[Row], list[Row]]:
    """``delayed_write_failures`` rows and their ``evidence`` rows."""
    failures: list[Row] = []
    evidence: list[Row] = []
    for number, failure in enumerate(document["delayed_write_failures"]):
        failures.append({
            "failure_no": number, "time": utc_text(failure["time"]), "host": failure["host"],
            "file": failure["file"], "volume": failure["volume"],
            "evidence_count": len(failure["evidence"]),
        })
        evidence += _evidence_rows("delayed_write", number, failure["evidence"])
    return failures, evidence


def ingest_rows(document: dict[str, Any]) -> list[Row]:
    """One ``ingest`` row per input file."""
    keys = ("file", "format", "records_read", "records_used", "records_skipped",
            "records_recovered", "chunks_damaged", "duplicates_removed", "truncated")
    return [{"file_no": number, **{key: entry[key] for key in keys},
             "errors": list(entry["errors"]),
             "skip_reasons": json.dumps(entry["skip_reasons"], sort_keys=True)}
            for number, entry in enumerate(document["ingest"])]


def impact_rows(document: dict[str, Any]) -> list[Row]:
    """One ``impact`` row per Failover Clustering impact event (``impact[]``), with the
    sentence of the incident it is attributed to."""
    sentences = {(s["host"], s["mpio_disk"]): s["sentence"] for s in document["impact_summary"]}
    rows: list[Row] = []
    for number, item in enumerate(document["impact"]):
        cause = item["attributed_to"] or {}
        rows.append({
            "impact_no": number, "host": item["host"], "kind": item["kind"],
            "name": item["name"], "time": utc_text(item["time"]),
            "file": item["record"]["file"], "record_id": item["record"]["record_id"],
            "node": item["node"], "attributed": bool(cause),
            "attributed_host": cause.get("host"), "mpio_disk": cause.get("mpio_disk"),
            "finding": cause.get("finding"), "reason": item["reason"],
            "sentence": sentences.get((cause.get("host"), cause.get("mpio_disk"))),
        })
    return rows


def case_row(case: CaseResult, document: dict[str, Any]) -> Row:
    """The ``cases`` columns a successful analysis fills."""
    events = case.events
    hosts = sorted({str(h) for h in events["host"].dropna().unique()}) if len(events) else []
    severities = [f["severity"] for f in document["findings"]]
    ingest = document["ingest"]
    return {
        "verdict": document["verdict"], "confidence": float(document["confidence"]),
        "verdict_reasons": list(document["verdict_reasons"]),
        "max_severity": max(severities, key=SEVERITY_RANK.__getitem__) if severities else None,
        "hosts": hosts,
        "first_event": _time_text(events["time"].min()) if len(events) else None,
        "last_event": _time_text(events["time"].max()) if len(events) else None,
        "events_count": len(events), "findings_count": len(document["findings"]),
        "delayed_write_count": len(document["delayed_write_failures"]),
        "data_loss": bool(document["delayed_write_failures"]),
        "files_count": len(ingest),
        "records_read": sum(entry["records_read"] for entry in ingest),
        "records_skipped": sum(entry["records_skipped"] for entry in ingest),
        "input_problems": sum(len(entry["errors"]) for entry in ingest),
        "generator": document["generator"],
    }


def case_tables(case: CaseResult) -> dict[str, list[Row]]:
    """Every table's rows for one analyzed case (``case_id`` is added by the store)."""
    document = case_dict(case)
    findings, finding_evidence = finding_rows(document)
    failures, failure_evidence = delayed_write_rows(document)
    return {
        "cases": [case_row(case, document)],
        "findings": findings,
        "evidence": finding_evidence + failure_evidence,
        "delayed_write_failures": failures,
        "ingest": ingest_rows(document),
        "impact": impact_rows(document),
    }
