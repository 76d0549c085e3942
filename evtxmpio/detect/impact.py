"""What a storage incident cost a failover cluster, attributed only where the logs prove it.

Every Failover Clustering impact event (``catalog/cluster.yaml``: CSV paused or inaccessible,
resource failed, role moved or failed, node removed, quorum lost, disk ownership lost) becomes
an :class:`Impact`. It is attributed to an MPIO disk's incident only when the chain of records
(:mod:`.impact_chain`: MPIO disk, disk number, cluster disk resource, CSV, role) reaches that
disk and the event falls inside the incident (from its first failure to ``WINDOW`` after its
end, on the cluster's merged clock). Otherwise it is listed with the reason and the incidents
that were under way (candidates). A name is never matched to an MPIO disk by its spelling:
"Cluster Disk 2" says nothing about MPIODisk2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from evtxmpio.catalog.cluster import cluster_event, short_name
from evtxmpio.detect.engine import Finding
from evtxmpio.detect.impact_chain import Incident, Links, build_links, storage_incidents
from evtxmpio.detect.luns import LunOutcome
from evtxmpio.model import cluster_rows
from evtxmpio.timearith import shift
from evtxmpio.timeline.cluster_clock import Cluster

WINDOW = pd.Timedelta(seconds=120)
EARLY = pd.Timedelta(milliseconds=500)
NETWORK = frozenset({1126, 1127, 1129, 1130})
CASCADE_KINDS = frozenset({"csv-paused", "csv-inaccessible", "resource-failed",
                           "disk-ownership-lost", "quorum-lost", "role-failed"})


@dataclass(frozen=True, slots=True)
class Impact:
    """One cluster impact event and what caused it.

    Attributes:
        host: the node that logged it.
        kind: ``csv-paused`` ... (``catalog/cluster.yaml``).
        name: the CSV, resource, role or node it is about (``None`` for quorum loss).
        time: when, on the cluster's merged clock.
        row: its row in the analysis frame.
        incident: the storage incident it is attributed to, or ``None``.
        reason: why it is (or is not) attributed, one sentence.
        chain: rows of the records that link it to the incident.
        candidates: incidents under way when it happened (when not attributed).
        node: the node a role moved to (role-moved), else ``None``.
    """

    host: str
    kind: str
    name: str | None
    time: pd.Timestamp
    row: int
    incident: Incident | None
    reason: str
    chain: tuple[int, ...] = ()
    candidates: tuple[Incident, ...] = ()
    node: str | None = None


def attribute_impact(events: pd.DataFrame, timelines: pd.DataFrame, luns: list[LunOutcome],
                     findings: list[Finding], clusters: Iterable[Cluster] = ()) -> list[Impact]:
    """Every impact event of the case, attributed or listed with its reason (time order)."""
    rows = cluster_rows(events)
    if rows.empty:
        return []
    incidents = storage_incidents(timelines, luns, findings, events)
    context = _Context(events, build_links(events), incidents,
                       {n: c.nodes for c in clusters for n in c.nodes})
    impacts: list[Impact] = []
    for row in rows.sort_values("time", kind="mergesort").index:
        event = cluster_event(_int(events.at[row, "event_id"]))
        if event is None or not event.is_impact or pd.isna(events.at[row, "time"]):
            continue
        impacts.append(context.judge(row, event.kind, impacts))
    return impacts


def _int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[arg-type]


def _text(value: object) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


class _Context:
    """The case's links, incidents and clusters, and the judgement of one impact event."""

    def __init__(self, events: pd.DataFrame, links: Links, incidents: list[Incident],
                 peers: dict[str, tuple[str, ...]]) -> None:
        self.events, self.links, self.incidents, self.peers = events, links, incidents, peers
        network = cluster_rows(events)
        self.network = network.loc[network["event_id"].isin(NETWORK), "time"].dropna()
        self.hosts = {short_name(str(h)): str(h) for h in events["host"].dropna()}

    def nodes(self, host: str) -> tuple[str, ...]:
        """``host`` first, then the other nodes of its cluster."""
        return (host, *(n for n in self.peers.get(host, ()) if n != host))

    def open_incidents(self, time: pd.Timestamp, hosts: Iterable[str]) -> tuple[Incident, ...]:
        """Incidents of ``hosts`` under way at ``time`` (start - EARLY .. end + WINDOW)."""
        wanted = set(hosts)
        return tuple(i for i in self.incidents if i.host in wanted
                     and shift(i.start, -EARLY) <= time <= shift(i.end, WINDOW))

    def judge(self, row: int, kind: str, earlier: list[Impact]) -> Impact:
        """The :class:`Impact` of the event in ``row``."""
        get = self.events.at
        host, time = str(get[row, "host"]), get[row, "time"]
        name = {"csv-paused": "volume", "csv-inaccessible": "volume", "role-moved": "trigger",
                "role-failed": "trigger", "node-removed": "target"}.get(kind, "device")
        base = Impact(host, kind, None if kind == "quorum-lost" else _text(get[row, name]),
                      time, row, None, "", node=_text(get[row, "target"])
                      if kind == "role-moved" else None)
        if kind in ("node-removed", "quorum-lost"):
            return self._cascade(base, earlier)
        resources = self._resources(row, kind)
        if not resources:
            return self._unlinked(base, f"no record links {_what(base)} to a cluster disk "
                                        "resource")
        return self._through_resources(base, resources)

    def _resources(self, row: int, kind: str) -> dict[str, list[int]]:
        """Cluster resources the event is about, with the rows that say so."""
        device = _text(self.events.at[row, "device"])
        if kind.startswith("role-"):
            role = _text(self.events.at[row, "trigger"]) or ""
            return {r: [link] for r, link in self.links.role_to_resource.get(role, {}).items()}
        if device:
            return {device: []}
        volume = _text(self.events.at[row, "volume"]) or ""  # a CSV event without its resource
        return {r: [link] for r, link in self.links.csv_to_resource.get(volume, {}).items()}

    def _through_resources(self, impact: Impact, resources: dict[str, list[int]]) -> Impact:
        for resource, first_rows in sorted(resources.items()):
            for node in self.nodes(impact.host):
                for mpio, chain in self.links.mpio_disks(node, resource):
                    found = [i for i in self.open_incidents(impact.time, [node])
                             if i.mpio_disk == mpio]
                    if found:
                        return _attributed(impact, found[0], (*first_rows, *chain),
                                           f"'{resource}' is MPIODisk{mpio} on {node}")
        backed = [(n, m) for r in resources for n in self.nodes(impact.host)
                  for m, _ in self.links.mpio_disks(n, r)]
        if backed:
            disks = ", ".join(f"MPIODisk{m} on {n}" for n, m in backed)
            return self._unlinked(impact, f"{_what(impact)} is backed by {disks}, which had "
                                          "no storage incident at that time")
        names = ", ".join(f"'{r}'" for r in sorted(resources))
        return self._unlinked(impact, f"the logs do not say which MPIO disk backs {names}")

    def _cascade(self, impact: Impact, earlier: list[Impact]) -> Impact:
        """Node removal and quorum loss: caused by storage only when the node concerned had
        an attributed storage impact in the incident's window and no network failure was
        logged meanwhile."""
        node = self.hosts.get(short_name(impact.name or ""), impact.host) \
            if impact.kind == "node-removed" else impact.host
        causes = [e for e in earlier if e.host == node and e.incident is not None
                  and e.kind in CASCADE_KINDS and e.time <= impact.time
                  and impact.time <= shift(e.incident.end, WINDOW)]
        if not causes:
            return self._unlinked(impact, f"no storage impact on {node} led up to it")
        cause = causes[-1]
        assert cause.incident is not None
        since = self.network.loc[(self.network >= shift(cause.incident.start, -WINDOW))
                                 & (self.network <= impact.time)]
        if len(since):
            return self._unlinked(impact, "a cluster network failure was logged meanwhile, "
                                          "so storage alone does not explain it")
        return _attributed(impact, cause.incident, (cause.row, *cause.chain),
                           f"it follows {cause.kind} of {_what(cause)} on {node}")

    def _unlinked(self, impact: Impact, reason: str) -> Impact:
        candidates = self.open_incidents(impact.time, self.nodes(impact.host))
        if not candidates:
            reason += "; no storage incident was under way"
        return Impact(impact.host, impact.kind, impact.name, impact.time, impact.row, None,
                      reason, (), candidates, impact.node)


