"""Unrelated System-log records: the boot preamble and lazily generated background noise.

Noise makes realistic haystacks (and the benchmark loads) in which MPIO events are a fraction.
It is a Poisson process at ``noise.per_hour`` records per hour per host, drawn from
``noise.mix`` weights over the kinds of :data:`NOISE_KINDS`. Each kind writes the provider,
event id, level, qualifiers, Guid, task/opcode/keywords and data layout that the System logs of
the shared corpus show for that event (``bench/corpus_mix.py`` measures their mix there), or
that the domain reference gives (``disk-153``):

* ``scm-7036``/``scm-7040`` -- Service Control Manager: a service's state / start type changed;
* ``kernel-general-16`` -- a registry hive was flushed (never relevant to MPIO);
* ``kernel-general-1`` -- the system time changed;
* ``kernel-general-12`` -- the OS started (names the host's OS version: 6.1.7601);
* ``wu-44``/``wu-43``/``wu-19`` -- WindowsUpdateClient: download started / installation
  started / installation succeeded, for updates that are not KB 2406705;
* ``filtermanager-6`` -- a file system filter loaded;
* ``dcom-10016`` -- a DCOM permission warning;
* ``dns-client-1014`` -- a name resolution timed out;
* ``ntfs-98`` -- Microsoft-Windows-Ntfs: a volume is healthy (names a volume device);
* ``time-service-37`` -- NtpClient is receiving valid time data;
* ``eventlog-6013`` -- EventLog: system uptime (carries the time-zone text);
* ``disk-153`` -- disk: an I/O to an MPIO disk was retried (an incident's storm; kept, and
  shown in the report).

Records are produced one at a time in time order, so memory does not grow with the count.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import uuid
from collections.abc import Callable, Iterator
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


KERNEL_GENERAL = "{a68ca8b7-004f-d7b6-a698-07e2de0f1f5d}"
WINDOWS_UPDATE = "{945a8954-c147-4acd-923f-40c45405a658}"
_WU_NAMES = ("updateTitle", "updateGuid", "updateRevisionNumber")
_SHAPES = {
    "kernel-general-16": records.ManifestShape(
        "Microsoft-Windows-Kernel-General", KERNEL_GENERAL, 16,
        ("HiveNameLength", "HiveName", "KeysUpdated", "DirtyPages"),
    ),
    "kernel-general-1": records.ManifestShape(
        "Microsoft-Windows-Kernel-General", KERNEL_GENERAL, 1,
        ("NewTime", "OldTime", "Reason", "ProcessName", "ProcessID"),
        version=2, task=5, keywords=0x8000000000000010,
    ),
    "kernel-general-12": records.ManifestShape(
        "Microsoft-Windows-Kernel-General", KERNEL_GENERAL, 12,
        ("MajorVersion", "MinorVersion", "BuildVersion", "QfeVersion", "ServiceVersion",
         "BootMode", "StartTime"),
        task=1, keywords=0x8000000000000080,
    ),
    "wu-44": records.ManifestShape(
        "Microsoft-Windows-WindowsUpdateClient", WINDOWS_UPDATE, 44, _WU_NAMES,
        version=1, task=1, opcode=12, keywords=0x8000000000002004,
    ),
    "wu-43": records.ManifestShape(
        "Microsoft-Windows-WindowsUpdateClient", WINDOWS_UPDATE, 43, _WU_NAMES,
        version=1, task=1, opcode=13, keywords=0x8000000000002008,
    ),
    "wu-19": records.ManifestShape(
        "Microsoft-Windows-WindowsUpdateClient", WINDOWS_UPDATE, 19, (*_WU_NAMES, "serviceGuid"),
        version=1, task=1, opcode=13, keywords=0x8000000000000018,
    ),
    "filtermanager-6": records.ManifestShape(
        "Microsoft-Windows-FilterManager", "{f3c5e28e-63f6-49c7-a204-e48a1bc4b09d}", 6,
        ("FinalStatus", "DeviceVersionMajor", "DeviceVersionMinor", "DeviceNameLength",
         "DeviceName", "DeviceTime"),
    ),
    "dcom-10016": records.ManifestShape(
        "Microsoft-Windows-DistributedCOM", "{1b562e86-b7aa-4131-badc-b6f3a001407e}", 10016,
        tuple(f"param{i}" for i in range(1, 12)),
        level=3, keywords=0x8080000000000000, qualifiers=0, event_source_name="DCOM",
    ),
    "dns-client-1014": records.ManifestShape(
        "Microsoft-Windows-DNS-Client", "{1c95126e-7eea-49a9-a3fe-a378b03ddb4d}", 1014,
        ("QueryName", "AddressLength", "Address"),
        level=3, task=1014, keywords=0x4000000010000000,
    ),
    "ntfs-98": records.ManifestShape(
        "Microsoft-Windows-Ntfs", "{3ff37a1c-a68d-4d6e-8c9b-f79e8b16c482}", 98,
        ("DriveName", "DeviceName", "CorruptionActionState"), keywords=0x8000000000000002,
    ),
}
_HIVES = ("SOFTWARE", "SYSTEM", "SAM", "SECURITY", "DEFAULT")
_UPDATES = (
    ("Security Update for Windows Server 2008 R2 x64 Edition (KB2479943)", 201),
    ("Update for Windows Server 2008 R2 x64 Edition (KB2506014)", 101),
    ("Windows Malicious Software Removal Tool x64 - May 2011 (KB890830)", 202),
    ("Cumulative Security Update for Internet Explorer 8 for Windows Server 2008 R2 x64 "
     "Edition (KB2530548)", 100),
    ("Definition Update for Windows Defender - KB915597 (Definition 1.103.1396.0)", 200),
)
_FILTERS = ("FileInfo", "Wof", "luafv", "FileCrypt", "npsvctrig")
_DNS_NAMES = ("wpad", "time.windows.com", "fs01-backup.contoso.local", "update.microsoft.com")
_DCOM = (
    "application-specific", "Local", "Activation", "{D63B10C5-BB46-4990-A94F-E40B9D520160}",
    "{9CA88EE3-ACB7-47C8-AFC4-AB702511C276}", "NT AUTHORITY", "SYSTEM", "S-1-5-18",
    "LocalHost (Using LRPC)", "Unavailable", "Unavailable",
)


def _make(kind: str, now: int, workload: Workload, host: Host, rng: random.Random) -> SystemEvent:
    return _BUILDERS[kind](now, workload, host, rng, 4 * rng.randrange(100, 2000))


def _scm_7036(now, workload, host, rng, thread) -> SystemEvent:
    name, key = rng.choice(_SERVICES)
    state = rng.choice(("running", "stopped"))
    return records.scm_event(now, host.name, 7036, (name, state), key, thread)


def _scm_7040(now, workload, host, rng, thread) -> SystemEvent:
    name, key = rng.choice(_SERVICES)
    old, new = rng.sample(_START_TYPES, 2)
    return records.scm_event(now, host.name, 7040, (name, old, new, key), key, thread)


def _eventlog_6013(now, workload, host, rng, thread) -> SystemEvent:
    uptime = (now - workload.start_ns) // 1_000_000_000
    zone = f"{-host.utc_offset_minutes} {_zone_name(host.utc_offset_minutes)}"
    data = ("", "", "", "", str(uptime), "60", zone)
    return records.eventlog_event(now, host.name, 6013, data)


def _time_service_37(now, workload, host, rng, thread) -> SystemEvent:
    source = "time.windows.com,0x9 (ntp.m|0x9|0.0.0.0:123->65.55.56.206:123)"
    return records.time_service_event(now, host.name, source, thread)


def _manifest(kind: str, values: Callable[..., tuple[str, ...]], pid: int | None = None):
    def build(now, workload, host, rng, thread) -> SystemEvent:
        data = values(now, workload, host, rng)
        process = pid if pid is not None else 4 * rng.randrange(100, 2000)
        return records.manifest_event(
            now, host.name, _SHAPES[kind], data, process_id=process, thread_id=thread
        )

    return build


def _hive(now, workload, host, rng) -> tuple[str, ...]:
    hive = f"\\SystemRoot\\System32\\Config\\{rng.choice(_HIVES)}"
    return str(len(hive)), hive, str(rng.randrange(1, 5000)), str(rng.randrange(1, 900))


def _time_change(now, workload, host, rng) -> tuple[str, ...]:
    old = now - rng.randrange(1, 2_000_000) * 1000
    return (_iso(now), _iso(old), "1", "\\Device\\HarddiskVolume1\\Windows\\System32\\svchost.exe",
            str(4 * rng.randrange(100, 2000)))


def _os_start(now, workload, host, rng) -> tuple[str, ...]:
    # Windows Server 2008 R2 SP1, as the boot preamble's EventLog 6009 says (OS_PRODUCT).
    return "6", "1", records.OS_PRODUCT[1], "17514", "1", "0", _iso(now - 500_000_000)


def _update(with_service: bool):
    def values(now, workload, host, rng) -> tuple[str, ...]:
        title, revision = rng.choice(_UPDATES)
        guid = str(uuid.UUID(int=rng.getrandbits(128))).upper()
        out = (title, guid, str(revision))
        return (*out, "9482F4B4-E343-43B6-B170-9A65BC822C77") if with_service else out

    return values


def _filter(now, workload, host, rng) -> tuple[str, ...]:
    name = rng.choice(_FILTERS)
    return "0x0", "6", "1", str(len(name)), name, "2010-11-20T10:24:16.000000Z"


def _dcom(now, workload, host, rng) -> tuple[str, ...]:
    return _DCOM


def _dns(now, workload, host, rng) -> tuple[str, ...]:
    address = "020000000A000203" + "0" * 240
    return rng.choice(_DNS_NAMES), "128", address


def _ntfs_healthy(now, workload, host, rng) -> tuple[str, ...]:
    number = rng.randrange(1, 3 + len(host.luns))
    drive = "C:" if number == 1 else f"{chr(ord('D') + number - 2)}:"
    return drive, f"\\Device\\HarddiskVolume{number}", "0"


def _disk_153(now, workload, host, rng, thread) -> SystemEvent:
    lun = rng.choice(host.luns)
    return records.disk_retry_event(now, host.name, lun.mpio_disk, rng.randrange(1 << 20, 1 << 32))


def _iso(time_ns: int) -> str:
    moment = dt.datetime.fromtimestamp(time_ns // 1_000_000_000, dt.UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{time_ns % 1_000_000_000 // 1000:06d}Z"


_BUILDERS = {
    "scm-7036": _scm_7036,
    "scm-7040": _scm_7040,
    "eventlog-6013": _eventlog_6013,
    "time-service-37": _time_service_37,
    "kernel-general-16": _manifest("kernel-general-16", _hive, pid=4),
    "kernel-general-1": _manifest("kernel-general-1", _time_change),
    "kernel-general-12": _manifest("kernel-general-12", _os_start, pid=4),
    "wu-44": _manifest("wu-44", _update(False), pid=1012),
    "wu-43": _manifest("wu-43", _update(False), pid=1012),
    "wu-19": _manifest("wu-19", _update(True), pid=1012),
    "filtermanager-6": _manifest("filtermanager-6", _filter, pid=4),
    "dcom-10016": _manifest("dcom-10016", _dcom, pid=700),
    "dns-client-1014": _manifest("dns-client-1014", _dns, pid=1056),
    "ntfs-98": _manifest("ntfs-98", _ntfs_healthy, pid=4),
    "disk-153": _disk_153,
}


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
