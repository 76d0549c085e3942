"""What every fuzz harness shares: instrumentation, the libFuzzer entry, and the invariants.

A harness module imports this first, then imports evtxmpio inside :func:`instrumented` so that
atheris instruments it (only when the harness runs as a script: under pytest the modules are
already imported and the regression replay needs no atheris). Nothing here imports evtxmpio at
module level for the same reason.

The invariants (README "Fuzz harnesses"):

- a reader called on any bytes yields only ``RawRecord | IngestIssue | SkippedRecords`` and
  never raises; every item names the source it came from and carries no negative count;
- through :func:`evtxmpio.ingest.read_source`, every :class:`FileAccount` keeps
  ``records_read == records_used + records_skipped`` and its skip reasons and health ledger
  agree with it, and no reader failure is caught there;
- content never reads files: the text of ``canary.txt`` (which seeds reference through XML
  external entities and XInclude) never shows up in a record unless the input holds it.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evtxmpio.ingest import IngestResult, ReadOptions, Source

ROOT = Path(__file__).resolve().parents[2]
FUZZ_DIR = Path(__file__).resolve().parent
CANARY_FILE = FUZZ_DIR / "canary.txt"
CANARY = "evtxmpio-fuzz-canary-7d41c2"
REGRESSIONS = FUZZ_DIR / "regressions"
SOURCE_NAME = "fuzz.bin"
TestOneInput = Callable[[bytes], None]
# libFuzzer flags every harness gets unless the command line sets them: an input that takes a
# minute is reported as a hang.
FUZZ_DEFAULTS = {"timeout": "60"}


def instrumented(active: bool, *packages: str) -> contextlib.AbstractContextManager[Any]:
    """``atheris.instrument_imports`` for ``packages`` when ``active``, else a no-op.

    Args:
        active: the harness runs under libFuzzer (``__name__ == "__main__"``).
        packages: top-level packages to instrument (``evtxmpio`` is always included).
    """
    if not active:
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["evtxmpio", *packages])


def fuzz_main(test_one_input: TestOneInput, defaults: dict[str, str] | None = None) -> None:
    """Run ``test_one_input`` under libFuzzer with ``sys.argv`` (libFuzzer flags, corpus dirs).

    Args:
        test_one_input: the harness entry.
        defaults: libFuzzer flags added unless given on the command line
            (``{"max_len": "200000"}``).
    """
    import atheris

    argv = list(sys.argv)
    given = {arg.lstrip("-").partition("=")[0] for arg in argv[1:] if arg.startswith("-")}
    flags = {**FUZZ_DEFAULTS, **(defaults or {})}
    argv[1:1] = [f"-{flag}={value}" for flag, value in flags.items() if flag not in given]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


def bytes_source(data: bytes, name: str = SOURCE_NAME) -> Source:
    """An in-memory :class:`Source` over ``data``."""
    from evtxmpio.ingest import Source

    return Source(name, open=lambda: io.BytesIO(data), size=len(data))


def drain(format_name: str, data: bytes, options: ReadOptions | None = None) -> list[Any]:
    """Every item the reader ``format_name`` yields for ``data``, called directly.

    An exception escaping the reader propagates (a finding). Each item is checked with
    :func:`check_item`, and no record may carry the canary.
    """
    from evtxmpio.ingest.base import get_format
    from evtxmpio.ingest.runs import flat_items

    input_format = get_format(format_name)
    source = bytes_source(data)
    items = list(flat_items(input_format.read(source, options) if input_format.accepts_options
                            else input_format.read(source)))
    for item in items:
        check_item(item, SOURCE_NAME)
    check_no_canary(items, data)
    return items


def check_item(item: object, name: str) -> None:
    """One reader item has a valid type, names its source and has sane counts."""
    from evtxmpio.ingest import IngestIssue, SkippedRecords
    from evtxmpio.model import RawRecord

    assert isinstance(item, RawRecord | IngestIssue | SkippedRecords), type(item)
    assert item.source_path == name, item
    if isinstance(item, IngestIssue):
        assert item.code and "." in item.code, item
        assert isinstance(item.detail, str), item
        assert min(item.records_failed, item.records_lost, item.records_recovered) >= 0, item
        _check_offset(item.offset, item)
    elif isinstance(item, SkippedRecords):
        assert item.count >= 1 and item.reason, item
        assert item.id_span >= 0, item
        _check_offset(item.offset, item)
    else:
        assert isinstance(item.provider, str) and isinstance(item.kind, str), item
        assert all(isinstance(value, str) for _, value in item.data), item
        _check_offset(item.source_offset, item)


def _check_offset(offset: object, item: object) -> None:
    assert offset is None or (isinstance(offset, int) and offset >= 0), item


def check_no_canary(items: Iterable[object], data: bytes) -> None:
    """No item holds the canary file's text unless the input itself does."""
    if CANARY.encode() in data or CANARY.encode("utf-16-le") in data:
        return
    for item in items:
        assert CANARY not in repr(item), f"input made a reader read a file: {item!r}"


def keep_even(record: Any) -> bool:
    """A relevance filter that rejects some records (exercises ``not-relevant``)."""
    return record.event_id is not None and record.event_id % 2 == 0


def check_accounts(data: bytes, options: ReadOptions | None = None, limits: Any = None,
                   stream_errors: tuple[str, ...] = ()) -> IngestResult:
    """Read ``data`` through ``read_source`` and check every account it produced.

    Per account: ``records_read == records_used + records_skipped``, skip reasons sum to the
    skipped count, the health ledger agrees, recovered records were read, and no reader
    failure was caught by collect's catch-all. Over all: kept records equal used ones.

    Args:
        data: the input.
        options: read options.
        limits: ``Limits`` or ``ArchiveLimits`` for ``read_source``.
        stream_errors: exception type names an archive member's stream raises through its
            reader by design (a gzip member cut at the budget, a damaged member); a reader
            failure naming one of them is accepted.
    """
    from evtxmpio.ingest import IngestResult, read_source
    from evtxmpio.ingest.dedupe import Deduplicator

    result = IngestResult()
    read_source(bytes_source(data), result, keep_even, options=options,
                deduplicator=Deduplicator(), limits=limits)
    for account in result.accounts:
        assert account.records_read == account.records_used + account.records_skipped, account
        assert min(account.records_used, account.records_skipped) >= 0, account
        assert sum(account.skip_reasons.values()) == account.records_skipped, account
        assert account.to_dict()["health"]["records_skipped"] == account.records_skipped
        assert account.records_recovered <= account.records_read, account
        for error in account.errors:
            failed = error.removeprefix("ingest.reader-failed: reading stopped: ")
            assert failed == error or failed.startswith(stream_errors), account
    assert len(result.records) == sum(a.records_used for a in result.accounts)
    check_no_canary(result.records, data)
    return result


def regression_inputs(harness: str) -> Iterator[Path]:
    """The saved inputs of ``tests/fuzz/regressions/<harness>/``, in name order."""
    folder = REGRESSIONS / harness
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md")
