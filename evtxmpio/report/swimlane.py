"""The swim-lane picture: one lane per MPIO disk and per Path ID, grouped by host, on one axis.

Everything is computed here as numbers and short texts (positions, widths, CSS class names
from a fixed list); ``reports/swimlanes.svg.j2`` only draws them. Lane states come from the
timelines frame (:data:`evtxmpio.timeline.TIMELINE_COLUMNS`); markers from the analysis frame:
failovers, failed I/O and delayed-write failures. Markers that fall on the same pixel of the
same lane are drawn once with a count, so 10,000 events stay a small picture.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio.catalog import event_group
from evtxmpio.catalog.cluster import cluster_event, provider_name
from evtxmpio.report.axis import AxisBreak, Tick, TimeAxis, build_axis, duration_text

LABEL_W = 210.0
PLOT_W = 940.0
RIGHT_W = 14.0
TOP_H = 50.0
LANE_H = 20.0
LANE_STEP = 24.0
HOST_H = 24.0
BOTTOM_H = 12.0
MAX_LANES = 150
MAX_TITLE = 220
FAILOVER_NAMES = event_group("failover")
IO_ERROR_NAMES = event_group("io-error")
CLUSTER_PREFIX = provider_name().lower() + ":"
UNNAMED_HOST = "(no host name: trace export)"
NOT_DRAWN = ("ABSENT",)  # a disk that does not exist yet has no bar
STATE_CLASS = {"NORMAL": "normal", "active": "normal", "restored": "normal", "IN_FO": "in-fo",
               "FAILOVER": "in-fo", "WAIT1": "wait", "WAIT2": "wait", "WAIT3": "wait",
               "DEGRADED": "degraded", "failed": "failed", "REMOVED": "removed",
               "removed": "path-removed",  # a path's "removed" is not a disk's REMOVED
               "unknown": "unknown"}  # a path after the last evidence of its state


@dataclass(frozen=True, slots=True)
class Span:
    """A state held by a lane from ``x`` for ``width`` pixels; ``css`` is from STATE_CLASS."""

    x: float
    width: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A failover / io-error / delayed-write mark at (x, y), linking to its finding."""

    x: float
    y: float
    kind: str
    title: str
    href: str | None
    count: int


@dataclass(frozen=True, slots=True)
class Lane:
    """One row: an MPIO disk, a Path ID, or a host's other events."""

    label: str
    sublabel: str
    kind: str
    y: float
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class HostBand:
    """The header row of one host's lanes."""

    label: str
    y: float


@dataclass(frozen=True, slots=True)
class SwimLanes:
    """The whole picture (SVG user units); see the module docstring."""

    width: float
    height: float
    plot_x0: float
    plot_x1: float
    axis_y: float
    hosts: tuple[HostBand, ...]
    lanes: tuple[Lane, ...]
    markers: tuple[Marker, ...]
    ticks: tuple[Tick, ...]
    breaks: tuple[AxisBreak, ...]
    lanes_hidden: int
    axis_note: str


@dataclass(frozen=True, slots=True)
class _Mark:
    time_ns: int
    host: str
    disk: int | None
    path: int | None
    kind: str
    title: str
    row: int


def marker_kind(name: str, status: Any = None) -> str | None:
    """``failover``, ``io-error``, ``delayed-write``, ``cluster`` (what a Failover Clustering
    event says an incident cost) or ``None`` for an event name."""
    lowered = name.lower()
    if lowered.startswith(CLUSTER_PREFIX):
        event = cluster_event(int(lowered[len(CLUSTER_PREFIX):] or -1)) \
            if lowered[len(CLUSTER_PREFIX):].isdigit() else None
        return "cluster" if event is not None and event.is_impact else None
    if name in FAILOVER_NAMES:
        return "failover"
    if lowered in event_group("delayed-write"):
        return "delayed-write"
    if lowered in IO_ERROR_NAMES:
        return "io-error"
    if name == "MPIO:IoComplete" and status is not None and not pd.isna(status) and int(status):
        return "io-error"
    return None


