"""``evtxmpio triage``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from evtxmpio.cli.app import LimitOption, PlainCommand, app, fail
from evtxmpio.errors import Error

if TYPE_CHECKING:
    from evtxmpio.triage import TriageSummary

# evtxmpio.triage.batch.DEFAULT_CASE_TIMEOUT_S, written here too so that --help need not import
# the triage machinery (tests/test_cli.py checks that both agree).
CASE_TIMEOUT_HELP = "Seconds one case may take [default: 600]."
# evtxmpio.triage.dispatch.WORKER_WAIT_S, likewise.
WORKER_WAIT_HELP = ("With --scheduler: seconds to wait for a worker when none is left, then "
                    "stop (the cases still out are retried by the next run) [default: 60].")


@app.command(cls=PlainCommand)
def triage(
    inbox: Annotated[Path, typer.Argument(
        exists=True, file_okay=False, metavar="INBOX",
        help="Folder whose sub-folders and .zip/.gz are cases.")],
    db: Annotated[Path, typer.Option("--db", metavar="FILE", help="DuckDB case database file.")],
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, metavar="N", help="Local analyzer processes [default: CPUs].")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", metavar="ADDRESS",
        help="Dask scheduler address (tcp://HOST:PORT) to run on.")] = None,
    reports: Annotated[Path | None, typer.Option(
        "--reports", file_okay=False, metavar="DIR",
        help="Write each case's HTML report and index.html.")
    ] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Redo cases already in the database.")] = False,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="Redo cases recorded as failed.")] = False,
    case_timeout: Annotated[float | None, typer.Option(
        "--case-timeout", min=0.1, metavar="SECONDS", help=CASE_TIMEOUT_HELP)] = None,
    worker_wait: Annotated[float | None, typer.Option(
        "--worker-wait", min=0.0, metavar="SECONDS", help=WORKER_WAIT_HELP)] = None,
    limit: LimitOption = None,
) -> None:
    """Triage every case of INBOX into a case database, locally or on a Dask cluster."""
    from rich.console import Console

    from evtxmpio.ingest.limits import parse_limits
    from evtxmpio.triage import TriageOptions, make_reporter, run_triage
    from evtxmpio.triage.archive import default_limits
    from evtxmpio.triage.batch import DEFAULT_CASE_TIMEOUT_S
    from evtxmpio.triage.dispatch import WORKER_WAIT_S

    try:
        options = TriageOptions(
            inbox=inbox, db=db, workers=workers, scheduler=scheduler, reports=reports,
            force=force, retry_failed=retry_failed,
            case_timeout=DEFAULT_CASE_TIMEOUT_S if case_timeout is None else case_timeout,
            worker_wait=WORKER_WAIT_S if worker_wait is None else worker_wait,
            limits=parse_limits(limit or [], default_limits()))
        summary = run_triage(options, make_reporter(Console(stderr=True)))
    except Error as exc:
        raise fail(_shown(exc)) from exc
    _print_summary(summary, db)


def _shown(text: object) -> str:
    """Customer text (names, reasons) on one line: undecodable bytes escaped (``\\xff``),
    controls and bidi characters shown visibly."""
    from evtxmpio.pathtext import path_text
    from evtxmpio.report.visible import show_hidden_line

    return show_hidden_line(path_text(str(text)))


def _print_summary(summary: TriageSummary, db: Path) -> None:
    verdicts = ", ".join(f"{v} {n}" for v, n in summary.verdicts.most_common()) or "none"
    repaired = f" ({summary.repaired} again for a missing report)" if summary.repaired else ""
    typer.echo(f"{summary.found} case(s) found, {summary.skipped} already known, "
               f"{summary.ran} triaged{repaired} ({summary.failed} failed) in "
               f"{summary.elapsed_s:.1f} s; verdicts: {verdicts}")
    for name, original in summary.duplicates:
        typer.echo(f"{_shown(name)}: same content as {_shown(original)}, not triaged twice")
    typer.echo(f"Database: {_shown(db)}")
    if summary.index is not None:
        typer.echo(f"Index: {_shown(summary.index)}")
    if summary.left:
        name, reason = summary.left[0]
        raise fail(f"{len(summary.left)} case(s) not triaged, the machine could not run them "
                   f"now (first: {_shown(name)}: {_shown(reason)}); run again to triage them")
