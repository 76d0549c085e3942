"""Progress of ``analyze`` on stderr: per file, bytes read and records kept; then one closing
line with the time taken. Shown only when stderr is a terminal; a pipe or a log file gets
nothing extra.
"""

from __future__ import annotations

import time
from pathlib import PurePath
from types import TracebackType
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

if TYPE_CHECKING:
    from evtxmpio.detect import CaseResult
    from evtxmpio.ingest.base import FileAccount


class AnalyzeProgress:
    """A Rich progress display for one ``analyze``: use as a context manager, pass it as
    ``progress`` and its :meth:`stage` as ``on_stage`` to :func:`evtxmpio.pipeline.analyze`."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()
        self.display = Progress(
            TextColumn("{task.description}"), BarColumn(bar_width=20),
            TextColumn("{task.fields[bytes]}"), TextColumn("{task.fields[records]}"),
            TimeElapsedColumn(),
            console=console, transient=False)
        self.tasks: dict[int, tuple[FileAccount, TaskID]] = {}

    def __enter__(self) -> AnalyzeProgress:
        self.display.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is KeyboardInterrupt:  # leave only the one line "interrupted"
            self.display.live.transient = True
        self.display.stop()

    def __call__(self, account: FileAccount, position: int, size: int | None) -> None:
        """Show how far ``account``'s file is (:data:`evtxmpio.ingest.collect.ProgressHook`)."""
        known = self.tasks.get(id(account))
        records = f"{account.records_read:,} records read, {account.records_used:,} kept"
        if known is None:
            name = escape(PurePath(account.file).name)
            task = self.display.add_task(name, total=size, records=records, bytes="")
            self.tasks[id(account)] = (account, task)
        else:
            task = known[1]
        done = f"{position / 1e6:,.1f}" + (f"/{size / 1e6:,.1f} MB" if size else " MB")
        self.display.update(task, completed=position, total=size, records=records, bytes=done)

    def stage(self, name: str) -> None:
        """A pipeline stage started after reading (``analysing``)."""
        self.display.add_task(f"{name} the events", total=None, records="", bytes="")

    def closing_line(self, case: CaseResult) -> str:
        """``Read N file(s) ... in T s``: what was read and the time taken."""
        read = sum(a.records_read for a in case.accounts)
        kept = sum(a.records_used for a in case.accounts)
        seconds = time.monotonic() - self.started
        return (f"Read {len(case.accounts)} file(s), {read:,} records ({kept:,} kept), "
                f"analysed in {seconds:.1f} s")


def make_progress() -> AnalyzeProgress | None:
    """A progress display on stderr when stderr is a terminal, else ``None``."""
    console = Console(stderr=True)
    return AnalyzeProgress(console) if console.is_terminal else None