def _marks(events: pd.DataFrame) -> list[_Mark]:
    if events.empty or "name" not in events:
        return []
    marks = []
    columns = ["time", "host", "mpio_disk", "path_id", "name", "status", "event_id", "provider",
               "message", "file"]
    for row, time, host, disk, path, name, status, event_id, provider, message, file in events[
            columns].itertuples(name=None):
        kind = None if pd.isna(name) or pd.isna(time) else marker_kind(str(name), status)
        if kind is None or (kind == "delayed-write" and pd.isna(file)):
            continue
        text = "" if pd.isna(message) else str(message)
        title = f"{time.strftime('%Y-%m-%d %H:%M:%S')} {provider} {event_id}: {text}"
        marks.append(_Mark(time.value, str(host), None if pd.isna(disk) else int(disk),
                           None if pd.isna(path) else int(path), kind, title[:MAX_TITLE], row))
    return marks


def _lane_keys(timelines: pd.DataFrame, events: pd.DataFrame, marks: list[_Mark]
               ) -> list[tuple[str, str, int | None]]:
    keys: set[tuple[str, str, int | None]] = set()
    for host, scope, key in timelines[["host", "scope", "key"]].itertuples(index=False, name=None):
        keys.add((str(host), str(scope), int(key)))
    disks = events[["host", "mpio_disk"]].dropna() if len(events) else events
    for host, disk in disks.itertuples(index=False, name=None):
        keys.add((str(host), "disk", int(disk)))
    for mark in marks:
        if mark.kind == "cluster":
            keys.add((mark.host, "cluster", None))
        elif mark.disk is None or (mark.host, "disk", mark.disk) not in keys:
            keys.add((mark.host, "other", None))
    order = {"disk": 0, "path": 1, "cluster": 2, "other": 3}
    return sorted(keys, key=lambda k: (k[0], order[k[1]], -1 if k[2] is None else k[2]))


def _spans(axis: TimeAxis, label: str, rows: pd.DataFrame) -> tuple[Span, ...]:
    spans: list[Span] = []
    times = [t.value for t in rows["time"]]
    for number, (time_ns, from_state, to_state) in enumerate(zip(
            times, rows["from_state"], rows["to_state"], strict=True)):
        if number == 0 and from_state not in (to_state, *NOT_DRAWN):
            spans.append(_span(axis, label, str(from_state), axis.start_ns, time_ns, "assumed"))
        end = times[number + 1] if number + 1 < len(times) else axis.end_ns
        spans.append(_span(axis, label, str(to_state), time_ns, end, ""))
    return tuple(spans)


def _span(axis: TimeAxis, label: str, state: str, start: int, end: int, extra: str) -> Span:
    x0, x1 = axis.x(start), axis.x(end)
    css = f"st-{STATE_CLASS.get(state, 'other')}" + (f" {extra}" if extra else "")
    when = pd.Timestamp(start, tz="UTC").strftime("%Y-%m-%d %H:%M:%S")
    title = f"{label}: {state} from {when} UTC for {duration_text(end - start)}"
    return Span(round(x0, 1), round(max(x1 - x0, 1.0), 1), css, title[:MAX_TITLE])


def _label(scope: str, key: int | None) -> str:
    if scope == "disk":
        return f"MPIODisk{key}"
    if scope == "path":
        return f"Path 0x{key:08x}"
    if scope == "cluster":
        return "cluster (CSV, roles, nodes)"
    return "other (iSCSI, disk, Ntfs)"


