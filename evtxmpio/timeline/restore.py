"""When a failed path came back, from the System log alone (domain reference §2.1, §2.6, §6).

The System log never names a healthy path, but it does say when one returns:

* mpio 2 ("Added device to %1", path count in the dump) on a disk that failed over: the path
  count rising back to the most the disk ever had means every path it lost is back
  (``restored``); a lower count means one came back but not which (``unknown``);
* iScsiPrt 34 ("connection lost but successfully reconnected") on ``\\Device\\RaidPortN``: N is
  the port byte of MSDSM Path IDs (``0x77PPBBTT``); when exactly one failed path of the host is
  on that port, it is back; with several (the Microsoft initiator puts every session on one
  port) which one is unknown.

Where nothing says, a failed path is ``unknown`` after the last evidence about it (its own
events and those of the disks that failed over on it) instead of ``failed`` to the end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.timeline.episodes import PATH_FAILURE

DOWN = frozenset({"failed", "removed"})
RETURNABLE = DOWN | {"unknown"}
RAID_PORT = re.compile(r"\\Device\\RaidPort(\d+)", re.IGNORECASE)
MSDSM_TAG = 0x77
PATH_ADDED = "mpio:2"
ISCSI_RECONNECTED = "iscsiprt:34"


@dataclass(slots=True)
class _Host:
    disk_paths: dict[int, int] = field(default_factory=dict)      # disk -> most paths seen
    disk_failed: dict[int, set[int]] = field(default_factory=dict)  # disk -> paths lost
    path_disks: dict[int, set[int]] = field(default_factory=dict)   # path -> disks on it


@dataclass(slots=True)
class PathRecovery:
    """Follows the events of every host; says which paths an event brings back."""

    hosts: dict[str, _Host] = field(default_factory=dict)

    def observe(self, row: object, name: str, disk: int | None,
                state: dict[tuple[str, int], str]) -> list[tuple[int, str]]:
        """``(path_id, new state)`` for the paths ``row`` restores or makes unknown."""
        host = self.hosts.setdefault(row.host, _Host())
        path_id = None if pd.isna(row.path_id) else int(row.path_id)
        if name in PATH_FAILURE and path_id is not None and disk is not None:
            host.disk_failed.setdefault(disk, set()).add(path_id)
            host.path_disks.setdefault(path_id, set()).add(disk)
        if name == PATH_ADDED and disk is not None:
            return self._path_added(host, row, disk, state)
        if name == ISCSI_RECONNECTED:
            return _reconnected(row, state)
        return []

    def _path_added(self, host: _Host, row: object, disk: int,
                    state: dict[tuple[str, int], str]) -> list[tuple[int, str]]:
        count = None if pd.isna(row.path_count) else int(row.path_count)
        best = host.disk_paths.get(disk, 0)
        if count is None:
            return []
        host.disk_paths[disk] = max(best, count)
        lost = sorted(p for p in host.disk_failed.get(disk, set())
                      if state.get((row.host, p)) in RETURNABLE)
        if count >= best:
            for paths in host.disk_failed.values():
                paths.difference_update(lost)
            return [(p, "restored") for p in lost]
        return [(p, "unknown") for p in lost if state.get((row.host, p)) in DOWN]

    def disks_on(self, host: str, path_id: int) -> set[int]:
        """The disks of ``host`` that failed over on ``path_id``."""
        return self.hosts.get(host, _Host()).path_disks.get(path_id, set())


def _reconnected(row: object, state: dict[tuple[str, int], str]) -> list[tuple[int, str]]:
    device = "" if pd.isna(row.device) else str(row.device)
    match = RAID_PORT.search(device)
    if match is None:
        return []
    port = int(match.group(1))
    lost = sorted(p for (h, p), s in state.items() if h == row.host and s in RETURNABLE
                  and p >> 24 == MSDSM_TAG and (p >> 16) & 0xFF == port)
    if len(lost) == 1:
        return [(lost[0], "restored")]
    return [(p, "unknown") for p in lost if state.get((row.host, p)) in DOWN]


def last_evidence(frame: pd.DataFrame, host: str, path_id: int, disks: set[int]
                  ) -> tuple[pd.Timestamp, int] | None:
    """Time and row of the last event of ``host`` about the path or a disk that failed on it."""
    mine = (frame["host"] == host).fillna(False)
    about = (frame["path_id"] == path_id).fillna(False)
    if disks:
        about |= frame["mpio_disk"].isin(list(disks)).fillna(False)
    rows = frame.loc[mine & about, "time"]
    if rows.empty:
        return None
    return rows.iloc[-1], int(rows.index[-1])
