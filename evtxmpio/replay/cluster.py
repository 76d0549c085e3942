"""Failover clusters in replay: nodes that share LUNs, and what their storage outcome costs.

A workload's optional ``cluster`` section names the cluster, the cluster disk resource of each
LUN (``lun`` as in ``hosts[].luns[].lun``), its CSV name or the roles that own it, its owner
node, each node's clock offset and Windows disk numbers. From the model's outcome per node the
module writes the Failover Clustering events that outcome implies (a project convention, [P]
in docs/failover-clustering.md, with the event shapes of ``catalog/cluster.yaml``):

* every node logs 1062 (joined the cluster ``name``) 20 s after the boot that opens its log;
* every node whose MPIO disk of a cluster LUN fails over logs ``disk`` 153 naming the disk
  number and the MPIO disk's PDO (the newer-build form, reference 2.3);
* when the owner's MPIO disk is torn down (REMOVED at ``r``): the owner logs 1792 (resource,
  disk number) at ``r + 0.2 s``; a CSV pauses (5120) on every node at ``r + 0.4 s`` (3 ms
  apart per node), and becomes inaccessible (5142) ``10 s`` later where no node still sees the
  LUN; each role fails a resource (1069, ``r + 0.8 s``): the disk resource itself for the roles
  of a plain cluster disk (it is theirs), the role's ``Virtual Machine <role>`` resource for the
  roles of a CSV (VMs stored on it: no record links them to the disk); each role then moves
  (1153 on the owner, 1201 on the new owner 2 s later) to the first node that still sees the
  LUN, else fails (1205);
* the first node to lose every cluster LUN is removed from membership: every other node logs
  1135 for it ``node_removal_s`` after its last teardown.

A node's ``clock_offset_ms`` is added to every time of its System log (the truth stays on the
reference clock). :func:`cluster_truth` gives each event's cause for the ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evtxmpio.catalog.cluster import cluster_event, provider_guid, provider_name
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.records import io_error_log_packet

MS = 1_000_000
SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ClusterLun:
    """One LUN as the cluster knows it."""

    lun: int
    resource: str
    owner: str
    csv: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """The ``cluster`` section of a workload."""

    name: str
    luns: tuple[ClusterLun, ...]
    clock_offsets_ns: dict[str, int] = field(default_factory=dict)
    disk_numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    node_removal_s: float = 15.0

    def clock_offset_ns(self, host: str) -> int:
        """What ``host``'s clock adds to true time."""
        return self.clock_offsets_ns.get(host, 0)


@dataclass(frozen=True, slots=True)
class Caused:
    """A cluster event and the storage incident that caused it (for the ground truth)."""

    event: SystemEvent
    kind: str
    name: str | None
    cause: tuple[str, int] | None


def parse_cluster(data: Any, hosts: dict[str, dict[int, int]], at: str = "cluster"
                  ) -> ClusterSpec | None:
    """The cluster section (``None`` when absent). ``hosts``: host -> {lun: MPIO disk}.

    Raises:
        ValueError: naming the key at fault.
    """
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("luns"), list):
        raise ValueError(f"{at}: a mapping with a list of luns")
    luns = []
    for index, entry in enumerate(data["luns"]):
        where = f"{at}.luns[{index}]"
        owner = str(entry.get("owner", ""))
        if owner not in hosts or int(entry.get("lun", -1)) not in hosts[owner]:
            raise ValueError(f"{where}: owner {owner!r} must be a host with lun {entry.get('lun')}")
        luns.append(ClusterLun(int(entry["lun"]), str(entry["resource"]), owner,
                               entry.get("csv"), tuple(map(str, entry.get("roles") or ()))))
    offsets = {str(h): round(float(ms) * 10_000) * 100
               for h, ms in (data.get("clock_offset_ms") or {}).items()}
    numbers = {(host, lun): disk + 1 for host, luns_of in hosts.items()
               for lun, disk in luns_of.items()}
    for host, given in (data.get("disk_numbers") or {}).items():
        numbers.update({(str(host), int(lun)): int(n) for lun, n in given.items()})
    unknown = sorted(set(offsets) - set(hosts))
    if unknown:
        raise ValueError(f"{at}.clock_offset_ms: unknown hosts {unknown}")
    return ClusterSpec(str(data.get("name", "CLUSTER")), tuple(luns), offsets, numbers,
                       float(data.get("node_removal_s", 15.0)))


def short(host: str) -> str:
    """The node name a cluster event writes (``NODE-A.contoso.local`` -> ``NODE-A``)."""
    return host.split(".", 1)[0]


def cluster_record(time_ns: int, computer: str, event_id: int, values: tuple[str, ...]
                   ) -> SystemEvent:
    """A FailoverClustering event as ``catalog/cluster.yaml`` describes it."""
    event = cluster_event(event_id)
    assert event is not None, event_id
    names = event.names[:len(values)]
    return SystemEvent(time_ns=_tick(time_ns), record_id=0, provider=provider_name(),
                       event_id=event_id, level=event.level, computer=computer,
                       provider_guid=provider_guid().lower(), version=0, task=38, opcode=0,
                       keywords=0x8000000000000000, data=values, data_names=names,
                       process_id=2056, thread_id=4120)


def disk_retry_with_pdo(time_ns: int, computer: str, disk_number: int, mpio_disk: int
                        ) -> SystemEvent:
    """``disk`` 153 naming Disk M and its PDO ``\\Device\\MPIODiskN`` (reference 2.3)."""
    data = (f"\\Device\\Harddisk{disk_number}\\DR{disk_number}", "0x3f2a10", str(disk_number),
            f"\\Device\\MPIODisk{mpio_disk}")
    binary = io_error_log_packet(32772, 153, strings=len(data), dump=b"\x00" * 4)
    return SystemEvent(time_ns=_tick(time_ns), record_id=0, provider="disk", event_id=153,
                       level=3, computer=computer, qualifiers=32772, data=data, binary=binary)


def _tick(time_ns: int) -> int:
    return time_ns - time_ns % 100
