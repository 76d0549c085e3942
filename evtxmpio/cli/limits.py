"""``evtxmpio limits``: the resource limits ``--limit KEY=VALUE`` can set."""

from __future__ import annotations

from evtxmpio.cli.app import LimitOption, PlainCommand, app, fail
from evtxmpio.errors import Error


@app.command("limits", cls=PlainCommand)
def limits(limit: LimitOption = None) -> None:
    """List the resource limits, their values and what they bound."""
    from rich.console import Console

    from evtxmpio.ingest.limits import describe, parse_limits
    from evtxmpio.report.terminal import print_rows

    try:
        values = parse_limits(limit or [])
    except Error as exc:
        raise fail(str(exc)) from exc
    print_rows(Console(), "Resource limits (--limit KEY=VALUE)", ("key", "value", "bounds"),
               describe(values))
