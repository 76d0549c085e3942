"""Unrelated System-log records: the boot preamble and lazily generated background noise.

Noise makes realistic haystacks (and the 10^6-record benchmark load) in which MPIO events are a
small fraction. It is a Poisson process at ``noise.per_hour`` records per hour per host, drawn
from ``noise.mix`` weights over these kinds (all common on a 2008 R2 file server):

* ``scm-7036`` -- Service Control Manager: a service entered the running/stopped state;
* ``scm-7040`` -- Service Control Manager: a service's start type changed;
* ``eventlog-6013`` -- EventLog: system uptime (carries the time-zone text);
* ``time-service-37`` -- Time-Service: NtpClient is receiving valid time data.

Records are produced one at a time in time order, so memory does not grow with the count.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from evtxmpio.replay import records
from evtxmpio.replay.workload import seconds_to_ns

if TYPE_CHECKING:
    from evtxmpio.replay.events import SystemEvent
    from evtxmpio.replay.workload import Host, Workload

_SERVICES = (
    ("Windows Modules Installer", "TrustedInstaller"),
    ("WinHTTP Web Proxy Auto-Discovery Service", "WinHttpAutoProxySvc"),
    ("Application Experience", "AeLookupSvc"),
    ("Software Protection", "sppsvc"),
    ("Windows Error Reporting Service", "WerSvc"),
    ("Portable Device Enumerator Service", "WPDBusEnum"),
    ("Multimedia Class Scheduler", "MMCSS"),
    ("Network List Service", "netprofm"),
)
_START_TYPES = ("auto start", "demand start", "disabled")


def boot_records(workload: Workload, host: Host) -> list[SystemEvent]:
    """Return the records of the boot at ``workload.start``: EventLog 6009, 6005, mpio 1/2.

    6009 names Windows Server 2008 R2 SP1 RTM (section 2.8); each MPIO disk logs 1 (created)
    and one 2 per path with the growing path count -- the only System-log source of a disk's
    path count (section 2.1).
    """
    start = workload.start_ns
    out = [
        records.eventlog_event(start, host.name, 6009, records.OS_PRODUCT),
        records.eventlog_event(start + 100, host.name, 6005, ()),
    ]
    out[1] = _with_binary(out[1], _systemtime(start, host.utc_offset_minutes))
    now = start + seconds_to_ns(4.0)
    for lun in host.luns:
        now += seconds_to_ns(0.0153)
        out.append(records.mpio_event(now, host.name, 1, lun.mpio_disk))
        for count, _path in enumerate(lun.paths, start=1):
            now += seconds_to_ns(0.0071)
            out.append(
                records.mpio_event(now, host.name, 2, lun.mpio_disk, dump=records.count_dump(count))
            )
    return out


def _with_binary(event: SystemEvent, binary: bytes) -> SystemEvent:
    from dataclasses import replace

    return replace(event, binary=binary)


def _systemtime(time_ns: int, offset_minutes: int) -> bytes:
    moment = dt.datetime.fromtimestamp(time_ns // 1_000_000_000, dt.UTC)
    local = moment + dt.timedelta(minutes=offset_minutes)
    return (
        struct.pack(
            "<8H",
            local.year,
            local.month,
            (local.isoweekday() % 7),
            local.day,
            local.hour,
            local.minute,
            local.second,
            0,
        )
        + b"\x00" * 8
    )


def noise_records(workload: Workload, host: Host) -> Iterator[SystemEvent]:
    """Yield the host's background noise lazily, in time order, after the boot preamble."""
    if workload.noise_per_hour <= 0:
        return
    rng = random.Random(f"{workload.seed}:{host.name}:noise")
    kinds = sorted(workload.noise_mix)
    weights = [workload.noise_mix[kind] for kind in kinds]
    rate = workload.noise_per_hour / 3600.0
    now = workload.start_ns + seconds_to_ns(10.0)
    while True:
        now += max(100, seconds_to_ns(rng.expovariate(rate)))
        if now >= workload.end_ns:
            return
        kind = rng.choices(kinds, weights)[0]
        yield _make(kind, now, workload, host, rng)


def _make(kind: str, now: int, workload: Workload, host: Host, rng: random.Random) -> SystemEvent:
    thread = 4 * rng.randrange(100, 2000)
    if kind == "scm-7036":
        name, key = rng.choice(_SERVICES)
        state = rng.choice(("running", "stopped"))
        return records.scm_event(now, host.name, 7036, (name, state), key, thread)
    if kind == "scm-7040":
        name, key = rng.choice(_SERVICES)
        old, new = rng.sample(_START_TYPES, 2)
        return records.scm_event(now, host.name, 7040, (name, old, new, key), key, thread)
    if kind == "eventlog-6013":
        uptime = (now - workload.start_ns) // 1_000_000_000
        zone = f"{-host.utc_offset_minutes} {_zone_name(host.utc_offset_minutes)}"
        data = ("", "", "", "", str(uptime), "60", zone)
        return records.eventlog_event(now, host.name, 6013, data)
    source = "time.windows.com,0x9 (ntp.m|0x9|0.0.0.0:123->65.55.56.206:123)"
    return records.time_service_event(now, host.name, source, thread)


def _zone_name(offset_minutes: int) -> str:
    return {
        0: "GMT Standard Time",
        60: "W. Europe Standard Time",
        120: "W. Europe Daylight Time",
        -300: "Eastern Standard Time",
        -240: "Eastern Daylight Time",
        -480: "Pacific Standard Time",
        540: "Tokyo Standard Time",
    }.get(offset_minutes, "Coordinated Universal Time")
