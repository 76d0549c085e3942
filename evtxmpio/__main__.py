"""``python -m evtxmpio``."""

from __future__ import annotations

from evtxmpio.cli import main

main()
