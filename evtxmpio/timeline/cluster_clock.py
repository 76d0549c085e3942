"""Nodes of one failover cluster, and every node on one clock.

Hosts are nodes of one cluster when their logs say so (docs/failover-clustering.md section 4):
they name the same cluster (FailoverClustering 1061/1062), the same Cluster Shared Volume or
cluster resource, one names the other as a cluster node (1135, 1153, 1641, 1126/1127), or they
log the same Path IDs on the same MPIO disks. Each node keeps its own host key: nothing here
joins two hosts' events, it only says which hosts belong together and how their clocks differ.

Clock offsets come from cluster events both nodes log for one moment: the same event id about
the same CSV, resource, role and node within ``PAIR_WINDOW``. The offset of a node is the median
of its differences to the reference node (the cluster's first node by name); with at least
``MIN_PAIRS`` pairs and beyond ``TOLERANCE`` the node's events are shifted onto the reference
clock. Without a pair the offset is unknown (never assumed zero) and nothing is shifted.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from evtxmpio.catalog.cluster import cluster_event, short_name
from evtxmpio.model import cluster_rows
from evtxmpio.timearith import shift_all

PAIR_WINDOW = pd.Timedelta(seconds=2)
TOLERANCE = pd.Timedelta(milliseconds=1)
MIN_PAIRS = 1
NODE_NAMING = frozenset({1135, 1153, 1641, 1126, 1127})
CLUSTER_NAMING = frozenset({1061, 1062})
PAIR_KEY = ["event_id", "volume", "device", "trigger", "target"]


@dataclass(frozen=True, slots=True)
class NodeClock:
    """One node's clock against its cluster's reference node.

    Attributes:
        host: the node.
        offset: its clock minus the reference clock (``None``: unknown, no shared event).
        pairs: events matched with the reference node.
        spread: largest distance of a pair's difference from the median.
        applied: whether its events were shifted by ``-offset``.
    """

    host: str
    offset: pd.Timedelta | None
    pairs: int
    spread: pd.Timedelta | None
    applied: bool


@dataclass(frozen=True, slots=True)
class Cluster:
    """Hosts recognised as nodes of one failover cluster.

    Attributes:
        name: the cluster's name when a node logged it (1061/1062), else ``None``.
        nodes: host names, sorted; ``nodes[0]`` is the clock reference.
        evidence: why they belong together, one short text per link.
        clocks: one per node (the reference's offset is zero).
    """

    name: str | None
    nodes: tuple[str, ...]
    evidence: tuple[str, ...]
    clocks: tuple[NodeClock, ...]

    @property
    def reference(self) -> str:
        """The node whose clock the others are put on."""
        return self.nodes[0]


class _Groups:
    """Union-find over host names, remembering why two hosts were joined."""

    def __init__(self, hosts: list[str]) -> None:
        self.parent = {host: host for host in hosts}
        self.evidence: dict[str, list[str]] = {}

    def find(self, host: str) -> str:
        while self.parent[host] != host:
            host = self.parent[host]
        return host

    def link(self, first: str, second: str, why: str) -> None:
        if first != second:
            self.parent[self.find(second)] = self.find(first)
            self.evidence.setdefault(first, []).append(why)

    def groups(self) -> list[tuple[list[str], list[str]]]:
        """``(members, evidence)`` of each group of two or more hosts."""
        groups: dict[str, list[str]] = {}
        for host in sorted(self.parent):
            groups.setdefault(self.find(host), []).append(host)
        return [(members, sorted({t for m in members for t in self.evidence.get(m, [])}))
                for members in groups.values() if len(members) > 1]


def recognise_clusters(frame: pd.DataFrame) -> list[tuple[str | None, list[str], list[str]]]:
    """``(cluster name, nodes, evidence)`` for every group of two or more linked hosts."""
    hosts = sorted({str(h) for h in frame["host"].dropna().unique()} - {""})
    if len(hosts) < 2:
        return []
    groups = _Groups(hosts)
    rows = cluster_rows(frame)
    names = _link_shared_names(rows, groups.link)
    by_short = {short_name(h): h for h in hosts}
    named = rows.loc[rows["event_id"].isin(NODE_NAMING)].dropna(subset=["target"])
    for host, target in named[["host", "target"]].itertuples(index=False, name=None):
        other = by_short.get(short_name(str(target)))
        if other is not None and other != host:
            groups.link(str(host), other, f"{host} names {other} as a cluster node")
    _link_shared_paths(frame, groups.link)
    result = [(next((names[m] for m in members if m in names), None), members, why)
              for members, why in groups.groups()]
    return sorted(result, key=lambda item: item[1])


def _link_shared_names(rows: pd.DataFrame, link: Callable[[str, str, str], None]
                       ) -> dict[str, str]:
    """Link hosts naming the same cluster, CSV or cluster resource; return host -> cluster."""
    names: dict[str, str] = {}
    for key, what in ((CLUSTER_NAMING, "cluster"), (None, "volume"), (None, "device")):
        column = "target" if what == "cluster" else what
        subset = rows.loc[rows["event_id"].isin(key)] if key else rows
        subset = subset.dropna(subset=[column])
        # Cluster, CSV and resource names compare case-insensitively, as Windows does.
        for _, group in subset.groupby(subset[column].str.casefold()):
            members = sorted(set(group["host"].astype(str)) - {""})
            value = str(group[column].iloc[0])
            if what == "cluster" and members:
                names.update(dict.fromkeys(members, value))
            for other in members[1:]:
                link(members[0], other, f"both name the {_noun(what)} '{value}'")
    return names


def _noun(what: str) -> str:
    return {"cluster": "cluster", "volume": "Cluster Shared Volume",
            "device": "cluster resource"}[what]


def _link_shared_paths(frame: pd.DataFrame, link: Callable[[str, str, str], None]) -> None:
    """Hosts with the same (MPIO disk, Path ID) layout see the same LUNs the same way."""
    with_path = frame["path_id"].notna().to_numpy(dtype=bool).nonzero()[0]
    pairs = frame[["host", "mpio_disk", "path_id"]].iloc[with_path].dropna()
    layouts: dict[frozenset[tuple[int, int]], list[str]] = {}
    for host, group in pairs.groupby("host"):
        layout = frozenset(zip(group["mpio_disk"].astype(int), group["path_id"].astype(int),
                               strict=True))
        if len(layout) >= 2:
            layouts.setdefault(layout, []).append(str(host))
    for members in layouts.values():
        for other in sorted(members)[1:]:
            link(sorted(members)[0], other, "the same Path IDs on the same MPIO disks")


def _differences(rows: pd.DataFrame, reference: str, node: str) -> list[pd.Timedelta]:
    """Time of ``node`` minus time of ``reference`` for each event both logged."""
    keyed = rows.assign(**{c: rows[c].astype("string").fillna("") for c in PAIR_KEY[1:]})
    ours = keyed.loc[keyed["host"] == reference]
    theirs = keyed.loc[keyed["host"] == node]
    diffs = []
    for key, group in theirs.groupby(PAIR_KEY):
        event = cluster_event(int(key[0]))
        if event is None or not event.is_impact:
            continue
        match = ours
        for column, value in zip(PAIR_KEY, key, strict=True):
            match = match.loc[match[column] == value]
        for time in group["time"].dropna():
            close = match["time"].dropna()
            close = close.loc[(close - time).abs() <= PAIR_WINDOW]
            if len(close):
                diffs.append(time - close.loc[(close - time).abs().idxmin()])
    return diffs


def align_cluster_clocks(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Cluster]]:
    """Recognise the clusters of a case and put each node on its cluster's reference clock.

    Returns the frame (times of shifted nodes moved by ``-offset``) and the clusters with
    their node clocks.
    """
    clusters = []
    times = frame["time"].copy()
    rows = cluster_rows(frame)
    for name, nodes, evidence in recognise_clusters(frame):
        clocks = [NodeClock(nodes[0], pd.Timedelta(0), 0, None, False)]
        for node in nodes[1:]:
            diffs = _differences(rows, nodes[0], node)
            if not diffs:
                clocks.append(NodeClock(node, None, 0, None, False))
                continue
            offset = pd.Timedelta(int(statistics.median(d.value for d in diffs)))
            spread = max(abs(d - offset) for d in diffs)
            applied = len(diffs) >= MIN_PAIRS and abs(offset) > TOLERANCE
            if applied:
                mask = frame["host"] == node
                times.loc[mask] = shift_all(frame.loc[mask, "time"], -offset)
            clocks.append(NodeClock(node, offset, len(diffs), spread, applied))
        clusters.append(Cluster(name, tuple(nodes), tuple(evidence), tuple(clocks)))
    if not any(clock.applied for cluster in clusters for clock in cluster.clocks):
        return frame, clusters
    return frame.assign(time=times), clusters
