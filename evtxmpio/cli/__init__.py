"""The ``evtxmpio`` command line: a thin Typer layer over :mod:`evtxmpio.pipeline`.

Each command lives in its own module of this package and registers itself on :data:`app`;
they are imported here explicitly. A command is one library call plus output; library errors
(:class:`evtxmpio.errors.Error`) become ``Error: ...`` on stderr and exit code 1.

Start-up stays cheap: the command modules import only Typer at the top and load the pipeline
(pandas, lxml, DuckDB ...) inside the command that runs, so ``--help`` and ``--version``
answer at once. Ctrl-C at any moment prints one line, ``interrupted``, and exits 130
(:func:`main`; :mod:`evtxmpio.__main__` covers the imports of this package too).
"""

from __future__ import annotations

import sys

from evtxmpio.cli import analyze, limits, replay, rules, triage  # noqa: F401  (command registration)
from evtxmpio.cli.app import app

__all__ = ["EXIT_INTERRUPTED", "app", "interrupted", "main"]

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a process ended by Ctrl-C


def interrupted() -> int:
    """Say ``interrupted`` on stderr (one line) and return the exit code for Ctrl-C."""
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError, KeyboardInterrupt):  # stderr gone, or a second Ctrl-C
        pass
    return EXIT_INTERRUPTED


def main() -> None:
    """Run the command line; Ctrl-C is one line, ``interrupted``, and exit code 130."""
    try:
        app()
    except KeyboardInterrupt:  # outside a command (Typer handles those inside one)
        sys.exit(interrupted())
    except SystemExit as exc:
        # Typer turns a KeyboardInterrupt inside a command into a silent exit 130; no
        # command exits 130 for another reason.
        if exc.code == EXIT_INTERRUPTED:
            sys.exit(interrupted())
        raise
