"""The YAML workload description the replay model runs.

A workload names the hosts, their MPIO disks (one per LUN), the paths each LUN is reached
through, the offered I/O load, the faults to inject and the unrelated System-log noise. Format
(every key documented in ``evtxmpio/replay/README.md``)::

    name: kb2406705-race
    seed: 2406705
    start: 2011-06-14T07:40:00Z     # boot; the System log starts here
    duration_s: 240                 # log span from ``start``
    io_start_s: 30                  # offered I/O runs from here to the end
    hosts:
      - name: FS01.contoso.local
        utc_offset_minutes: 120     # local time of tracerpt exports and EventLog 6013
        first_record_id: 48000
        load_balance: round-robin
        paths: [0x77030001, 0x77030002]
        luns:
          - {lun: 0, mpio_disk: 1, volume: '\\Device\\HarddiskVolume4', iops: 150,
             write_fraction: 0.5, files: ['\\Data\\orders.db']}
    faults:
      - {type: surprise-removal, host: FS01.contoso.local, path: 0x77030001, at_s: 100}
      - {type: path-restore, host: FS01.contoso.local, path: 0x77030001, at_s: 180}
    noise: {per_hour: 600}
    evtx_layout: windows            # EventData as Windows writes it (default: flat)

Failover groups (all MPIO disks behind one Path ID, domain reference section 3.1) follow from
the ``paths`` of each LUN; an optional ``failover_groups: {PATH_ID: [disk, ...]}`` per host is
checked against them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evtxmpio.errors import Error
from evtxmpio.replay.binxml import EVTX_LAYOUTS
from evtxmpio.replay.cluster import ClusterSpec, parse_cluster

LOAD_BALANCE_POLICIES = (
    "failover-only",
    "round-robin",
    "round-robin-with-subset",
    "least-queue-depth",
    "weighted-paths",
    "least-blocks",
    "vendor-specific",
)
FAULT_TYPES = ("surprise-removal", "path-restore", "flapping", "all-paths-down")
NOISE_KINDS = (
    "scm-7036", "scm-7040", "kernel-general-16", "kernel-general-1", "kernel-general-12",
    "wu-44", "wu-19", "wu-43", "filtermanager-6", "dcom-10016", "dns-client-1014", "ntfs-98",
    "time-service-37", "eventlog-6013", "disk-153",
)
"""The kinds of unrelated System-log records ``noise.mix`` can weigh (``replay/noise.py``)."""
DEFAULT_NOISE_MIX = {"scm-7036": 80, "scm-7040": 5, "eventlog-6013": 5, "time-service-37": 10}
MIN_FAULT_SPACING_S = 8.0
"""Path actions on one host must be this far apart, so one failover ends before the next."""


class WorkloadError(Error):
    """A workload file is invalid: ``workload.yaml: hosts[0].luns[1]: problem``."""


@dataclass(frozen=True, slots=True)
class Lun:
    """One LUN, seen by its host as the MPIO disk ``\\Device\\MPIODisk<mpio_disk>``."""

    lun: int
    mpio_disk: int
    paths: tuple[int, ...]
    volume: str
    files: tuple[str, ...]
    iops: float
    write_fraction: float
    latency_ms: float
    size_gb: int


@dataclass(frozen=True, slots=True)
class Host:
    """One Windows Server 2008 R2 SP1 host and its MPIO disks."""

    name: str
    paths: tuple[int, ...]
    luns: tuple[Lun, ...]
    load_balance: str = "round-robin"
    utc_offset_minutes: int = 0
    first_record_id: int = 1

    def failover_groups(self) -> dict[int, tuple[int, ...]]:
        """Return Path ID -> MPIO disk numbers behind it (the DSM's failover groups)."""
        return {
            path: tuple(lun.mpio_disk for lun in self.luns if path in lun.paths)
            for path in self.paths
        }


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault; ``flapping`` expands into removal/restore pairs."""

    type: str
    host: str
    at_s: float
    path: int | None = None
    cycles: int = 1
    period_s: float = 20.0


@dataclass(frozen=True, slots=True)
class Timing:
    """Model delays (seconds unless named otherwise); defaults follow section 3.4's timers."""

    io_error_delay_s: float = 0.6
    io_error_jitter_s: float = 0.8
    pnp_delay_s: float = 1.5
    race_gap_ms: float = 40.0
    min_failover_s: float = 2.0
    pdo_remove_period_s: float = 20.0
    lazy_write_window_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Workload:
    """A parsed, validated workload description."""

    name: str
    seed: int
    start_ns: int
    duration_s: float
    io_start_s: float
    hosts: tuple[Host, ...]
    faults: tuple[Fault, ...] = ()
    noise_per_hour: float = 0.0
    noise_mix: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_NOISE_MIX))
    timing: Timing = field(default_factory=Timing)
    cluster: ClusterSpec | None = None
    evtx_layout: str = "flat"

    @property
    def end_ns(self) -> int:
        """End of the log span, Unix-epoch ns."""
        return self.start_ns + seconds_to_ns(self.duration_s)

    def host(self, name: str) -> Host:
        """Return the host called ``name`` (KeyError if none)."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


def seconds_to_ns(seconds: float) -> int:
    """Seconds to integer ns, rounded to the 100-ns FILETIME resolution."""
    return round(seconds * 10_000_000) * 100


def load_workload(source: str | Path | dict[str, Any] | Workload) -> Workload:
    """Load and validate a workload from a YAML file, a dict, or pass a Workload through.

    Raises:
        WorkloadError: the file cannot be read or a key is missing or invalid; the message
            names the file and the key.
    """
    if isinstance(source, Workload):
        return source
    where = "<workload>"
    if isinstance(source, (str, Path)):
        where = str(source)
        try:
            data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise WorkloadError(f"{where}: cannot read workload: {exc}") from exc
    else:
        data = source
    if not isinstance(data, dict):
        raise WorkloadError(f"{where}: a workload is a mapping")
    try:
        return _parse(data, where)
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkloadError(f"{where}: {exc}") from exc


def _parse(data: dict[str, Any], where: str) -> Workload:
    hosts = tuple(_host(h, f"hosts[{i}]") for i, h in enumerate(_require(data, "hosts", "")))
    if not hosts:
        raise ValueError("hosts: at least one host is needed")
    faults = tuple(_fault(f, f"faults[{i}]") for i, f in enumerate(data.get("faults") or ()))
    noise = data.get("noise") or {}
    mix = dict(noise.get("mix") or DEFAULT_NOISE_MIX)
    unknown = sorted(set(mix) - set(NOISE_KINDS))
    if unknown:
        raise ValueError(f"noise.mix: unknown kinds {unknown}; known: {list(NOISE_KINDS)}")
    layout = data.get("evtx_layout", "flat")
    if layout not in EVTX_LAYOUTS:
        raise ValueError(f"evtx_layout: {layout!r} not in {list(EVTX_LAYOUTS)}")
    workload = Workload(
        name=str(data.get("name") or Path(where).stem),
        seed=int(data.get("seed", 0)),
        start_ns=_start_ns(_require(data, "start", "")),
        duration_s=float(_require(data, "duration_s", "")),
        io_start_s=float(data.get("io_start_s", 30)),
        hosts=hosts,
        faults=faults,
        noise_per_hour=float(noise.get("per_hour", 0)),
        noise_mix=mix,
        timing=Timing(**(data.get("timing") or {})),
        cluster=parse_cluster(data.get("cluster"),
                              {h.name: {lun.lun: lun.mpio_disk for lun in h.luns} for h in hosts}),
        evtx_layout=layout,
    )
    _check(workload)
    return workload


def _require(data: dict[str, Any], key: str, at: str) -> Any:
    if key not in data:
        raise ValueError(f"{at + '.' if at else ''}{key}: missing")
    return data[key]


def _start_ns(value: Any) -> int:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        raise ValueError(f"start: {value!r} is not an ISO 8601 time")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    delta = value - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def path_id(value: Any, at: str) -> int:
    """Parse a Path ID given as an int or a ``0x...`` string."""
    try:
        number = int(value, 0) if isinstance(value, str) else int(value)
    except ValueError as exc:
        raise ValueError(f"{at}: {value!r} is not a Path ID") from exc
    if not 0 < number <= 0xFFFFFFFF:
        raise ValueError(f"{at}: Path ID {value!r} out of range")
    return number


def _host(data: dict[str, Any], at: str) -> Host:
    paths = tuple(path_id(p, f"{at}.paths") for p in _require(data, "paths", at))
    luns = tuple(_lun(lun, paths, f"{at}.luns[{i}]") for i, lun in enumerate(data["luns"]))
    policy = str(data.get("load_balance", "round-robin"))
    if policy not in LOAD_BALANCE_POLICIES:
        raise ValueError(f"{at}.load_balance: {policy!r} not in {list(LOAD_BALANCE_POLICIES)}")
    host = Host(
        name=str(_require(data, "name", at)),
        paths=paths,
        luns=luns,
        load_balance=policy,
        utc_offset_minutes=int(data.get("utc_offset_minutes", 0)),
        first_record_id=int(data.get("first_record_id", 1)),
    )
    declared = data.get("failover_groups")
    if declared is not None:
        given = {path_id(k, f"{at}.failover_groups"): tuple(v) for k, v in declared.items()}
        derived = {k: v for k, v in host.failover_groups().items() if v}
        if given != derived:
            raise ValueError(
                f"{at}.failover_groups: {given} does not match the LUN paths {derived}"
            )
    return host


def _lun(data: dict[str, Any], host_paths: tuple[int, ...], at: str) -> Lun:
    paths = tuple(path_id(p, f"{at}.paths") for p in data.get("paths", host_paths))
    stray = [f"0x{p:08X}" for p in paths if p not in host_paths]
    if stray or not paths:
        raise ValueError(f"{at}.paths: {stray or 'empty'} not among the host's paths")
    disk = int(_require(data, "mpio_disk", at))
    files = tuple(str(f) for f in data.get("files", [f"\\Data\\disk{disk}.dat"]))
    write_fraction = float(data.get("write_fraction", 0.5))
    if not 0.0 <= write_fraction <= 1.0 or not files:
        raise ValueError(f"{at}: write_fraction must be in [0, 1] and files non-empty")
    return Lun(
        lun=int(_require(data, "lun", at)),
        mpio_disk=disk,
        paths=paths,
        volume=str(data.get("volume", f"\\Device\\HarddiskVolume{disk + 3}")),
        files=files,
        iops=float(data.get("iops", 50)),
        write_fraction=write_fraction,
        latency_ms=float(data.get("latency_ms", 2.0)),
        size_gb=int(data.get("size_gb", 100)),
    )


def _fault(data: dict[str, Any], at: str) -> Fault:
    kind = str(_require(data, "type", at))
    if kind not in FAULT_TYPES:
        raise ValueError(f"{at}.type: {kind!r} not in {list(FAULT_TYPES)}")
    path = data.get("path")
    if path is None and kind != "all-paths-down":
        raise ValueError(f"{at}.path: missing")
    return Fault(
        type=kind,
        host=str(_require(data, "host", at)),
        at_s=float(_require(data, "at_s", at)),
        path=None if path is None else path_id(path, f"{at}.path"),
        cycles=int(data.get("cycles", 1)),
        period_s=float(data.get("period_s", 20.0)),
    )


def _check(workload: Workload) -> None:
    disks: set[tuple[str, int]] = set()
    for host in workload.hosts:
        for lun in host.luns:
            if (host.name, lun.mpio_disk) in disks:
                raise ValueError(f"{host.name}: MPIO disk {lun.mpio_disk} defined twice")
            disks.add((host.name, lun.mpio_disk))
    names = {host.name for host in workload.hosts}
    for index, fault in enumerate(workload.faults):
        if fault.host not in names:
            raise ValueError(f"faults[{index}].host: unknown host {fault.host!r}")
        if fault.path is not None and fault.path not in workload.host(fault.host).paths:
            raise ValueError(f"faults[{index}].path: 0x{fault.path:08X} not a path of {fault.host}")
        if not 0 < fault.at_s < workload.duration_s:
            raise ValueError(f"faults[{index}].at_s: outside the log span")
        if fault.type == "flapping" and fault.period_s < 2 * MIN_FAULT_SPACING_S:
            raise ValueError(f"faults[{index}].period_s: at least {2 * MIN_FAULT_SPACING_S} s")
