"""``evtxmpio replay``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from evtxmpio.cli.app import PlainCommand, app, fail
from evtxmpio.errors import Error

# evtxmpio.replay.DEFAULT_FORMATS, written here too so that --help need not import the replay
# model (tests/test_cli.py checks that both agree).
FORMATS_HELP = ("Comma-separated: evtx, xml, xml-viewer, etw-xml, etw-csv "
                "[default: evtx,xml,etw-xml,etw-csv].")


class ModelVariant(StrEnum):
    """Variants of the MPIO failover model."""

    buggy = "buggy"
    fixed = "fixed"


class StreamFormat(StrEnum):
    """Formats of the I/O stream copy written next to the logs."""

    csv = "csv"
    parquet = "parquet"


@app.command(cls=PlainCommand)
def replay(
    workload: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, metavar="WORKLOAD",
                             help="Workload description (YAML).")
    ],
    model: Annotated[
        ModelVariant,
        typer.Option("--model", "-m", help="buggy: pre-KB 2406705 mpio.sys; fixed: with the fix."),
    ] = ModelVariant.buggy,
    out: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", help="Output folder.")] = Path("replay-out"),
    formats: Annotated[
        str | None,
        typer.Option("--formats", metavar="LIST", help=FORMATS_HELP),
    ] = None,
    stream: Annotated[
        Path | None,
        typer.Option(
            "--stream",
            metavar="FILE",
            exists=True,
            dir_okay=False,
            help="Recorded I/O stream (.csv/.parquet) to replay instead of generating one.",
        ),
    ] = None,
    stream_format: Annotated[
        StreamFormat,
        typer.Option("--stream-format", help="Format of the stream copy written to the output."),
    ] = StreamFormat.csv,
) -> None:
    """Replay an I/O stream through the MPIO failover model; write logs and ground truth."""
    from evtxmpio import replay as replay_stage

    if formats is None:
        formats = ",".join(replay_stage.DEFAULT_FORMATS)
    chosen = tuple(name.strip() for name in formats.split(",") if name.strip())
    try:
        result = replay_stage.replay(
            workload,
            model=model.value,
            out_dir=out,
            formats=chosen,
            stream=stream,
            stream_format=stream_format.value,
        )
    except Error as exc:
        raise fail(str(exc)) from exc
    truth = result.ground_truth
    typer.echo(f"Verdict: {truth['verdict']} (data loss: {'yes' if truth['data_loss'] else 'no'})")
    for host, count in result.system_records.items():
        typer.echo(f"{host}: {count} System records, {result.trace_events[host]} trace events")
    typer.echo(f"Written to {out}: {', '.join(path.name for path in result.files)}")