def build_swimlanes(events: pd.DataFrame, timelines: pd.DataFrame,
                    anchors: Mapping[int, str], outcomes: Mapping[tuple[str, int], str]
                    ) -> SwimLanes | None:
    """The picture of a case, or ``None`` when there is nothing to draw.

    Args:
        events: the analysis frame.
        timelines: the case's disk and path transitions.
        anchors: event row -> link target (a finding's anchor) for markers.
        outcomes: (host, MPIO disk) -> per-LUN outcome, shown under the disk's label.
    """
    marks = _marks(events)
    times = [t.value for t in timelines["time"]] + [m.time_ns for m in marks]
    axis = build_axis(times, LABEL_W, PLOT_W)
    if axis is None:
        return None
    keys = _lane_keys(timelines, events, marks)
    shown, hidden = keys[:MAX_LANES], len(keys) - min(len(keys), MAX_LANES)
    hosts, lanes, lane_y = _place_lanes(axis, timelines, shown, outcomes)
    height = (max(lane_y.values()) + LANE_STEP if lane_y else TOP_H) + BOTTOM_H
    return SwimLanes(
        width=LABEL_W + PLOT_W + RIGHT_W, height=height, plot_x0=LABEL_W,
        plot_x1=LABEL_W + PLOT_W, axis_y=TOP_H - 6, hosts=tuple(hosts), lanes=tuple(lanes),
        markers=tuple(_place_marks(axis, marks, lane_y, anchors)), ticks=tuple(axis.ticks()),
        breaks=axis.breaks, lanes_hidden=hidden, axis_note=_axis_note(axis))


def _axis_note(axis: TimeAxis) -> str:
    if not axis.breaks:
        return "Linear time axis (UTC)."
    return (f"Time axis (UTC) with {len(axis.breaks)} break(s): quiet gaps longer than 5 "
            "minutes are cut out and labelled with their length.")


def _place_lanes(axis: TimeAxis, timelines: pd.DataFrame,
                 keys: Iterable[tuple[str, str, int | None]],
                 outcomes: Mapping[tuple[str, int], str]
                 ) -> tuple[list[HostBand], list[Lane], dict[tuple[str, str, int | None], float]]:
    hosts: list[HostBand] = []
    lanes: list[Lane] = []
    lane_y: dict[tuple[str, str, int | None], float] = {}
    y = TOP_H
    groups = {k: g for k, g in timelines.groupby(["host", "scope", "key"], sort=False)}
    for host, scope, key in keys:
        if not hosts or hosts[-1].label != host:
            hosts.append(HostBand(host or UNNAMED_HOST, y))
            y += HOST_H
        rows = groups.get((host, scope, key))
        label = _label(scope, key)
        spans = _spans(axis, label, rows) if rows is not None else ()
        sublabel = outcomes.get((host, key), "") if scope == "disk" and key is not None else ""
        lanes.append(Lane(label, sublabel, scope, y, spans))
        lane_y[(host, scope, key)] = y
        y += LANE_STEP
    return hosts, lanes, lane_y


def _place_marks(axis: TimeAxis, marks: list[_Mark],
                 lane_y: Mapping[tuple[str, str, int | None], float],
                 anchors: Mapping[int, str]) -> list[Marker]:
    merged: dict[tuple[float, str, float], list[_Mark]] = {}
    for mark in marks:
        targets = [(mark.host, "disk", mark.disk)] if mark.disk is not None else []
        if mark.kind == "cluster":
            targets = [(mark.host, "cluster", None)]
        if mark.kind == "failover" and mark.path is not None:
            targets.append((mark.host, "path", mark.path))
        targets = [t for t in targets if t in lane_y] or [(mark.host, "other", None)]
        for target in targets:
            if target not in lane_y:
                continue  # lane beyond MAX_LANES: counted in lanes_hidden
            key = (lane_y[target] + LANE_H / 2, mark.kind, round(axis.x(mark.time_ns)))
            merged.setdefault(key, []).append(mark)
    markers = []
    for (y, kind, _), group in merged.items():
        first = group[0]
        title = first.title if len(group) == 1 else f"{len(group)} events; first: {first.title}"
        href = next((anchors[m.row] for m in group if m.row in anchors), None)
        if href is None and kind == "delayed-write":
            href = "delayed-writes"
        markers.append(Marker(round(axis.x(first.time_ns), 1), y, kind, title[:MAX_TITLE], href,
                              len(group)))
    return sorted(markers, key=lambda m: (m.y, m.x, m.kind))
