"""The Typer application object shared by every command module."""

from __future__ import annotations

from typing import Annotated

import typer

from evtxmpio import __version__
from evtxmpio.runtime import freeze_startup_objects

app = typer.Typer(
    name="evtxmpio",
    help="Analyze Windows System event logs and MPIO ETW exports for the KB 2406705 MPIO "
    "failover race, real storage loss, healthy failovers and flapping paths.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,  # locals hold customer evidence
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evtxmpio {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """evtxmpio: MPIO failover forensics for Windows logs."""


LimitOption = Annotated[list[str] | None, typer.Option(
    "--limit", metavar="KEY=VALUE",
    help="Raise or lower a resource limit, e.g. file-seconds=600, memory=4GiB, "
    "archive-ratio=500 (repeatable; `evtxmpio limits` lists them).")]


def fail(message: str) -> typer.Exit:
    """Print ``Error: message`` to stderr and return the exit to raise (code 1)."""
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=1)


def main() -> None:
    """Console-script entry point."""
    freeze_startup_objects()
    app()
