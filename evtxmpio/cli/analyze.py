"""``evtxmpio analyze``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from evtxmpio import pipeline, report
from evtxmpio.cli.app import app, fail
from evtxmpio.errors import Error


class OutputFormat(StrEnum):
    """Report formats of ``analyze``."""

    html = "html"
    json = "json"


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(
        exists=True, help="System .evtx files, Event XML exports, ETW exports or folders.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Report file [default: report.html or report.json].")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="Report format.")] = OutputFormat.html,
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", help="Extra rule folder, added to the shipped rules (repeatable).")] = None,
    all_events: Annotated[bool, typer.Option(
        "--all-events", help="Keep every record, not only MPIO-relevant providers.")] = False,
) -> None:
    """Analyze one case and write its report; print the verdict and findings."""
    target = out or Path(f"report.{output_format.value}")
    try:
        case = pipeline.analyze(inputs, rules_dirs=rules or [], all_events=all_events)
        report.write_report(case, target, output_format.value)
    except Error as exc:
        raise fail(str(exc)) from exc
    report.print_summary(case, Console(stderr=False))
    typer.echo(f"Report written to {target}")
