"""``python -m evtxmpio`` and the ``evtxmpio`` console script.

The entry point lives here, outside :mod:`evtxmpio.cli`, so that a Ctrl-C while the command
line's own modules are still being imported is also one line, ``interrupted``, exit 130.
"""

from __future__ import annotations

import contextlib
import sys


def main() -> None:
    """Import the command line and run it; Ctrl-C at any moment is one line and exit 130."""
    if sys.argv[1:] == ["--version"]:  # answered without importing the command line at all
        from evtxmpio import __version__

        sys.stdout.write(f"evtxmpio {__version__}\n")
        return
    try:
        from evtxmpio.cli import main as run
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError, KeyboardInterrupt):
            sys.stderr.write("interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
