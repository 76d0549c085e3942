"""Fuzz the tracerpt XML reader (decoded MPIO/MSDSM ETW traces, ``tracerpt -of XML``).

The input is the file. Invariants: those of :mod:`tests.fuzz.common` (items, accounting, the
canary); a skipped trace header is counted as read and skipped.

Run: ``python tests/fuzz/fuzz_tracerpt_xml.py [libFuzzer flags] [corpus dirs]``
(``-max_len`` defaults to 65536).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__"):
    from evtxmpio.ingest import ReadOptions

DEFAULTS = {"max_len": "65536"}


def TestOneInput(data: bytes) -> None:
    """One input: the XML file's bytes."""
    common.drain("tracerpt-xml", data, ReadOptions())
    common.check_accounts(data)


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
