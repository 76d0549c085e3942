"""``evtxmpio analyze``."""

from __future__ import annotations

import contextlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from evtxmpio.cli.app import LimitOption, PlainCommand, app, fail
from evtxmpio.errors import Error


class OutputFormat(StrEnum):
    """Report formats of ``analyze``."""

    html = "html"
    json = "json"
    csv = "csv"
    timesketch = "timesketch"


class Backend(StrEnum):
    """.evtx readers."""

    auto = "auto"
    python = "python"
    rust = "rust"


DEFAULT_NAME = {"html": "report.html", "json": "report.json", "csv": "timeline.csv",
                "timesketch": "timeline.jsonl"}


@app.command(cls=PlainCommand)
def analyze(
    inputs: Annotated[list[Path], typer.Argument(
        exists=True, metavar="INPUT",
        help="System .evtx files, Event XML exports, ETW exports, archives or folders.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE", help="Output file [default: report.html, report.json, "
        "timeline.csv or timeline.jsonl].")] = None,
    output_format: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="html report, json case (evtxmpio.case/1), csv event timeline, "
        "or timesketch JSONL timeline.")] = OutputFormat.html,
    rules: Annotated[list[Path] | None, typer.Option(
        "--rules", metavar="DIR",
        help="Extra rule folder, added to the shipped rules (repeatable).")] = None,
    all_events: Annotated[bool, typer.Option(
        "--all-events", help="Keep every record, not only MPIO-relevant providers.")] = False,
    redact: Annotated[bool, typer.Option(
        "--redact", help="Replace host names, volumes, file paths, IPs and iSCSI names by "
        "pseudonyms (HOST-1, FILE-1.mdb ...) everywhere in the output.")] = False,
    redact_map: Annotated[Path | None, typer.Option(
        "--redact-map", metavar="FILE", help="Where to write the pseudonym -> name mapping "
        "(keep it; do not send it) [default: <out>.redaction.json].")] = None,
    backend: Annotated[Backend, typer.Option(
        "--backend", help=".evtx reader: auto (the fastest available), python (python-evtx) "
        "or rust (evtx).")] = Backend.auto,
    prefilter: Annotated[bool, typer.Option(
        "--prefilter/--no-prefilter", help="Skip .evtx chunks that cannot hold an MPIO-relevant "
        "provider without decoding them (lossless).")] = True,
    tz: Annotated[str | None, typer.Option(
        "--tz", metavar="ZONE", help="IANA time zone of CSV exports that carry local times "
        "without an offset (e.g. Europe/Berlin) [default: UTC, and the report says so].")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (exit 1) on the first input problem instead of reporting it.")
    ] = False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", metavar="N", min=0, help="Processes that read one large .evtx at once, "
        "each a part of its chunks; 0 = one per core (at most 2). The result is the same.")] = 0,
    limit: LimitOption = None,
) -> None:
    """Analyze one case and write its report; print the verdict and findings."""
    from rich.console import Console

    from evtxmpio import pipeline, report
    from evtxmpio.cli.progress import make_progress
    from evtxmpio.ingest.limits import parse_limits
    from evtxmpio.runtime import freeze_startup_objects

    freeze_startup_objects()  # what the imports above built lives as long as the process
    target = out or Path(DEFAULT_NAME[output_format.value])
    progress = make_progress()  # None unless stderr is a terminal
    try:
        limits = parse_limits(limit or [])
        # Every output location is checked before the analysis: a bad -o costs no time.
        plan = report.plan_outputs(target, redact, redact_map)
        with progress or contextlib.nullcontext():
            case = pipeline.analyze(
                inputs, rules_dirs=rules or [], all_events=all_events, backend=backend.value,
                prefilter=prefilter, tz=tz, strict=strict, limits=limits, progress=progress,
                on_stage=progress.stage if progress else None, jobs=jobs)
    except Error as exc:
        raise fail(str(exc)) from exc
    if progress is not None:
        progress.console.print(progress.closing_line(case), highlight=False, markup=False)
    # The verdict first: a report that cannot be written must not hide it.
    report.print_summary(case, Console(stderr=False))
    try:
        map_path = report.write_outputs(case, plan, output_format.value)
    except Error as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"Report written to {target}")
    if map_path is not None:
        typer.echo(f"Redaction map written to {map_path} (keep it; do not send it)")
