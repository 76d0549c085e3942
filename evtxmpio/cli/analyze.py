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
    csv = "csv"
    timesketch = "timesketch"


DEFAULT_NAME = {"html": "report.html", "json": "report.json", "csv": "timeline.csv",
                "timesketch": "timeline.jsonl"}


@app.command()
def analyze(
    inputs: Annotated[list[Path], typer.Argument(
        exists=True, help="System .evtx files, Event XML exports, ETW exports or folders.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file [default: report.html, report.json, timeline.csv or "
        "timeline.jsonl].")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="html report, json case (evtxmpio.case/1), csv event timeline, "
        "or timesketch JSONL timeline.")] = OutputFormat.html,
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", help="Extra rule folder, added to the shipped rules (repeatable).")] = None,
    all_events: Annotated[bool, typer.Option(
        "--all-events", help="Keep every record, not only MPIO-relevant providers.")] = False,
    redact: Annotated[bool, typer.Option(
        "--redact", help="Replace host names, volumes, file paths, IPs and iSCSI names by "
        "pseudonyms (HOST-1, FILE-1.mdb ...) everywhere in the output.")] = False,
    redact_map: Annotated[Path | None, typer.Option(
        "--redact-map", help="Where to write the pseudonym -> name mapping (keep it; do not "
        "send it) [default: <out>.redaction.json].")] = None,
) -> None:
    """Analyze one case and write its report; print the verdict and findings."""
    target = out or Path(DEFAULT_NAME[output_format.value])
    map_path = redact_map or report.default_map_path(target)
    try:
        case = pipeline.analyze(inputs, rules_dirs=rules or [], all_events=all_events)
        redactor = report.collect(case) if redact else None
        report.write_report(case, target, output_format.value, redactor)
        if redactor is not None:
            report.write_redaction_map(redactor, map_path)
    except Error as exc:
        raise fail(str(exc)) from exc
    report.print_summary(case, Console(stderr=False))
    typer.echo(f"Report written to {target}")
    if redact:
        typer.echo(f"Redaction map written to {map_path} (keep it; do not send it)")
