"""What analyzing one case returns to the coordinator: a picklable :class:`CaseOutcome`."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evtxmpio.ingest.limits import Limits

Row = dict[str, Any]
OK, FAILED, TRANSIENT = "ok", "failed", "transient"
# Errors of the machine, not of the case: the case is not recorded and the next run retries it.
# (Running out of memory is the case's own failure: the memory cap is per case.)
TRANSIENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EMFILE, errno.ENFILE,
                              errno.EROFS})


def one_line(text: str) -> str:
    """``text`` on one line (line breaks become `` | ``)."""
    return " | ".join(line.strip() for line in text.splitlines() if line.strip())


def transient_cause(exc: BaseException) -> OSError | None:
    """The OSError of the machine (a full disk, no memory to start a process, ...) behind
    ``exc``, following ``__cause__`` and ``__context__``, else ``None``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in TRANSIENT_ERRNOS:
            return current
        current = current.__cause__ or current.__context__
    return None


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
        status: ``ok``, ``failed`` (the case's own fault, recorded) or ``transient`` (the
            machine's fault: a full disk, the temporary folder, no process could start; not
            recorded, the next run retries the case).
        failure_reason: one line for a failed or transient case (identical whichever executor
            ran it).
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
    return CaseOutcome(spec=spec, status=FAILED, failure_reason=reason, detail=detail)


def transient(spec: CaseSpec, reason: str, detail: str | None = None) -> CaseOutcome:
    """An outcome of a case the machine could not run now (not recorded; retried later)."""
    return CaseOutcome(spec=spec, status=TRANSIENT, failure_reason=reason, detail=detail)
