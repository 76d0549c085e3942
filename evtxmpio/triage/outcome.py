"""What analyzing one case returns to the coordinator: a picklable :class:`CaseOutcome`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evtxmpio.ingest.limits import Limits

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """What a worker needs to analyze one case.

    Attributes:
        case_id: deterministic id (content hash prefix).
        name: the entry's name in the inbox.
        path: absolute path of the directory or archive (workers must see the same path).
        kind: ``dir``, ``zip`` or ``gz``.
        content_hash: sha256 hex of the case's members.
        want_html: render the HTML report too.
        limits: resource limits (``--limit``); ``None``: triage's defaults
            (:func:`evtxmpio.triage.archive.default_limits`).
    """

    case_id: str
    name: str
    path: str
    kind: str
    content_hash: str
    want_html: bool = False
    limits: Limits | None = None


@dataclass(slots=True)
class CaseOutcome:
    """One case's result, as rows for each table of the case database.

    Attributes:
        spec: the case.
        status: ``ok`` or ``failed``.
        failure_reason: one line for a failed case (identical whichever executor ran it).
        tables: table name -> rows, without the ``case_id`` column (the store adds it).
        html: the HTML report, when asked for and the case succeeded.
        started_at: when the analysis started (UTC).
        duration_s: wall time of the analysis, including waiting for a timeout.
        worker: which process or Dask worker ran it.
        detail: executor-specific detail (exit code, Dask error), kept with the timings.
    """

    spec: CaseSpec
    status: str
    failure_reason: str | None = None
    tables: dict[str, list[Row]] = field(default_factory=dict)
    html: str | None = None
    started_at: datetime | None = None
    duration_s: float = 0.0
    worker: str = ""
    detail: str | None = None


def failed(spec: CaseSpec, reason: str, detail: str | None = None) -> CaseOutcome:
    """A failed outcome."""
    return CaseOutcome(spec=spec, status="failed", failure_reason=reason, detail=detail)
