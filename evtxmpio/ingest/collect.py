"""Read a set of input paths (files, directories, archives) into records plus exact accounting.

For every input file (archive members included, as ``a.zip!member``) one
:class:`FileAccount` says what was read, used and skipped and why, with
``records_read == records_used + records_skipped``; its health ledger says what the record
sequence looks like. Records that ``keep`` rejects are skipped ``not-relevant``; records equal
to one kept before (from any file) are skipped ``duplicate`` and counted in the later file's
``duplicates_removed``. A reader that fails outright costs its file, never the case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evtxmpio.catalog.relevance import Relevance
from evtxmpio.errors import Error, InputError
from evtxmpio.ingest.archive import ArchiveLimits, Budget, archive_kind, expand_archive
from evtxmpio.ingest.base import (
    SNIFF_BYTES,
    FileAccount,
    IngestIssue,
    InputFormat,
    ReadOptions,
    SkippedRecords,
    Source,
    path_source,
    sniff_format,
    time_possible,
)
from evtxmpio.ingest.dedupe import Deduplicator
from evtxmpio.ingest.evtx import resolve_backend
from evtxmpio.ingest.limits import FileGuard, Limits
from evtxmpio.ingest.runs import RecordRun
from evtxmpio.model import RawRecord
from evtxmpio.pathtext import path_text
from evtxmpio.timearith import TIME_MAX_NS, TIME_MIN_NS

RecordFilter = Callable[[RawRecord], bool]
# What a reader yields: a record, records skipped unbuilt, a run of records decided together,
# or a problem.
ReadItem = RawRecord | IngestIssue | SkippedRecords | RecordRun
# Called as a file starts, every GUARD_EVERY items and as it ends: (its account, bytes read so
# far, its size if known). The command line draws progress from it; it must not raise.
ProgressHook = Callable[[FileAccount, int, "int | None"], None]
GUARD_EVERY = 64  # items between two limit checks (a reader step is bounded; see limits)


@dataclass(slots=True)
class IngestResult:
    """Everything ingest produced for one case.

    Attributes:
        records: records kept (relevant, de-duplicated), in input order.
        issues: every problem met, in input order.
        accounts: one :class:`FileAccount` per input file, in input order.
    """

    records: list[RawRecord] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)
    accounts: list[FileAccount] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        """Records read over all files (used + skipped)."""
        return sum(account.records_read for account in self.accounts)


RecordSink = Callable[[list[RawRecord]], None]
"""Takes kept records, a batch at a time, in input order (see :func:`ingest_paths`)."""
SINK_BATCH = 8192


@dataclass(slots=True)
class _Run:
    keep: RecordFilter | None
    options: ReadOptions
    deduplicator: Deduplicator | None
    limits: Limits
    progress: ProgressHook | None = None
    sink: RecordSink | None = None


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and every file under named directories, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory")


def make_options(backend: str = "auto", prefilter_providers: Iterable[str] | None = None,
                 tz: str | None = None, threads: int = 1,
                 chunk_prefilter: bool = True, limits: Limits | None = None,
                 relevance: Relevance | None = None, jobs: int = 1) -> ReadOptions:
    """Check the ingest options and build :class:`ReadOptions`.

    Raises:
        Error: unknown backend, missing Rust package, or unknown time zone.
    """
    resolved = resolve_backend(backend)
    if tz is not None:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise Error(f"--tz: unknown time zone {tz!r}") from exc
    providers = (frozenset(name.lower() for name in prefilter_providers)
                 if prefilter_providers is not None else None)
    limits = limits or Limits()
    return ReadOptions(backend=resolved, prefilter_providers=providers, relevance=relevance,
                       tz=tz, threads=threads, jobs=jobs,
                       chunk_prefilter=chunk_prefilter, xml_event_chars=limits.xml_event_bytes,
                       csv_field_chars=limits.csv_field_bytes)


def as_limits(limits: Limits | ArchiveLimits | None) -> Limits:
    """``limits``, or the defaults; archive-only limits keep the other defaults."""
    if limits is None:
        return Limits()
    if isinstance(limits, ArchiveLimits):
        return Limits(archive=limits)
    return limits


def ingest_paths(
    paths: Iterable[Path], keep: RecordFilter | None = None, *, backend: str = "auto",
    prefilter_providers: Iterable[str] | None = None, tz: str | None = None,
    dedupe: bool = True, limits: Limits | ArchiveLimits | None = None, threads: int = 1,
    chunk_prefilter: bool = True, progress: ProgressHook | None = None,
    relevance: Relevance | None = None, jobs: int = 1, relative_to: Path | None = None,
    sink: RecordSink | None = None,
) -> IngestResult:
    """Read every input; count what was read, used and skipped per file.

    Args:
        paths: files, directories and archives.
        keep: relevance filter; records it rejects are counted as skipped (``not-relevant``).
        backend: .evtx backend, ``auto`` (Rust when importable), ``python`` or ``rust``.
        prefilter_providers: provider names that can be relevant (the pipeline passes
            ``normalize.providers.RELEVANT_PROVIDERS``). When given, .evtx chunks without any
            of them are skipped undecoded (``prefiltered``) and records of other providers are
            skipped ``not-relevant`` before they are built. Must cover every provider ``keep``
            accepts; leave ``None`` with ``--all-events``.
        tz: IANA zone of exports that carry local times without an offset (CSV); UTC if
            ``None``, and the account says which zone was assumed.
        dedupe: drop records equal to one kept before (``duplicate``).
        limits: resource limits (:class:`~evtxmpio.ingest.limits.Limits`; archive-only limits
            keep the other defaults). A file that hits one stops with a ``limit.*`` issue
            and keeps what was read before.
        threads: worker threads of the Rust backend.
        chunk_prefilter: with ``prefilter_providers``, skip chunks without any of them
            (``False``: decode every chunk, still skip other providers' records unbuilt).
        progress: told how far each file is (:data:`ProgressHook`).
        jobs: processes that may read one large .evtx at once (``0``: one per core); the
            result is that of ``1``, sooner (:mod:`evtxmpio.ingest.evtx_parts`).
        sink: when given, the kept records are handed to it in batches of
            :data:`SINK_BATCH`, in input order, instead of being collected in
            ``IngestResult.records`` (which then ends empty): memory holds one batch.
        relevance: which records can matter by provider, event id and content (the pipeline
            passes ``catalog.relevance.relevance()``, the table ``keep`` also applies); .evtx
            records it rejects are skipped ``not-relevant`` before they are built, and its
            providers are the chunk pre-filter's unless ``prefilter_providers`` is given.
        relative_to: name each file by its path relative to this folder (``logs/System.evtx``,
            ``case.zip!System.xml`` for an archive's member) instead of the path given; every
            account, issue and record carries that name.

    Raises:
        InputError: when a named path does not exist.
        Error: for an unknown backend or time zone.
    """
    resolved = as_limits(limits)
    run = _Run(keep, make_options(backend, prefilter_providers, tz, threads, chunk_prefilter,
                                  resolved, relevance, jobs),
               Deduplicator() if dedupe else None, resolved, progress, sink)
    result = IngestResult()
    for path in expand_paths(paths):
        _read_any(path_source(path, display_name(path, relative_to)), result, run, None, 0)
    _hand_on(result, run, 0)
    return result


def display_name(path: Path, relative_to: Path | None) -> str | None:
    """How a file is named in the results: ``None`` (its path) without ``relative_to``, else
    its path relative to that folder in ``/`` form (its own name when it is not under it),
    undecodable bytes escaped (:func:`~evtxmpio.pathtext.path_text`)."""
    if relative_to is None:
        return None
    relative = path.relative_to(relative_to) if path.is_relative_to(relative_to) else None
    return path_text(relative.as_posix() if relative is not None and relative.parts
                     else path.name)


def _hand_on(result: IngestResult, run: _Run, at_least: int) -> None:
    """Give the sink the records collected so far, once there are ``at_least`` of them."""
    records = result.records  # the same list throughout: takers append to it
    if run.sink is not None and records and len(records) >= at_least:
        batch = records.copy()
        records.clear()
        run.sink(batch)


def read_source(source: Source, result: IngestResult, keep: RecordFilter | None, *,
                options: ReadOptions | None = None, deduplicator: Deduplicator | None = None,
                limits: Limits | ArchiveLimits | None = None) -> FileAccount:
    """Sniff and read one source (or archive) into ``result``; return its account."""
    run = _Run(keep, options or ReadOptions(), deduplicator, as_limits(limits))
    return _read_any(source, result, run, None, 0)


def _read_any(source: Source, result: IngestResult, run: _Run, budget: Budget | None,
              depth: int) -> FileAccount:
    try:
        with source.open() as stream:
            head = stream.read(SNIFF_BYTES)
    except Exception as exc:  # OSError, a bad archive member, a limit hit
        account = FileAccount(source.name, "unreadable",
                              errors=[f"cannot open: {_reason(exc)}"])
        result.accounts.append(account)
        return account
    kind = archive_kind(head)
    if kind is not None:
        return _read_archive(source, kind, result, run, budget, depth)
    try:
        input_format = sniff_format(head)
    except Exception as exc:  # a sniffer must not raise; if one does, the file costs itself
        account = FileAccount(source.name, "unknown", errors=[f"cannot sniff: {_reason(exc)}"])
        result.accounts.append(account)
        return account
    if input_format is None:
        reason = "empty file" if not head else "not a recognised log format (content not sniffed)"
        account = FileAccount(source.name, "unknown", errors=[reason])
        result.accounts.append(account)
        return account
    account = FileAccount(source.name, input_format.name)
    if input_format.name == "evtx":
        account.backend = run.options.backend
    if input_format.local_time:
        account.time_zone_assumed = run.options.tz or "UTC"
    result.accounts.append(account)
    position = _Position(source)
    if run.progress is not None:
        source = replace(source, open=position.open)
    if run.deduplicator is not None:
        run.deduplicator.start_file()  # identical id-less rows of one file are distinct
    items = _items(input_format, source, run.options)
    try:
        _read_guarded(items, account, result, run, position)
    except Exception as exc:  # a reader must not raise; if one does, the file costs only itself
        issue = IngestIssue(source.name, None, "ingest.reader-failed",
                            f"reading stopped: {_reason(exc)}; records before it are kept",
                            truncated=isinstance(exc, EOFError))
        _account_issue(account, issue)
        result.issues.append(issue)
    _close_health(account, result)
    if run.progress is not None:
        run.progress(account, position.size or position.read(), position.size)
    return account


class _Position:
    """How far the reader of one source is: the position of the stream it opened last."""

    def __init__(self, source: Source) -> None:
        self.opener = source.open
        self.size = source.size
        self.stream: object = None

    def open(self) -> BinaryIO:
        self.stream = self.opener()
        return self.stream

    def read(self) -> int:
        try:
            return int(self.stream.tell())  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):  # not opened yet, or closed
            return 0


def _read_guarded(items: Iterator[ReadItem], account: FileAccount, result: IngestResult,
                  run: _Run, position: _Position | None = None) -> None:
    """Take every item; stop the file at its record limit or a time or memory limit.

    Records are counted after each item; time and memory every
    ``GUARD_EVERY`` items, when the sink and the progress hook are told too.
    """
    guard = FileGuard(run.limits)
    most = run.limits.file_records
    every = countdown = GUARD_EVERY
    progress = run.progress if position is not None else None
    if progress is not None:
        progress(account, 0, position.size)
    take, settle = _taker(account, result, run)
    try:
        for item in items:
            take(item)
            if account.records_used > most:
                result.records.pop()  # the record over the limit is read, not kept
                account.records_used -= 1
                account.skip("over-limit")
                return _stop(account, result, guard.records_hit())
            countdown -= 1 if type(item) is not RecordRun else 1 + len(item.records)
            if countdown > 0:
                continue
            countdown = every
            settle()
            _hand_on(result, run, SINK_BATCH)
            hit = guard.check()
            if progress is not None:
                progress(account, position.read(), position.size)
            if hit is not None:
                return _stop(account, result, hit)
    finally:
        settle()
        close = getattr(items, "close", None)
        if close is not None:
            close()


def _stop(account: FileAccount, result: IngestResult, hit: tuple[str, str]) -> None:
    """The file stops at a limit: say which in an issue."""
    issue = IngestIssue(account.file, None, hit[0],
                        f"{hit[1]}; reading of this file stopped, the "
                        f"{account.records_used} records kept before stay")
    _account_issue(account, issue)
    result.issues.append(issue)


def _taker(account: FileAccount, result: IngestResult, run: _Run
           ) -> tuple[Callable[[ReadItem], None], Callable[[], None]]:
    """:func:`_take` for ``account``, with the items met most taken without the calls and
    look-ups between: a record whose time is possible (every kept record passes here once),
    records skipped unbuilt, but for the pre-filter's chunks, and a :class:`RecordRun` whole.
    Their skip reasons are counted aside until ``settle()`` (a Counter's item costs twice a
    dict's); call it before the account is read."""
    keep = run.keep
    most = run.limits.file_records
    duplicate = run.deduplicator.is_duplicate if run.deduplicator is not None else None
    health = account.health
    observe, advance = health.observe, health.advance
    append = result.records.append
    tally: dict[str, int] = {}  # skip reason -> records skipped since the last settle()

    def take(item: ReadItem) -> None:
        kind = type(item)
        if kind is RawRecord:
            time_ns = item.time_ns
            if time_ns is None or TIME_MIN_NS <= time_ns <= TIME_MAX_NS:
                account.records_read += 1
                observe(item.record_id, time_ns)
                use(item)
                return
        elif kind is SkippedRecords and item.reason != "prefiltered":
            count = item.count
            account.records_read += count
            account.records_skipped += count
            tally[item.reason] = tally.get(item.reason, 0) + count
            if item.id_span or (count != 1 and item.record_id is None):
                advance(item.id_span)
            else:  # one record, or a run of ``count`` ending at ``record_id``
                advance(count - 1)
                time_ns = item.time_ns
                observe(item.record_id, time_ns if time_ns is None
                        or TIME_MIN_NS <= time_ns <= TIME_MAX_NS else None)
            return
        elif kind is RecordRun:
            return take_run(item)
        _take(item, account, result, run)

    def use(record: RawRecord) -> None:
        """A record read (time possible, ledger told): kept, or skipped ``not-relevant`` or
        ``duplicate``."""
        if keep is not None and not keep(record):
            account.records_skipped += 1
            tally["not-relevant"] = tally.get("not-relevant", 0) + 1
        elif duplicate is not None and duplicate(record):
            account.records_skipped += 1
            tally["duplicate"] = tally.get("duplicate", 0) + 1
            account.duplicates_removed += 1
        else:
            account.records_used += 1
            append(record)

    def take_run(item: RecordRun) -> None:
        """The run whole, as its items one by one (see :class:`RecordRun`): every record
        read, the ledger told of its first and last record and the id span between, the kept
        records used as single ones are."""
        records, first, last = item.records, item.first, item.last
        if account.records_used + len(records) > most or first.time_ns is None \
                or last.time_ns is None or first.time_ns < TIME_MIN_NS \
                or last.time_ns > TIME_MAX_NS:  # (times rise through the run)
            # a limit inside the run, or a time the case cannot hold: one by one
            for one in item.items():
                take(one)
                if account.records_used > most:
                    return
            return
        count = item.count
        account.records_read += count
        observe(first.record_id, first.time_ns)
        if count > 1:
            advance(count - 2)
            observe(last.record_id, last.time_ns)
        skipped = count - len(records)  # not kept by the reader
        if skipped:
            account.records_skipped += skipped
            tally["not-relevant"] = tally.get("not-relevant", 0) + skipped
        for record in records:
            use(record)

    def settle() -> None:
        reasons = account.skip_reasons
        for reason, count in tally.items():
            reasons[reason] += count
        tally.clear()

    return take, settle


def _items(input_format: InputFormat, source: Source, options: ReadOptions
           ) -> Iterator[ReadItem]:
    if input_format.accepts_options:
        return input_format.read(source, options)
    return input_format.read(source)


def _read_archive(source: Source, kind: str, result: IngestResult, run: _Run,
                  budget: Budget | None, depth: int) -> FileAccount:
    account = FileAccount(source.name, kind)
    result.accounts.append(account)
    archive_limits = run.limits.archive
    if depth >= archive_limits.max_depth:
        account.errors.append(f"archive nested deeper than {archive_limits.max_depth}; "
                              "not opened (raise with --limit archive-depth=N)")
        return account
    budget = budget or Budget(archive_limits.max_total_bytes)
    try:
        for item in expand_archive(source, kind, archive_limits, budget):
            if isinstance(item, IngestIssue):
                account.errors.append(f"{item.code}: {item.detail}")
                result.issues.append(item)
            else:
                _read_any(item, result, run, budget, depth + 1)
    except Exception as exc:  # a broken archive costs the members not reached yet
        account.errors.append(f"archive reading stopped: {_reason(exc)}")
    return account


def _take(item: ReadItem, account: FileAccount, result: IngestResult, run: _Run) -> None:
    if isinstance(item, IngestIssue):
        _account_issue(account, item)
        result.issues.append(item)
    elif isinstance(item, SkippedRecords):
        account.records_read += item.count
        account.skip(item.reason, item.count)
        if item.reason == "prefiltered":
            account.health.chunks_prefiltered += 1
        if item.id_span == 0 and (item.count == 1 or item.record_id is not None):
            # one record, or a run of ``count`` ending at ``record_id`` (see SkippedRecords)
            account.health.advance(item.count - 1)
            account.health.observe(item.record_id, item.time_ns
                                   if time_possible(item.time_ns) else None)
        else:
            account.health.advance(item.id_span)
    else:
        account.records_read += 1
        impossible = not time_possible(item.time_ns)
        if impossible:
            item = replace(item, time_ns=None, corrupted=True)
        account.health.observe(item.record_id, item.time_ns)
        if run.keep is not None and not run.keep(item):
            account.skip("not-relevant")
        elif run.deduplicator is not None and run.deduplicator.is_duplicate(item):
            account.skip("duplicate")
            account.duplicates_removed += 1
        else:
            account.records_used += 1
            account.times_impossible += impossible  # reported for records the case keeps
            result.records.append(item)


def _account_issue(account: FileAccount, issue: IngestIssue) -> None:
    account.errors.append(f"{issue.code}: {issue.detail}")
    if issue.records_failed:
        account.records_read += issue.records_failed
        account.skip("undecodable", issue.records_failed)
    account.records_recovered += issue.records_recovered
    account.chunks_damaged += int(issue.chunk_damaged)
    account.truncated = account.truncated or issue.truncated
    if issue.code == "evtx.dirty":
        account.health.dirty = True


def _close_health(account: FileAccount, result: IngestResult) -> None:
    if account.times_impossible:
        issue = IngestIssue(account.file, None, "record.time-impossible",
                            f"{account.times_impossible} record(s) with a time before 1677 or "
                            "after 2262 (e.g. a zero FILETIME); kept without a time")
        _account_issue(account, issue)
        result.issues.append(issue)
    account.health.chunks_damaged = account.chunks_damaged
    account.health.records_skipped = account.records_skipped
    account.health.records_recovered = account.records_recovered


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"  # the account already names the file
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
