"""Fuzz the tracerpt CSV reader (``tracerpt -of CSV``, UTF-8 or UTF-16).

The input is the file. Invariants: those of :mod:`tests.fuzz.common` (items, accounting); every
row becomes a record, a skipped header or an issue.

Run: ``python tests/fuzz/fuzz_tracerpt_csv.py [libFuzzer flags] [corpus dirs]``
(``-max_len`` defaults to 32768).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__"):
    from evtxmpio.ingest import ReadOptions

DEFAULTS = {"max_len": "32768"}


def TestOneInput(data: bytes) -> None:
    """One input: the CSV file's bytes."""
    common.drain("tracerpt-csv", data, ReadOptions())
    common.check_accounts(data)


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
