"""Delayed-write failures: one entry per lost file, the Ntfs 50 and the popup 26 merged.

One lost write normally gives Ntfs 50 *and* Application Popup 26 for the same file within about
a second (domain reference §2.5); both are evidence of one failure, counted once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from evtxmpio.catalog import event_group
from evtxmpio.detect.luns import LunOutcome, torn_down_disk
from evtxmpio.timearith import difference

MERGE_WINDOW = pd.Timedelta(seconds=5)
DELAYED_WRITE_NAMES = event_group("delayed-write")


@dataclass(frozen=True, slots=True)
class DelayedWriteFailure:
    """One file whose delayed write failed."""

    time: pd.Timestamp
    host: str
    file: str
    volume: str | None
    evidence: tuple[int, ...]
    mpio_disk: int | None = None


def delayed_write_failures(frame: pd.DataFrame, luns: list[LunOutcome] | None = None
                           ) -> list[DelayedWriteFailure]:
    """Merge the delayed-write events of ``frame`` (analysis frame) per (host, file).

    With ``luns``, each failure gets the MPIO disk it most likely hit (see
    :func:`evtxmpio.detect.luns.correlate_delayed_writes` for the inference).
    """
    mask = frame["name"].isin(list(DELAYED_WRITE_NAMES)) & frame["file"].notna()
    hits = frame.loc[mask.fillna(False).astype(bool)]
    failures: list[DelayedWriteFailure] = []
    for (host, file_key), group in hits.groupby([hits["host"], hits["file"].str.lower()],
                                                 sort=True):
        del file_key
        current: list[int] = []
        for index in group.index:
            if current and difference(group.at[index, "time"],
                                      group.at[current[-1], "time"]) > MERGE_WINDOW:
                failures.append(_failure(group, host, current))
                current = []
            current.append(index)
        failures.append(_failure(group, host, current))
    return sorted((_with_disk(f, luns or []) for f in failures),
                  key=lambda f: (f.time, f.host, f.file))


def _with_disk(failure: DelayedWriteFailure, luns: list[LunOutcome]) -> DelayedWriteFailure:
    disk = torn_down_disk(luns, failure.host, failure.time)
    return failure if disk is None else replace(failure, mpio_disk=disk)


def _failure(group: pd.DataFrame, host: str, rows: list[int]) -> DelayedWriteFailure:
    subset = group.loc[rows]
    volumes = subset["volume"].dropna()
    # Prefer the Ntfs record's file spelling (it is the file system's own name for it).
    ntfs = subset.loc[subset["name"] != "application popup:26", "file"]
    file = ntfs.iloc[0] if len(ntfs) else subset["file"].iloc[0]
    return DelayedWriteFailure(subset["time"].min(), host, str(file),
                               str(volumes.iloc[0]) if len(volumes) else None, tuple(rows))
