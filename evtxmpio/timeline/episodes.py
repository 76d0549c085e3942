"""Failure epochs ("episodes") per (host, Path ID), and what each event belongs to.

An episode of Path ID P on host H opens at the first failure evidence for P (mpio 16/18/19,
trace ``FailoverStart``/``FailoverJoin``/``PathRemoved``/``InvalidatePath``) and closes when the
path is known to be back (trace ``PathArrived`` for P; System event 2 on a disk that failed over
on P; iScsiPrt 34 reconnect). Disk-level events without a Path ID (17, 22, 23, 32, 33, trace
``StateChange``, ``GetPathResult``, ``MpioDiskRemoved``) belong to the episode their disk is in:
the one of that disk's latest failover.

Alongside, the number of paths a disk still has is estimated for System-only logs (domain
reference §3.5 R4): the largest path count event 2 reported for the disk, minus the distinct
Path IDs failed in the disk's open episodes. Unknown when no event 2 was seen; 0 after mpio 23.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.catalog import event_group
from evtxmpio.model import check_analysis_frame, check_frame

PATH_FAILURE = event_group("path-failure")


@dataclass(slots=True)
class _HostState:
    open_episodes: dict[int, str] = field(default_factory=dict)     # path id -> episode id
    counters: dict[int, int] = field(default_factory=dict)          # path id -> epochs seen
    disk_episode: dict[int, str] = field(default_factory=dict)      # disk -> latest episode
    disk_failed: dict[int, set[int]] = field(default_factory=dict)  # disk -> failed path ids
    disk_paths: dict[int, int] = field(default_factory=dict)        # disk -> max path count
    disks_on_path: dict[int, set[int]] = field(default_factory=dict)


def analysis_frame(events: pd.DataFrame) -> pd.DataFrame:
    """The checked analysis frame: the sorted event frame plus ``episode`` and ``paths_left``
    (:data:`evtxmpio.model.ANALYSIS_COLUMNS`), what rules and reports read per event."""
    extra = assign_episodes(check_frame(events))
    return events.assign(episode=extra["episode"], paths_left=extra["paths_left"]).pipe(
        check_analysis_frame)


def assign_episodes(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``episode`` and ``paths_left`` per event row (same index as ``frame``).

    ``frame`` must be the sorted event frame. ``episode`` is ``host|0xPATHID|n`` (n counts the
    epochs of that Path ID from 1) or missing; ``paths_left`` the estimated usable paths of the
    event's disk at that moment (``Int64``, missing when unknown).
    """
    episodes: list[str | None] = [None] * len(frame)
    paths_left: list[int | None] = [None] * len(frame)
    hosts: dict[str, _HostState] = {}
    columns = ["host", "name", "mpio_disk", "path_id", "path_count"]
    # A row with neither an MPIO disk nor a Path ID changes no state and belongs to no
    # episode: only the others are walked (a storm of disk retries need not be).
    walked = (frame["mpio_disk"].notna() | frame["path_id"].notna()).to_numpy()
    rows = frame.loc[walked, columns].itertuples(index=False, name=None)
    for at, (host, name, disk, path_id, count) in zip(walked.nonzero()[0], rows, strict=True):
        state = hosts.setdefault(host, _HostState())
        disk = None if pd.isna(disk) else int(disk)
        path_id = None if pd.isna(path_id) else int(path_id)
        count = None if pd.isna(count) else int(count)
        episodes[at] = _step(state, host, name, disk, path_id, count)
        paths_left[at] = _paths_left(state, disk, name)
    return pd.DataFrame(
        {"episode": pd.array(episodes, dtype="string"),
         "paths_left": pd.array(paths_left, dtype="Int64")},
        index=frame.index,
    )


def _step(state: _HostState, host: str, name: str, disk: int | None, path_id: int | None,
          count: int | None) -> str | None:
    if name in PATH_FAILURE and path_id is not None:
        return _fail(state, host, disk, path_id)
    if name == "MPIO:PathArrived" and path_id is not None:
        return _restore_path(state, path_id)
    if name == "mpio:2" and disk is not None:
        return _disk_path_added(state, disk, count)
    if name == "mpio:23" and disk is not None:
        state.disk_paths.setdefault(disk, 0)
        state.disk_failed.setdefault(disk, set())
    if disk is not None:
        return state.disk_episode.get(disk)
    return None


def _fail(state: _HostState, host: str, disk: int | None, path_id: int) -> str:
    episode = state.open_episodes.get(path_id)
    if episode is None:
        number = state.counters.get(path_id, 0) + 1
        state.counters[path_id] = number
        episode = f"{host}|0x{path_id:08x}|{number}"
        state.open_episodes[path_id] = episode
    if disk is not None:
        state.disk_episode[disk] = episode
        state.disk_failed.setdefault(disk, set()).add(path_id)
        state.disks_on_path.setdefault(path_id, set()).add(disk)
    return episode


def _restore_path(state: _HostState, path_id: int) -> str | None:
    episode = state.open_episodes.pop(path_id, None)
    for disk in state.disks_on_path.pop(path_id, set()):
        state.disk_failed.get(disk, set()).discard(path_id)
    return episode


def _disk_path_added(state: _HostState, disk: int, count: int | None) -> str | None:
    episode = state.disk_episode.get(disk)
    failed = state.disk_failed.get(disk, set())
    best = state.disk_paths.get(disk, 0)
    if count is not None:
        state.disk_paths[disk] = max(best, count)
    if failed and count is not None and count >= best:
        # The disk is back to its full path count: every path it lost has returned.
        for path_id in sorted(failed):
            _restore_path(state, path_id)
    return episode


def _paths_left(state: _HostState, disk: int | None, name: str) -> int | None:
    if disk is None:
        return None
    if name == "mpio:23":
        return 0
    total = state.disk_paths.get(disk)
    if total is None or total == 0:
        return None if total is None else 0
    return max(total - len(state.disk_failed.get(disk, set())), 0)
