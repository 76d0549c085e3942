"""The Failover Clustering events a cluster's storage outcome implies (rules: ``cluster.py``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from evtxmpio.replay.cluster import (
    MS,
    SECOND,
    Caused,
    ClusterLun,
    ClusterSpec,
    cluster_record,
    disk_retry_with_pdo,
    short,
)

if TYPE_CHECKING:
    from evtxmpio.replay.events import SystemEvent
    from evtxmpio.replay.model import ModelResult
    from evtxmpio.replay.workload import Workload


JOINED_AFTER = 20 * SECOND
"""When each node logs 1062 (joined the cluster) after the boot that opens its log."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One node's MPIO disk of one cluster LUN: when it failed over, when it was torn down."""

    host: str
    mpio_disk: int
    failed_ns: int | None
    removed_ns: int | None


def outcomes(workload: Workload, model: ModelResult) -> dict[tuple[str, int], Outcome]:
    """(host, lun) -> :class:`Outcome` from the model's disk transitions."""
    found = {}
    for host in workload.hosts:
        for lun in host.luns:
            moves = model.transitions(host.name, lun.mpio_disk) \
                if lun.mpio_disk in model.hosts[host.name].disks else []
            failed = next((t for t, _, new in moves if new != "NORMAL"), None)
            removed = next((t for t, _, new in moves if new == "REMOVED"), None)
            found[(host.name, lun.lun)] = Outcome(host.name, lun.mpio_disk, failed, removed)
    return found


def caused_events(workload: Workload, spec: ClusterSpec, model: ModelResult) -> list[Caused]:
    """Every cluster event of every node, on true time, with its cause."""
    seen = outcomes(workload, model)
    events: list[Caused] = []
    for (host, lun), outcome in sorted(seen.items()):
        if outcome.failed_ns is not None and any(c.lun == lun for c in spec.luns):
            number = spec.disk_numbers[(host, lun)]
            events.append(Caused(disk_retry_with_pdo(outcome.failed_ns + 10 * MS, host, number,
                                                     outcome.mpio_disk), "chain", None, None))
    for node in sorted({host for host, _ in seen}):  # the Cluster service joins after boot
        events.append(Caused(cluster_record(workload.start_ns + JOINED_AFTER, node, 1062,
                                            (spec.name,)), "cluster-name", spec.name, None))
    for cluster_lun in spec.luns:
        events += _owner_lost(spec, cluster_lun, seen)
    events += _node_removed(spec, seen)
    return sorted(events, key=lambda c: (c.event.time_ns, c.event.computer, c.event.event_id))


def _nodes(seen: dict[tuple[str, int], Outcome], lun: int) -> list[str]:
    return sorted(host for host, number in seen if number == lun)


def _owner_lost(spec: ClusterSpec, lun: ClusterLun, seen: dict[tuple[str, int], Outcome]
                ) -> list[Caused]:
    owner = seen[(lun.owner, lun.lun)]
    if owner.removed_ns is None:
        return []
    at, cause = owner.removed_ns, (lun.owner, owner.mpio_disk)
    number = spec.disk_numbers[(lun.owner, lun.lun)]
    out = [Caused(cluster_record(at + 200 * MS, lun.owner, 1792, (
        lun.resource, str(number), "{5d4e0b8f-1c2a-4c3b-9e1f-0a1b2c3d4e5f}", "21",
        "The device is not ready.")), "chain", lun.resource, cause)]
    nodes = _nodes(seen, lun.lun)
    alive = [n for n in nodes if seen[(n, lun.lun)].removed_ns is None
             or seen[(n, lun.lun)].removed_ns > at + SECOND]
    if lun.csv:
        for index, node in enumerate(nodes):
            pause = at + 400 * MS + 3 * MS * index
            out.append(Caused(cluster_record(pause, node, 5120, (
                lun.csv, lun.resource, "STATUS_IO_TIMEOUT(c00000b5)")),
                "csv-paused", lun.csv, cause))
            if not alive:
                out.append(Caused(cluster_record(pause + 10 * SECOND, node, 5142, (
                    lun.csv, lun.resource, "(1460)")), "csv-inaccessible", lun.csv, cause))
    for role in lun.roles:
        resource, kind = ((f"Virtual Machine {role}", "Virtual Machine") if lun.csv
                          else (lun.resource, "Physical Disk"))
        out.append(Caused(cluster_record(at + 800 * MS, lun.owner, 1069, (
            resource, role, kind, "The device is not ready.", "0x15")),
            "resource-failed", resource, cause))
        target = next((n for n in alive if n != lun.owner), None)
        if target is None:
            out.append(Caused(cluster_record(at + SECOND, lun.owner, 1205, (role,)),
                              "role-failed", role, cause))
            continue
        out.append(Caused(cluster_record(at + SECOND, lun.owner, 1153, (
            role, short(lun.owner), short(target))), "role-moved", role, cause))
        out.append(Caused(cluster_record(at + 3 * SECOND, target, 1201, (role,)),
                          "context", role, cause))
    return out


def _node_removed(spec: ClusterSpec, seen: dict[tuple[str, int], Outcome]) -> list[Caused]:
    """The first node to lose every cluster LUN; every other node logs 1135 for it."""
    lost = {}
    for node in sorted({host for host, _ in seen}):
        mine = [seen[(node, c.lun)] for c in spec.luns if (node, c.lun) in seen]
        if mine and all(o.removed_ns is not None for o in mine):
            last = max(mine, key=lambda o: o.removed_ns or 0)
            lost[node] = last
    if not lost:
        return []
    node, last = min(lost.items(), key=lambda item: (item[1].removed_ns, item[0]))
    assert last.removed_ns is not None
    at = last.removed_ns + round(spec.node_removal_s * SECOND)
    others = sorted({host for host, _ in seen} - {node})
    return [Caused(cluster_record(at + 2 * MS * index, other, 1135, (short(node),)),
                   "node-removed", short(node), (node, last.mpio_disk))
            for index, other in enumerate(others)]


def node_events(workload: Workload, spec: ClusterSpec, model: ModelResult, host: str
                ) -> list[SystemEvent]:
    """The cluster events of ``host``'s System log, on true time (the caller adds its skew)."""
    return [c.event for c in caused_events(workload, spec, model) if c.event.computer == host]


def cluster_truth(workload: Workload, spec: ClusterSpec, model: ModelResult) -> dict:
    """The ``cluster`` part of the ground truth: nodes, clock offsets, impacts and causes."""
    impacts = []
    for caused in caused_events(workload, spec, model):
        if caused.kind in ("chain", "context", "cluster-name"):
            continue
        impacts.append({
            "host": caused.event.computer, "kind": caused.kind, "name": caused.name,
            "event_id": caused.event.event_id, "time_ns": caused.event.time_ns,
            "attributed_to": None if caused.cause is None else {
                "host": caused.cause[0], "mpio_disk": caused.cause[1]}})
    return {"name": spec.name, "nodes": sorted(h.name for h in workload.hosts),
            "clock_offsets_s": {h.name: spec.clock_offset_ns(h.name) / SECOND
                                for h in workload.hosts},
            "impact": impacts}


def skewed(event: SystemEvent, offset_ns: int) -> SystemEvent:
    """``event`` as a node whose clock is ``offset_ns`` off logs it."""
    return replace(event, time_ns=event.time_ns + offset_ns) if offset_ns else event
