"""Per-disk and per-path state timelines (domain reference §3.4).

Disk states: ``ABSENT`` (before mpio 1 created the disk), ``NORMAL``, ``IN_FO`` (the KB's
FAILOVER), ``WAIT1``, ``WAIT2``, ``WAIT3``, ``DEGRADED``, ``REMOVED``. Path states:
``active``, ``failed``, ``removed``, ``restored``, ``unknown`` (:mod:`.restore`: a path's
return inferred from the System log, and ``unknown`` after the last evidence where it cannot
be).

Two sources, one clock:

* MPIO trace ``StateChange`` / ``MpioDiskRemoved`` give every transition exactly.
* The System log gives a coarser picture: mpio 1 (created) -> NORMAL, 16 -> IN_FO,
  17 -> DEGRADED, 22/23 -> REMOVED, 2 restoring the full path count -> NORMAL.

When a disk has trace state changes, they are the timeline and each System event is attached as
corroborating evidence to the nearest trace transition into the same state within
``CLOCK_SKEW`` (the two sources are stamped by different clocks and tracerpt converts to local
time, so a few seconds of skew are tolerated). Otherwise the System-derived transitions are the
timeline. Every transition keeps the event rows that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.catalog import disk_state_of
from evtxmpio.model import trace_rows
from evtxmpio.timearith import within
from evtxmpio.timeline.episodes import PATH_FAILURE
from evtxmpio.timeline.restore import DOWN, ISCSI_RECONNECTED, PathRecovery, last_evidence

CLOCK_SKEW = pd.Timedelta(seconds=5)
SYSTEM_DISK_STATE = disk_state_of()
# The columns the walk below and :mod:`.restore` read per event (fewer columns, faster rows).
ROW_COLUMNS = ["time", "host", "kind", "name", "mpio_disk", "path_id", "path_count", "old_state",
               "new_state", "device"]
TIMELINE_COLUMNS = ["host", "scope", "key", "time", "from_state", "to_state", "source",
                    "evidence"]


@dataclass(slots=True)
class _Transition:
    host: str
    scope: str
    key: int
    time: pd.Timestamp
    from_state: str
    to_state: str
    source: str
    evidence: list[int] = field(default_factory=list)


def build_timelines(frame: pd.DataFrame) -> pd.DataFrame:
    """All disk and path transitions of the (sorted) event frame, in time order.

    Returns:
        a frame with ``TIMELINE_COLUMNS``; ``scope`` is ``disk`` (key = MPIO disk number) or
        ``path`` (key = Path ID); ``evidence`` is a tuple of event-frame row labels. Events
        without a time (damaged records) are left out.
    """
    frame = frame.loc[frame["time"].notna()]  # an event without a time has no place on it
    traced = _disks_with_trace_states(frame)
    transitions: list[_Transition] = []
    disk_state: dict[tuple[str, int], str] = {}
    path_state: dict[tuple[str, int], str] = {}
    pending_system: list[tuple[int, str, int, pd.Timestamp, str]] = []
    recovery = PathRecovery()
    for row in frame.loc[_can_change_state(frame), ROW_COLUMNS].itertuples():
        name = row.name
        disk = None if pd.isna(row.mpio_disk) else int(row.mpio_disk)
        _path_step(transitions, path_state, row, name)
        for path_id, target in recovery.observe(row, name, disk, path_state):
            _path_to(transitions, path_state, row, path_id, target)
        if disk is None:
            continue
        target = _disk_target(row, name, disk_state.get((row.host, disk)))
        if target is None:
            continue
        if (row.host, disk) in traced and name.startswith("mpio:"):
            pending_system.append((row.Index, row.host, disk, row.time, target))
            continue
        _disk_step(transitions, disk_state, row, disk, target)
    _attach_system_evidence(transitions, pending_system)
    _unknown_after_evidence(transitions, path_state, frame, recovery)
    return _to_frame(transitions)


def _can_change_state(frame: pd.DataFrame) -> pd.Series:
    """The rows the walk of :func:`build_timelines` can learn from: with a Path ID or an MPIO
    disk, or an iScsiPrt reconnect (its port names the paths). For any other row every step
    of the walk does nothing (a storm of disk retries need not be walked)."""
    return (frame["path_id"].notna() | frame["mpio_disk"].notna()
            | (frame["name"] == ISCSI_RECONNECTED).fillna(False))


def _unknown_after_evidence(transitions: list[_Transition],
                            path_state: dict[tuple[str, int], str], frame: pd.DataFrame,
                            recovery: PathRecovery) -> None:
    """A path still down at the end is ``unknown`` after the last event about it, when its
    host's log goes on: nothing says it stayed down, nothing says it came back."""
    host_end = frame.groupby("host", sort=False)["time"].max()
    for (host, path_id), state in sorted(path_state.items()):
        if state not in DOWN:
            continue
        last = last_evidence(frame, host, path_id, recovery.disks_on(host, path_id))
        if last is None or last[0] >= host_end.get(host, last[0]):
            continue
        source = "trace" if str(frame.at[last[1], "kind"]).startswith("etw:") else "system"
        path_state[(host, path_id)] = "unknown"
        transitions.append(_Transition(host, "path", path_id, last[0], state, "unknown",
                                       source, [last[1]]))


