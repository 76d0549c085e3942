"""Read a set of input paths (files and directories) into records plus exact accounting."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from evtxmpio.errors import InputError
from evtxmpio.ingest.base import (
    SNIFF_BYTES,
    FileAccount,
    IngestIssue,
    Source,
    path_source,
    sniff_format,
)
from evtxmpio.model import RawRecord

RecordFilter = Callable[[RawRecord], bool]


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


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named directly, and every file under named directories, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            yield path
        else:
            raise InputError(f"{path}: no such file or directory")


def ingest_paths(paths: Iterable[Path], keep: RecordFilter | None = None) -> IngestResult:
    """Read every input; count what was read, used and skipped per file.

    Args:
        paths: files and directories.
        keep: relevance filter; records it rejects are counted as skipped (``not-relevant``).

    Raises:
        InputError: when a named path does not exist.
    """
    result = IngestResult()
    for path in expand_paths(paths):
        read_source(path_source(path), result, keep)
    return result


def read_source(source: Source, result: IngestResult, keep: RecordFilter | None) -> FileAccount:
    """Sniff and read one source into ``result``; return its account."""
    try:
        with source.open() as stream:
            head = stream.read(SNIFF_BYTES)
    except OSError as exc:
        account = FileAccount(source.name, "unreadable", errors=[f"cannot open: {exc.strerror}"])
        result.accounts.append(account)
        return account
    input_format = sniff_format(head)
    if input_format is None:
        account = FileAccount(source.name, "unknown",
                              errors=["not a recognised log format (content not sniffed)"])
        result.accounts.append(account)
        return account
    account = FileAccount(source.name, input_format.name)
    result.accounts.append(account)
    for item in input_format.read(source):
        if isinstance(item, IngestIssue):
            _account_issue(account, item)
            result.issues.append(item)
            continue
        account.records_read += 1
        if keep is not None and not keep(item):
            account.skip("not-relevant")
            continue
        account.records_used += 1
        result.records.append(item)
    return account


def _account_issue(account: FileAccount, issue: IngestIssue) -> None:
    account.errors.append(f"{issue.code}: {issue.detail}")
    if issue.records_failed:
        account.records_read += issue.records_failed
        account.skip("undecodable", issue.records_failed)
    account.records_recovered += issue.records_recovered
    account.chunks_damaged += int(issue.chunk_damaged)
    account.truncated = account.truncated or issue.truncated
