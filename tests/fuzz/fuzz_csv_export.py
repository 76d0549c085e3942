"""Fuzz both CSV export readers: Event Viewer "Save as CSV" and ``Get-WinEvent | Export-Csv``.

Every input goes through both readers, with the export's time zone chosen by the input length
(none, a zone with DST gaps and folds, or one with a half-hour offset), so local times that do
not exist or exist twice are reached. Invariants: those of :mod:`tests.fuzz.common` (items,
accounting).

Run: ``python tests/fuzz/fuzz_csv_export.py [libFuzzer flags] [corpus dirs]`` (``-max_len``
defaults to 32768).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__"):
    from evtxmpio.ingest import ReadOptions

DEFAULTS = {"max_len": "32768"}
FORMATS = ("eventviewer-csv", "powershell-csv")
ZONES = (None, "Europe/Berlin", "Asia/Kolkata")


def TestOneInput(data: bytes) -> None:
    """One input: the CSV file's bytes."""
    options = ReadOptions(tz=ZONES[len(data) % len(ZONES)])
    for format_name in FORMATS:
        common.drain(format_name, data, options)
    common.check_accounts(data, options)


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
