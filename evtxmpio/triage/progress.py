"""Progress of a triage run: a Rich progress bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from evtxmpio.pathtext import path_text
from evtxmpio.report.visible import show_hidden_line

if TYPE_CHECKING:
    from evtxmpio.triage.outcome import CaseOutcome


class Reporter(Protocol):
    """Receives the run's events."""

    def start(self, total: int, skipped: int, executor: str) -> None:
        """``total`` cases to run (``skipped`` already in the database)."""
        ...

    def case_done(self, outcome: CaseOutcome) -> None:
        """One case finished (ok or failed)."""
        ...

    def note(self, text: str) -> None:
        """Something the user should know now (no worker left ...)."""
        ...

    def finish(self) -> None:
        """The run ended."""
        ...


def outcome_text(outcome: CaseOutcome) -> str:
    """``case-01 ok kb2406705-race (0.9)`` or ``case-02 FAILED timeout: ...``; the case name
    and the reason (customer text) with controls and bidi characters shown visibly."""
    name = show_hidden_line(path_text(outcome.spec.name))
    if outcome.status == "transient":
        return f"{name} NOT TRIAGED {show_hidden_line(outcome.failure_reason or '')} (run again)"
    if outcome.status != "ok":
        return f"{name} FAILED {show_hidden_line(outcome.failure_reason or '')}"
    row = outcome.tables["cases"][0]
    return f"{name} ok {row['verdict']} ({row['confidence']:.2f})"


class RateColumn(ProgressColumn):
    """Cases per minute."""

    def render(self, task: Task) -> Text:
        """The rate as text."""
        speed = task.finished_speed or task.speed
        return Text("-- cases/min" if speed is None else f"{speed * 60:.1f} cases/min")


class RichReporter:
    """A live progress bar with done/total, rate, ETA and failures."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.failures = 0
        self.progress = Progress(
            TextColumn("[bold]triage[/]"), BarColumn(), MofNCompleteColumn(), RateColumn(),
            TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
            TextColumn("[red]{task.fields[failures]} failed"), console=console)
        self.task = self.progress.add_task("triage", total=0, failures=0)

    def start(self, total: int, skipped: int, executor: str) -> None:
        """Show the bar."""
        self.console.print(f"{total} case(s) to triage on {executor}, {skipped} already known")
        self.progress.update(self.task, total=total)
        self.progress.start()

    def case_done(self, outcome: CaseOutcome) -> None:
        """Advance; print failed and not triaged cases above the bar."""
        if outcome.status == "transient":
            self.progress.console.print(Text(outcome_text(outcome), style="yellow"))
        elif outcome.status != "ok":
            self.failures += 1
            self.progress.console.print(Text(outcome_text(outcome), style="red"))
        self.progress.update(self.task, advance=1, failures=self.failures)

    def note(self, text: str) -> None:
        """Print ``text`` above the bar."""
        self.progress.console.print(Text(text, style="yellow"))

    def finish(self) -> None:
        """Remove the live display (the last state stays on screen)."""
        self.progress.stop()


class LogReporter:
    """One line per case: ``[12/200] case-012 ok kb2406705-race (0.90) 8.1 cases/min``."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.total = self.done = self.failures = 0
        self._print = lambda text: console.print(text, markup=False, highlight=False,
                                                 soft_wrap=True)
        self.started = time.monotonic()

    def start(self, total: int, skipped: int, executor: str) -> None:
        """Log the plan."""
        self.total, self.started = total, time.monotonic()
        self._print(f"triage: {total} case(s) to run on {executor}, {skipped} already known")

    def case_done(self, outcome: CaseOutcome) -> None:
        """Log the case."""
        self.done += 1
        self.failures += outcome.status not in ("ok", "transient")
        rate = self.done / max(time.monotonic() - self.started, 1e-9) * 60
        self._print(f"[{self.done}/{self.total}] {outcome_text(outcome)} ({rate:.1f} cases/min)")

    def note(self, text: str) -> None:
        """Log ``text``."""
        self._print(f"triage: {text}")

    def finish(self) -> None:
        """Log the totals."""
        self._print(f"triage: {self.done} done, {self.failures} failed")


def make_reporter(console: Console | None = None) -> Reporter:
    """Rich progress on a terminal, plain log lines otherwise."""
    console = console or Console(stderr=True)
    return RichReporter(console) if console.is_terminal else LogReporter(console)
