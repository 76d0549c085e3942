"""``evtxmpio limits``: the resource limits ``--limit KEY=VALUE`` can set."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from evtxmpio.cli.app import LimitOption, app, fail
from evtxmpio.errors import Error
from evtxmpio.ingest.limits import describe, parse_limits


@app.command("limits")
def limits(limit: LimitOption = None) -> None:
    """List the resource limits, their values and what they bound."""
    try:
        values = parse_limits(limit or [])
    except Error as exc:
        raise fail(str(exc)) from exc
    table = Table(title="Resource limits (--limit KEY=VALUE)", title_justify="left")
    for column in ("key", "value", "bounds"):
        table.add_column(column)
    for row in describe(values):
        table.add_row(*row)
    Console().print(table)