def _disks_with_trace_states(frame: pd.DataFrame) -> set[tuple[str, int]]:
    mask = trace_rows(frame) & frame["event_id"].isin([4, 8])
    mask &= frame["provider"].str.upper() == "MPIO"
    subset = frame.loc[mask & frame["mpio_disk"].notna(), ["host", "mpio_disk"]]
    return {(host, int(disk)) for host, disk in subset.itertuples(index=False, name=None)}


def _disk_target(row: object, name: str, current: str | None) -> str | None:
    if name == "MPIO:StateChange":
        return None if pd.isna(row.new_state) else str(row.new_state)
    if name == "MPIO:MpioDiskRemoved":
        return "REMOVED"
    if name == "mpio:2":
        return "NORMAL" if current == "DEGRADED" and _full_paths(row) else None
    return SYSTEM_DISK_STATE.get(name)


def _full_paths(row: object) -> bool:
    return not pd.isna(row.path_count)


def _disk_step(transitions: list[_Transition], disk_state: dict[tuple[str, int], str],
               row: object, disk: int, target: str) -> None:
    key = (row.host, disk)
    # A disk seen for the first time at its creation (mpio 1) comes from nowhere.
    current = disk_state.get(key, "ABSENT" if target == "NORMAL" else "NORMAL")
    source = "trace" if str(row.kind).startswith("etw:") else "system"
    if source == "trace" and not pd.isna(row.old_state):
        current = str(row.old_state)
    if target == current and transitions and _last_for(transitions, row.host, disk):
        _last_for(transitions, row.host, disk).evidence.append(row.Index)
        return
    disk_state[key] = target
    transitions.append(_Transition(row.host, "disk", disk, row.time, current, target, source,
                                   [row.Index]))


def _last_for(transitions: list[_Transition], host: str, disk: int) -> _Transition | None:
    for transition in reversed(transitions):
        if transition.scope == "disk" and transition.host == host and transition.key == disk:
            return transition
    return None


def _path_step(transitions: list[_Transition], path_state: dict[tuple[str, int], str],
               row: object, name: str) -> None:
    if pd.isna(row.path_id):
        return
    failure = name in PATH_FAILURE
    if name == "MPIO:PathRemoved":
        target = "removed"
    elif failure:
        target = "failed"
    elif name == "MPIO:PathArrived":
        target = "restored"
    else:
        return
    _path_to(transitions, path_state, row, int(row.path_id), target)


def _path_to(transitions: list[_Transition], path_state: dict[tuple[str, int], str],
             row: object, path_id: int, target: str) -> None:
    key = (row.host, path_id)
    current = path_state.get(key, "active")
    if current == target or (current == "removed" and target == "failed"):
        for transition in reversed(transitions):
            if transition.scope == "path" and (transition.host, transition.key) == key:
                transition.evidence.append(row.Index)
                break
        return
    path_state[key] = target
    source = "trace" if str(row.kind).startswith("etw:") else "system"
    transitions.append(_Transition(row.host, "path", key[1], row.time, current, target, source,
                                   [row.Index]))


def _attach_system_evidence(transitions: list[_Transition],
                            pending: list[tuple[int, str, int, pd.Timestamp, str]]) -> None:
    for index, host, disk, time, target in pending:
        candidates = [t for t in transitions if t.scope == "disk" and t.host == host
                      and t.key == disk and t.to_state == target
                      and within(t.time, time, CLOCK_SKEW)]
        if candidates:
            min(candidates, key=lambda t: abs(t.time.value - time.value)).evidence.append(index)


def _to_frame(transitions: list[_Transition]) -> pd.DataFrame:
    rows = [(t.host, t.scope, t.key, t.time, t.from_state, t.to_state, t.source,
             tuple(sorted(t.evidence))) for t in transitions]
    frame = pd.DataFrame.from_records(rows, columns=TIMELINE_COLUMNS)
    frame = frame.astype({"host": "string", "scope": "string", "key": "Int64",
                          "from_state": "string", "to_state": "string", "source": "string"})
    if frame.empty:
        frame["time"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame.sort_values(["time", "host", "scope", "key"], kind="mergesort").reset_index(
        drop=True)