def _attributed(impact: Impact, incident: Incident, chain: tuple[int, ...], why: str
                ) -> Impact:
    reason = f"{why}; {impact.kind} came {_timing(impact, incident, always_host=True)}"
    return Impact(impact.host, impact.kind, impact.name, impact.time, impact.row, incident,
                  reason, tuple(dict.fromkeys(chain)), (), impact.node)


def _what(impact: Impact) -> str:
    noun = {"csv-paused": "CSV", "csv-inaccessible": "CSV", "role-moved": "role",
            "role-failed": "role", "node-removed": "node"}.get(impact.kind, "resource")
    return f"{noun} '{impact.name}'" if impact.name else "it"


@dataclass(frozen=True, slots=True)
class IncidentCost:
    """What one storage incident cost, in one sentence, with the impacts it sums up."""

    incident: Incident
    sentence: str
    impacts: tuple[Impact, ...]


_CLAUSES = {
    "csv-paused": "CSV {name} paused on {host}",
    "csv-inaccessible": "CSV {name} became inaccessible on {host}",
    "resource-failed": "resource '{name}' failed on {host}",
    "disk-ownership-lost": "{host} lost ownership of '{name}'",
    "role-moved": "role {name} moved to {node}",
    "role-failed": "role {name} failed on {host}",
    "node-removed": "node {name} was removed from the cluster",
    "quorum-lost": "{host} lost quorum",
}


