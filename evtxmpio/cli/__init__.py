"""The ``evtxmpio`` command line: a thin Typer layer over :mod:`evtxmpio.pipeline`.

Each command lives in its own module of this package and registers itself on :data:`app`;
they are imported here explicitly. A command is one library call plus output; library errors
(:class:`evtxmpio.errors.Error`) become ``Error: ...`` on stderr and exit code 1.
"""

from __future__ import annotations

from evtxmpio.cli import analyze, limits, replay, rules, triage  # noqa: F401  (command registration)
from evtxmpio.cli.app import app, main

__all__ = ["app", "main"]
