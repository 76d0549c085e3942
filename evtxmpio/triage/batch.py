"""The batch: one triage run over an inbox. Find the cases, skip the known ones, hand the rest
to a dispatcher (:mod:`evtxmpio.triage.dispatch`), store each as it ends."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from evtxmpio.errors import ReportError
from evtxmpio.ingest.limits import Limits
from evtxmpio.report.outputs import write_atomic
from evtxmpio.triage.archive import default_limits
from evtxmpio.triage.dispatch import (
    WORKER_WAIT_S,
    DaskExecutor,
    Executor,
    LocalExecutor,
)
from evtxmpio.triage.inbox import CaseEntry, discover
from evtxmpio.triage.index import report_complete, report_name, write_index
from evtxmpio.triage.lifeline import clean_stale_folders
from evtxmpio.triage.outcome import OK, TRANSIENT, CaseOutcome, CaseSpec
from evtxmpio.triage.progress import Reporter
from evtxmpio.triage.store import CaseStore

DEFAULT_CASE_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class TriageOptions:
    """The options of ``evtxmpio triage``.

    Attributes:
        inbox: folder whose sub-directories and archives are the cases.
        db: the DuckDB case database file (created when missing).
        workers: local analyzer processes (default: the CPUs available).
        scheduler: Dask scheduler address (``tcp://host:8786``); runs there instead.
        reports: folder for each case's HTML report and ``index.html``.
        force: redo cases already in the database.
        retry_failed: redo cases recorded as failed (ok ones are still skipped).
        case_timeout: seconds one case may take before it is recorded failed.
        limits: resource limits of each case (``--limit``; archive extraction, reading, the
            analyzer's memory); ``None``: :func:`evtxmpio.triage.archive.default_limits`.
        connect_timeout: seconds to reach the Dask scheduler (``None``:
            :data:`~evtxmpio.triage.dispatch.CONNECT_TIMEOUT_S`).
        worker_wait: seconds to wait, with no Dask worker left, for one to join before the
            run stops (``--worker-wait``).
    """

    inbox: Path
    db: Path
    workers: int | None = None
    scheduler: str | None = None
    reports: Path | None = None
    force: bool = False
    retry_failed: bool = False
    case_timeout: float = DEFAULT_CASE_TIMEOUT_S
    limits: Limits | None = None
    connect_timeout: float | None = None
    worker_wait: float = WORKER_WAIT_S

    def case_limits(self) -> Limits:
        """The limits every case runs with."""
        return self.limits or default_limits()


@dataclass(slots=True)
class TriageSummary:
    """What a run did.

    Attributes:
        found: cases in the inbox.
        skipped: already in the database.
        duplicates: ``(name, name of the case with the same content)`` in this inbox.
        ran: cases analyzed and recorded in this run.
        failed: of those, how many failed.
        left: ``(name, reason)`` of cases the machine could not run now (a full disk, the
            temporary folder, no analyzer process): not recorded, the next run retries them.
        repaired: known cases run again because their report was missing or cut.
        verdicts: verdict -> count, over the cases of this run.
        elapsed_s: wall time of the analysis phase.
        index: the written ``index.html``, if any.
    """

    found: int = 0
    skipped: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    ran: int = 0
    failed: int = 0
    left: list[tuple[str, str]] = field(default_factory=list)
    repaired: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    index: Path | None = None


@dataclass(frozen=True, slots=True)
class Known:
    """What the database already holds: content hashes to skip, and those recorded ``ok``
    (whose report must be whole in the reports folder, else the case runs again)."""

    skip: set[str]
    ok: set[str]


def _needs_report(entry: CaseEntry, known: Known, reports: Path | None) -> bool:
    return (reports is not None and entry.content_hash in known.ok
            and not report_complete(reports / report_name(entry.case_id)))


def plan(entries: list[CaseEntry], known: Known, summary: TriageSummary,
         reports: Path | None, limits: Limits | None = None) -> list[CaseSpec]:
    """The cases to run: not known (or known ok without a whole report in ``reports``), and
    the first of each content hash in the inbox."""
    first: dict[str, str] = {}
    specs: list[CaseSpec] = []
    for entry in entries:
        if entry.content_hash in first:
            summary.duplicates.append((entry.name, first[entry.content_hash]))
            continue
        first[entry.content_hash] = entry.name
        if entry.content_hash in known.skip:
            if not _needs_report(entry, known, reports):
                summary.skipped += 1
                continue
            summary.repaired += 1
        specs.append(CaseSpec(entry.case_id, entry.name, str(entry.path), entry.kind,
                              entry.content_hash, reports is not None, limits))
    return specs


def make_executor(options: TriageOptions, reporter: Reporter | None = None) -> Executor:
    """Dask when a scheduler is named, else the local pool."""
    if options.scheduler:
        return DaskExecutor(options.scheduler, options.connect_timeout,
                            worker_wait=options.worker_wait,
                            note=reporter.note if reporter else None)
    return LocalExecutor(options.workers)


def _record(outcome: CaseOutcome, store: CaseStore, executor: str,
            reports: Path | None, summary: TriageSummary) -> None:
    """Store one outcome; a case counts as done only once its report is whole on disk (the
    report is written, atomically, before the row that says the case is known)."""
    if outcome.status == TRANSIENT:
        summary.left.append((outcome.spec.name, outcome.failure_reason or ""))
        return
    if outcome.status == OK and reports is not None and outcome.html is not None:
        write_atomic(reports / report_name(outcome.spec.case_id), outcome.html, "report")
    store.write(outcome, executor)
    summary.ran += 1
    if outcome.status != OK:
        summary.failed += 1
        return
    summary.verdicts[outcome.tables["cases"][0]["verdict"]] += 1


def run_triage(options: TriageOptions, reporter: Reporter, executor: Executor | None = None
               ) -> TriageSummary:
    """Triage every case of the inbox into the database (and reports).

    ``executor`` replaces the one the options ask for (:func:`make_executor`), e.g. a
    :class:`LocalExecutor` whose analyzer processes run another module. A Dask scheduler is
    reached before the database is opened, so an unreachable one leaves no database behind.

    Raises:
        InputError: when the inbox is not a folder.
        StoreError: when the database cannot be opened or written.
        InfrastructureError: when the Dask scheduler cannot be reached or is lost, or no
            worker is left (the cases still out are not recorded).
        ReportError: when a report cannot be written (that case is not recorded).
    """
    summary = TriageSummary()
    clean_stale_folders()  # what analyzers killed in an earlier run left in $TMPDIR
    limits = options.case_limits()
    entries = discover(options.inbox, limits.archive)
    summary.found = len(entries)
    if executor is None and options.scheduler:
        executor = make_executor(options, reporter)
    try:
        _run(options, reporter, executor, entries, summary)
    finally:
        if executor is not None:
            executor.close()
    return summary


def _run(options: TriageOptions, reporter: Reporter, executor: Executor | None,
         entries: list[CaseEntry], summary: TriageSummary) -> None:
    store = CaseStore(options.db)
    try:
        skip = set() if options.force else store.known_hashes(not options.retry_failed)
        known = Known(skip, store.ok_hashes())
        specs = plan(entries, known, summary, options.reports, options.case_limits())
        if options.reports is not None:
            _make_folder(options.reports)
        runner = executor or (make_executor(options, reporter) if specs else LocalExecutor(1))
        clock = time.perf_counter()
        reporter.start(len(specs), summary.skipped, runner.name)
        try:
            for outcome in runner.run(specs, options.case_timeout):
                _record(outcome, store, runner.name, options.reports, summary)
                reporter.case_done(outcome)
        finally:
            reporter.finish()
            if executor is None:
                runner.close()
        summary.elapsed_s = time.perf_counter() - clock
        if options.reports is not None:
            summary.index = write_index(store, options.reports)
    finally:
        store.close()


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"{folder}: cannot create the reports folder: {exc.strerror}"
                          ) from exc