def incident_costs(impacts: Iterable[Impact]) -> list[IncidentCost]:
    """One sentence per incident with attributed impacts, e.g. ``CSV Volume1 paused on NODE-A
    0.4 s after MPIODisk2 was torn down; role VM-SQL01 moved to NODE-B.``"""
    groups: dict[Incident, list[Impact]] = {}
    for impact in impacts:
        if impact.incident is not None:
            groups.setdefault(impact.incident, []).append(impact)
    costs = []
    for incident, group in groups.items():
        hosts: dict[tuple[str, str | None, str | None], list[str]] = {}
        for impact in group:  # one clause per (kind, name, node), naming every node that said it
            hosts.setdefault((impact.kind, impact.name, impact.node), [])
            if impact.host not in hosts[(impact.kind, impact.name, impact.node)]:
                hosts[(impact.kind, impact.name, impact.node)].append(impact.host)
        clauses = [_clause(kind, name, node, " and ".join(where))
                   for (kind, name, node), where in hosts.items()]
        first = f"{clauses[0]} {_timing(group[0], incident)}"
        sentence = "; ".join([first[:1].upper() + first[1:], *clauses[1:]]) + "."
        costs.append(IncidentCost(incident, sentence, tuple(group)))
    return sorted(costs, key=lambda c: (c.incident.start, c.incident.host,
                                        c.incident.mpio_disk))


def _clause(kind: str, name: str | None, node: str | None, hosts: str) -> str:
    return _CLAUSES[kind].format(name=name or "?", host=hosts,
                                 node="another node" if node is None else node)


def _timing(impact: Impact, incident: Incident, always_host: bool = False) -> str:
    disk = f"MPIODisk{incident.mpio_disk}" + (
        f" on {incident.host}" if always_host or incident.host != impact.host else "")
    if incident.torn_down and impact.time >= incident.end:
        return f"{_seconds(impact.time - incident.end)} after {disk} was torn down"
    return f"{_seconds(impact.time - incident.start)} after {disk} began failing over"


def _seconds(delta: pd.Timedelta) -> str:
    value = max(delta.total_seconds(), 0.0)
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"
