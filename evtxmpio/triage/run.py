"""One triage run: find the cases, skip the known ones, run the rest, store each as it ends."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from evtxmpio.errors import ReportError
from evtxmpio.ingest.limits import Limits
from evtxmpio.triage.archive import default_limits
from evtxmpio.triage.executors import DaskExecutor, Executor, LocalExecutor
from evtxmpio.triage.inbox import CaseEntry, discover
from evtxmpio.triage.index import report_name, write_index
from evtxmpio.triage.outcome import CaseOutcome, CaseSpec
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
        ran: cases analyzed in this run.
        failed: of those, how many failed.
        verdicts: verdict -> count, over the cases of this run.
        elapsed_s: wall time of the analysis phase.
        index: the written ``index.html``, if any.
    """

    found: int = 0
    skipped: int = 0
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    ran: int = 0
    failed: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    index: Path | None = None


def plan(entries: list[CaseEntry], known: set[str], summary: TriageSummary,
         want_html: bool, limits: Limits | None = None) -> list[CaseSpec]:
    """The cases to run: not known, and the first of each content hash in the inbox."""
    first: dict[str, str] = {}
    specs: list[CaseSpec] = []
    for entry in entries:
        if entry.content_hash in first:
            summary.duplicates.append((entry.name, first[entry.content_hash]))
            continue
        first[entry.content_hash] = entry.name
        if entry.content_hash in known:
            summary.skipped += 1
            continue
        specs.append(CaseSpec(entry.case_id, entry.name, str(entry.path), entry.kind,
                              entry.content_hash, want_html, limits))
    return specs


def make_executor(options: TriageOptions) -> Executor:
    """Dask when a scheduler is named, else the local pool."""
    if options.scheduler:
        return DaskExecutor(options.scheduler)
    return LocalExecutor(options.workers)


def _record(outcome: CaseOutcome, store: CaseStore, executor: str,
            reports: Path | None, summary: TriageSummary) -> None:
    store.write(outcome, executor)
    summary.ran += 1
    if outcome.status != "ok":
        summary.failed += 1
        return
    summary.verdicts[outcome.tables["cases"][0]["verdict"]] += 1
    if reports is not None and outcome.html is not None:
        target = reports / report_name(outcome.spec.case_id)
        try:
            target.write_text(outcome.html, encoding="utf-8")
        except OSError as exc:
            raise ReportError(f"{target}: cannot write report: {exc.strerror}") from exc


def run_triage(options: TriageOptions, reporter: Reporter, executor: Executor | None = None
               ) -> TriageSummary:
    """Triage every case of the inbox into the database (and reports).

    ``executor`` replaces the one the options ask for (:func:`make_executor`), e.g. a
    :class:`LocalExecutor` whose analyzer processes run another module.

    Raises:
        InputError: when the inbox is not a folder.
        StoreError: when the database cannot be opened or written.
        Error: when the Dask scheduler cannot be reached.
        ReportError: when a report cannot be written.
    """
    summary = TriageSummary()
    limits = options.case_limits()
    entries = discover(options.inbox, limits.archive)
    summary.found = len(entries)
    store = CaseStore(options.db)
    try:
        known = set() if options.force else store.known_hashes(not options.retry_failed)
        specs = plan(entries, known, summary, options.reports is not None, limits)
        if options.reports is not None:
            options.reports.mkdir(parents=True, exist_ok=True)
        if executor is None:
            executor = make_executor(options) if specs else LocalExecutor(1)
        clock = time.perf_counter()
        reporter.start(len(specs), summary.skipped, executor.name)
        try:
            for outcome in executor.run(specs, options.case_timeout):
                _record(outcome, store, executor.name, options.reports, summary)
                reporter.case_done(outcome)
        finally:
            reporter.finish()
            executor.close()
        summary.elapsed_s = time.perf_counter() - clock
        if options.reports is not None:
            summary.index = write_index(store, options.reports)
    finally:
        store.close()
    return summary
