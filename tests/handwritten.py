"""Hand-written Event XML as ``wevtutil qe System /f:xml`` prints it (domain reference 1.5).

Short builders for the test cases of issue 14: each event is written the way Windows writes
it (classic ``mpio``/``disk``/``iScsiPrt`` events with an IO_ERROR_LOG_PACKET in ``<Binary>``,
EventLog 6009 with its five strings, WindowsUpdateClient 19 with ``updateTitle``).
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import escape

NS = "http://schemas.microsoft.com/win/2004/08/events/event"
QUALIFIERS = {("mpio", 1): 16391, ("mpio", 2): 16391, ("mpio", 16): 49160, ("mpio", 17): 32776,
              ("mpio", 22): 49160, ("mpio", 23): 49160, ("mpio", 25): 32776,
              ("mpio", 32): 49161, ("iScsiPrt", 20): 49152, ("iScsiPrt", 34): 16384,
              ("disk", 15): 49156, ("Ntfs", 50): 32772, ("EventLog", 6009): 32768,
              ("USER32", 1074): 32768}
LEVEL = {16391: 4, 16384: 4, 32768: 4, 32772: 3, 32776: 3, 49152: 2, 49156: 2, 49160: 2,
         49161: 2}
OS_6009 = {"2008R2SP1": ["6.01.", "7601", "Service Pack 1", "Multiprocessor Free", "17514"],
           "2012R2": ["6.03.", "9600", "", "Multiprocessor Free", "17031"]}


def packet(provider: str, event_id: int, dump: bytes = b"", status: int = 0) -> str:
    """An IO_ERROR_LOG_PACKET header plus ``dump`` (domain reference 1.4), upper-case hex."""
    error_code = (QUALIFIERS[(provider, event_id)] << 16) | event_id
    header = struct.pack("<BBHHHHHIIIIIq", 0, 0, len(dump), 1, 0x28 + len(dump), 0, 0,
                         error_code, 0x12, status, 0, 0, 0)
    return (header + dump).hex().upper()


def classic(host: str, record_id: int, time: str, provider: str, event_id: int,
            data: list[str], dump: bytes | None = None, status: int = 0) -> str:
    """A classic event; ``time`` is ``YYYY-MM-DDTHH:MM:SS.fffffff`` UTC."""
    qualifiers = QUALIFIERS[(provider, event_id)]
    items = "".join(f"<Data>{escape(value)}</Data>" for value in data)
    if dump is not None:
        items += f"<Binary>{packet(provider, event_id, dump, status)}</Binary>"
    return (f"<Event xmlns='{NS}'><System><Provider Name='{provider}'/>"
            f"<EventID Qualifiers='{qualifiers}'>{event_id}</EventID>"
            f"<Level>{LEVEL[qualifiers]}</Level><Task>0</Task>"
            "<Keywords>0x80000000000000</Keywords>"
            f"<TimeCreated SystemTime='{time}Z'/><EventRecordID>{record_id}</EventRecordID>"
            f"<Channel>System</Channel><Computer>{escape(host)}</Computer><Security/></System>"
            f"<EventData>{items}</EventData></Event>")


def disk(n: int) -> str:
    return f"\\Device\\MPIODisk{n}"


def created(host: str, rid: int, time: str, n: int) -> str:
    """mpio 1: MPIODisk n created."""
    return classic(host, rid, time, "mpio", 1, [disk(n)])


def added(host: str, rid: int, time: str, n: int, count: int) -> str:
    """mpio 2: a path added to MPIODisk n; the dump holds the path count."""
    return classic(host, rid, time, "mpio", 2, [disk(n)], struct.pack("<I", count))


def failover(host: str, rid: int, time: str, n: int, path_id: int) -> str:
    """mpio 16: a fail-over on MPIODisk n; the dump holds the failed Path ID (x64)."""
    return classic(host, rid, time, "mpio", 16, [disk(n)], struct.pack("<Q", path_id),
                   0xC000009D)


def degraded(host: str, rid: int, time: str, n: int) -> str:
    """mpio 17: MPIODisk n degraded, failover complete."""
    return classic(host, rid, time, "mpio", 17, [disk(n)], b"")


def no_path(host: str, rid: int, time: str, n: int) -> str:
    """mpio 32: the Microsoft DSM failed to return a path to MPIODisk n."""
    return classic(host, rid, time, "mpio", 32, [disk(n), "Microsoft DSM"], b"")


def torn_down(host: str, rid: int, time: str, n: int) -> str:
    """mpio 22: the fail-over failed, the devices will be removed."""
    return classic(host, rid, time, "mpio", 22, [disk(n)], b"")


def all_failed(host: str, rid: int, time: str, n: int) -> str:
    """mpio 23: all paths have failed, MPIODisk n will be removed."""
    return classic(host, rid, time, "mpio", 23, [disk(n)], b"")


def reconnected(host: str, rid: int, time: str, port: int) -> str:
    """iScsiPrt 34: connection lost but successfully reconnected (``\\Device\\RaidPortN``)."""
    return classic(host, rid, time, "iScsiPrt", 34, [f"\\Device\\RaidPort{port}"],
                   b"iqn.1991-05.com.microsoft:target")


def os_info(host: str, rid: int, time: str, release: str) -> str:
    """EventLog 6009: the OS product information logged at boot."""
    return classic(host, rid, time, "EventLog", 6009, OS_6009[release])


def lost_write(host: str, rid: int, time: str, file: str) -> str:
    """Ntfs 50: delayed write failed for ``file``."""
    return classic(host, rid, time, "Ntfs", 50, ["E:", file], b"")


def update_installed(host: str, rid: int, time: str, title: str) -> str:
    """WindowsUpdateClient 19: installation successful (manifest event, named Data)."""
    return (f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-WindowsUpdateClient'"
            " Guid='{945a8954-c147-4acd-923f-40c45405a658}'/><EventID>19</EventID>"
            "<Version>1</Version><Level>4</Level><Task>1</Task><Opcode>13</Opcode>"
            "<Keywords>0x8000000000000018</Keywords>"
            f"<TimeCreated SystemTime='{time}Z'/><EventRecordID>{rid}</EventRecordID>"
            f"<Channel>System</Channel><Computer>{escape(host)}</Computer><Security/></System>"
            f"<EventData><Data Name='updateTitle'>{escape(title)}</Data>"
            "<Data Name='updateGuid'>{7e8b1b1c-0000-4000-8000-000000000001}</Data>"
            "<Data Name='updateRevisionNumber'>101</Data></EventData></Event>")


def write(path: Path, events: list[str]) -> Path:
    """The events back to back, no root, as wevtutil writes them."""
    path.write_text("".join(events), encoding="utf-8")
    return path


def restart(host: str, rid: int, time: str, machine: str) -> str:
    """USER32 1074: a planned restart of ``machine`` (7 strings, domain reference 2.8)."""
    return classic(host, rid, time, "USER32", 1074, [
        f"C:\\Windows\\system32\\winlogon.exe ({machine})", machine,
        "No title for this reason could be found", "0x500ff", "restart", "",
        "CONTOSO\\admin"])
