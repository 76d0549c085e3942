"""Analyze one case; runs inside the analyzer process (:mod:`evtxmpio.triage.analyzer_process`,
supervised by :mod:`evtxmpio.triage.supervisor`).

Archives are extracted into a private temporary folder first (safely, see
:mod:`evtxmpio.triage.archive`). File names in the results are relative to the case (a member
path for archives), so the database does not depend on where the case was unpacked or which
machine analyzed it: ingest gives each file that name when it opens it (``relative_to``). The
case's :class:`~evtxmpio.ingest.limits.Limits` bound the extraction, the reading of each file
and, as a backstop, the process's memory (:mod:`evtxmpio.triage.memory`).
"""

from __future__ import annotations

import os
import socket
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from evtxmpio import pipeline, report
from evtxmpio.errors import Error
from evtxmpio.pathtext import path_text
from evtxmpio.triage.archive import default_limits, extract
from evtxmpio.triage.lifeline import TemporaryFolderError, case_folder
from evtxmpio.triage.memory import memory_cap, memory_reason
from evtxmpio.triage.outcome import (
    FAILED,
    TRANSIENT,
    CaseOutcome,
    CaseSpec,
    one_line,
    transient_cause,
)
from evtxmpio.triage.rows import case_tables

if TYPE_CHECKING:
    from collections.abc import Iterator

    from evtxmpio.ingest.archive import ArchiveLimits

@contextmanager
def materialize(spec: CaseSpec, limits: ArchiveLimits) -> Iterator[Path]:
    """The case as a folder: the directory itself, or an archive extracted to a temp folder."""
    if spec.kind == "dir":
        yield Path(spec.path)
        return
    with case_folder() as folder:
        extract(Path(spec.path), folder, limits)
        yield folder


def relabel(text: str, root: Path) -> str:
    """The text of an exception that stopped a case, with the case folder's absolute path
    removed (``/tmp/x/System.xml`` -> ``System.xml``): such text can come from any code. The
    results never need this: ingest names every file relative to the case."""
    for prefix in dict.fromkeys((str(root), path_text(root))):  # raw and as ingest shows it
        text = text.replace(prefix + os.sep, "").replace(prefix, ".")
    return text


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def failure(exc: Exception, root: Path) -> tuple[str, str]:
    """``(status, one-line reason)`` of a case whose analysis raised ``exc``: ``transient``
    for a fault of the machine (a full disk, the temporary folder), else ``failed``."""
    text = path_text(relabel(str(exc), root))
    if isinstance(exc, TemporaryFolderError) or transient_cause(exc) is not None:
        return TRANSIENT, one_line(text)
    if isinstance(exc, Error):
        return FAILED, one_line(text)
    return FAILED, one_line(f"analyzer error: {type(exc).__name__}: {text}")


def analyze_spec(spec: CaseSpec) -> CaseOutcome:
    """Analyze one case; a failure of the analyzer becomes a failed outcome, never a raise."""
    started = datetime.now(UTC)
    clock = time.perf_counter()
    outcome = CaseOutcome(spec=spec, status="ok", started_at=started, worker=worker_name())
    root = Path(spec.path)
    limits = spec.limits or default_limits()
    try:
        with memory_cap(limits.memory_bytes), materialize(spec, limits.archive) as root:
            case = pipeline.analyze([root], limits=limits, relative_to=root,
                                    input_names=[path_text(spec.name)])
            outcome.tables = case_tables(case)
            outcome.html = report.render_html(case) if spec.want_html else None
    except MemoryError:
        outcome.status, outcome.failure_reason = FAILED, memory_reason(limits.memory_bytes)
    except Exception as exc:  # an analyzer bug costs this case only
        outcome.status, outcome.failure_reason = failure(exc, root)
    outcome.duration_s = time.perf_counter() - clock
    return outcome
