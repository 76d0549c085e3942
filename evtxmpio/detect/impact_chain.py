"""The chain from an MPIO disk to a cluster's names, as the logs state it (no name guessing).

docs/failover-clustering.md section 3. Each link is a record that names both ends:

* disk number M <-> MPIO disk N on one host: a ``disk`` 153/154 whose PDO is
  ``\\Device\\MPIODiskN`` (``disk_number`` and ``mpio_disk`` both set);
* cluster resource R <-> disk number M on one host: FailoverClustering 1792-1795;
* CSV V <-> resource R in one cluster: 5120/5142 name both;
* role G <-> resource R in one cluster: 1069 names both.

Storage incidents are the MPIO disks that left NORMAL (their timeline), each with the most
severe finding about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.detect.engine import SEVERITY_RANK, Finding
from evtxmpio.detect.luns import LunOutcome
from evtxmpio.model import cluster_rows

CSV_NAMING = frozenset({5120, 5142})
ROLE_NAMING = frozenset({1069})
DISK_NAMING = frozenset({1792, 1793, 1794, 1795})


@dataclass(frozen=True, slots=True)
class Incident:
    """An MPIO disk of one host that failed over or was torn down.

    Attributes:
        host: the node.
        mpio_disk: N of ``\\Device\\MPIODiskN``.
        start: its first state change away from NORMAL.
        end: its teardown, else its last state change.
        torn_down: whether it reached REMOVED.
        finding: the rule id of the most severe finding about this disk, if any.
    """

    host: str
    mpio_disk: int
    start: pd.Timestamp
    end: pd.Timestamp
    torn_down: bool
    finding: str | None


@dataclass(slots=True)
class Links:
    """Every link the logs state, with the row that states it."""

    disk_to_mpio: dict[tuple[str, int], dict[int, int]] = field(default_factory=dict)
    resource_to_disk: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)
    csv_to_resource: dict[str, dict[str, int]] = field(default_factory=dict)
    role_to_resource: dict[str, dict[str, int]] = field(default_factory=dict)

    def mpio_disks(self, host: str, resource: str) -> list[tuple[int, list[int]]]:
        """``(MPIO disk, chain rows)`` backing ``resource`` on ``host``."""
        found = []
        for number, disk_row in sorted(self.resource_to_disk.get((host, resource), {}).items()):
            for mpio, mpio_row in sorted(self.disk_to_mpio.get((host, number), {}).items()):
                found.append((mpio, [disk_row, mpio_row]))
        return found


def build_links(events: pd.DataFrame) -> Links:
    """The links of a case (first stating row kept as evidence)."""
    links = Links()
    both = events.loc[events["disk_number"].notna() & events["mpio_disk"].notna()]
    for row, host, number, mpio in both[["host", "disk_number", "mpio_disk"]].itertuples(
            name=None):
        links.disk_to_mpio.setdefault((str(host), int(number)), {}).setdefault(int(mpio), row)
    rows = cluster_rows(events)
    for row, event_id, host, volume, device, role, number in rows[
            ["event_id", "host", "volume", "device", "trigger", "disk_number"]].itertuples(
            name=None):
        if pd.isna(device):
            continue
        if event_id in DISK_NAMING and not pd.isna(number):
            links.resource_to_disk.setdefault((str(host), str(device)), {}).setdefault(
                int(number), row)
        if event_id in CSV_NAMING and not pd.isna(volume):
            links.csv_to_resource.setdefault(str(volume), {}).setdefault(str(device), row)
        if event_id in ROLE_NAMING and not pd.isna(role):
            links.role_to_resource.setdefault(str(role), {}).setdefault(str(device), row)
    return links


def storage_incidents(timelines: pd.DataFrame, luns: list[LunOutcome],
                      findings: list[Finding], events: pd.DataFrame) -> list[Incident]:
    """One :class:`Incident` per (host, MPIO disk) whose outcome is not ``unaffected``."""
    disks = timelines.loc[timelines["scope"] == "disk"] if len(timelines) else timelines
    incidents = []
    for lun in luns:
        if lun.outcome == "unaffected":
            continue
        lines = disks.loc[(disks["host"] == lun.host) & (disks["key"] == lun.mpio_disk)]
        left = lines.loc[~lines["to_state"].isin(["NORMAL", "ABSENT"]), "time"]
        if left.empty:
            continue
        end = lun.removed_at if lun.removed_at is not None else lines["time"].max()
        incidents.append(Incident(lun.host, lun.mpio_disk, left.min(), end,
                                  lun.removed_at is not None,
                                  _worst_finding(findings, events, lun.host, lun.mpio_disk)))
    return sorted(incidents, key=lambda i: (i.start, i.host, i.mpio_disk))


def _worst_finding(findings: list[Finding], events: pd.DataFrame, host: str, disk: int
                   ) -> str | None:
    """The most severe, then earliest, finding about ``disk`` of ``host``: its own, or one
    about a Path ID whose evidence includes an event of that disk."""
    def about(finding: Finding) -> bool:
        if finding.host != host:
            return False
        if finding.mpio_disk is not None:
            return finding.mpio_disk == disk
        rows = events.loc[[r for r in finding.evidence if r in events.index], "mpio_disk"]
        return bool((rows == disk).fillna(False).any())

    own = [f for f in findings if about(f)]
    if not own:
        return None
    return min(own, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0),
                                   f.start.value if f.start is not None else 0,
                                   f.rule.id)).rule.id
