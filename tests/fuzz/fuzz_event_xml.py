"""Fuzz the Event XML reader (Event Viewer "Save as XML" and ``wevtutil qe /f:xml`` exports).

The input is the file. Invariants: those of :mod:`tests.fuzz.common` (items, accounting, and
the canary: seeds point XML external entities and XInclude at ``canary.txt``, whose text must
never reach a record).

Run: ``python tests/fuzz/fuzz_event_xml.py [libFuzzer flags] [corpus dirs]`` (``-max_len``
defaults to 65536).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__"):
    import evtxmpio.ingest  # noqa: F401  (registers the readers)

DEFAULTS = {"max_len": "65536"}


def TestOneInput(data: bytes) -> None:
    """One input: the XML file's bytes."""
    common.drain("event-xml", data)
    common.check_accounts(data)


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
