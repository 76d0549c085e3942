"""The Typer application object shared by every command module.

Only cheap modules are imported here and at the top of the command modules: the pipeline and
its libraries load inside the command that needs them (see :mod:`evtxmpio.cli`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
import typer.core

if TYPE_CHECKING:  # typer carries its own click; the names are only annotations here
    import click

from evtxmpio import __version__


class PlainCommand(typer.core.TyperCommand):
    """A command whose help names arguments as click does: ``INPUT...`` in the usage line
    and in the argument list, not ``{inputs}...`` and ``<list[Path]>``."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        """``[OPTIONS] INPUT...``: required arguments bare, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(argument_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The Arguments and Options sections, arguments named as in the usage line."""
        arguments, options = [], []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                arguments.append((argument_name(param), record[1]))
            else:
                options.append(record)
        for title, records in (("Arguments", arguments), ("Options", options)):
            if records:
                with formatter.section(title):
                    formatter.write_dl(records)


def argument_name(param: click.Parameter) -> str:
    """``NAME``, ``NAME...`` for several values, in brackets when optional."""
    name = (param.metavar or (param.name or "").upper()).removesuffix("...")
    if param.nargs != 1:
        name += "..."
    return name if param.required else f"[{name}]"

app = typer.Typer(
    name="evtxmpio",
    help="Analyze Windows System event logs and MPIO ETW exports for the KB 2406705 MPIO "
    "failover race, real storage loss, healthy failovers and flapping paths.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help text: square brackets in a help string stay text (Rich markup would eat
    # "[default: ...]"), and --help does not need Rich at all.
    rich_markup_mode=None,
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
