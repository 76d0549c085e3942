"""Write System.xml: a hand-built KB 2406705 race as `wevtutil qe System /f:xml` prints it.

The case (domain reference section 3.5): host FS01, two MPIO disks in one failover group
(Path ID 0x77030001, the other path 0x77030002 stays good). The iSCSI session behind
0x77030001 drops; both disks log event 16 for the same Path ID; MPIODisk2 logs 17 a fraction
of a second later (NORMAL -> DEGRADED without the WAIT steps); the Microsoft DSM fails to return
a path for MPIODisk1 although 0x77030002 is still valid (32); the fail-over fails and the disk
is torn down (22, 25); two delayed writes fail (Ntfs 50 + Application Popup 26 each). A hostile
Application Popup (script and event-handler text) checks that reports escape log text.

Run: python samples/kb2406705-race-xml/make_sample.py  (rewrites case/System.xml byte for byte)
"""

from __future__ import annotations

import struct
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

HOST = "FS01.contoso.local"
DAY = "2011-06-14T"


def packet(event_id: int, qualifiers: int, dump: bytes = b"", status: int = 0) -> str:
    """An IO_ERROR_LOG_PACKET (domain reference 1.4) as wevtutil's upper-case hex."""
    error_code = (qualifiers << 16) | event_id
    header = struct.pack("<BBHHHHHIIIIIq", 0, 0, len(dump), 1, 0x28 + len(dump), 0, 0,
                         error_code, 0x12, status, 0, 0, 0)
    return (header + dump).hex().upper()


def event(record_id: int, time: str, provider: str, event_id: int, level: int,
          data: list[str], qualifiers: int | None = 49160, binary: str | None = None) -> str:
    qual = f" Qualifiers='{qualifiers}'" if qualifiers is not None else ""
    items = "".join(f"<Data>{escape(value)}</Data>" for value in data)
    if binary is not None:
        items += f"<Binary>{binary}</Binary>"
    return (
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
        f"<Provider Name={quoteattr(provider).replace(chr(34), chr(39))}/>"
        f"<EventID{qual}>{event_id}</EventID><Level>{level}</Level><Task>0</Task>"
        "<Keywords>0x80000000000000</Keywords>"
        f"<TimeCreated SystemTime='{DAY}{time}Z'/><EventRecordID>{record_id}</EventRecordID>"
        f"<Channel>System</Channel><Computer>{HOST}</Computer><Security/></System>"
        f"<EventData>{items}</EventData></Event>"
    )


def path_dump(path_id: int) -> bytes:
    return struct.pack("<Q", path_id)


def events() -> list[str]:
    disk1, disk2 = r"\Device\MPIODisk1", r"\Device\MPIODisk2"
    lost = "Windows was unable to save all the data for the file {}. The data has been lost. " \
           "This error may be caused by a failure of your computer hardware or network " \
           "connection. Please try to save this file elsewhere."
    files = [r"\Device\HarddiskVolume4\Data\orders.mdb", r"\Device\HarddiskVolume4\Data\ledger.ldf"]
    out = [
        event(48190, "06:58:01.000000000", "EventLog", 6009, 4,
              ["6.01.", "7601", "Service Pack 1", "Multiprocessor Free", "17514"], 32768),
        event(48191, "06:58:20.100000000", "mpio", 1, 4, [disk1], 16391),
        event(48192, "06:58:20.100100000", "mpio", 2, 4, [disk1], 16391,
              packet(2, 16391, struct.pack("<I", 1))),
        event(48193, "06:58:20.100200000", "mpio", 2, 4, [disk1], 16391,
              packet(2, 16391, struct.pack("<I", 2))),
        event(48194, "06:58:20.200000000", "mpio", 1, 4, [disk2], 16391),
        event(48195, "06:58:20.200100000", "mpio", 2, 4, [disk2], 16391,
              packet(2, 16391, struct.pack("<I", 1))),
        event(48196, "06:58:20.200200000", "mpio", 2, 4, [disk2], 16391,
              packet(2, 16391, struct.pack("<I", 2))),
        event(48210, "07:47:09.911000000", "iScsiPrt", 20, 2, [r"\Device\RaidPort3"], 49152,
              packet(20, 49152, b"", 0xC000009D)),
        event(48211, "07:47:10.402113200", "mpio", 16, 2, [disk1], 49160,
              packet(16, 49160, path_dump(0x77030001), 0xC000009D)),
        event(48212, "07:47:10.405020100", "mpio", 16, 2, [disk2], 49160,
              packet(16, 49160, path_dump(0x77030001), 0xC000009D)),
        event(48213, "07:47:10.611000000", "mpio", 17, 3, [disk2], 32776, packet(17, 32776)),
        event(48214, "07:47:12.130000000", "mpio", 32, 2, [disk1, "Microsoft DSM"], 49161,
              packet(32, 49161)),
        event(48215, "07:47:12.131000000", "mpio", 22, 2, [disk1], 49160, packet(22, 49160)),
        event(48216, "07:47:12.140000000", "mpio", 25, 3, [disk1], 32776,
              packet(25, 32776, path_dump(0x77030002), 0xC0000010)),
    ]
    record = 48217
    for number, file in enumerate(files):
        second = 15 + number
        out.append(event(record, f"07:47:{second}.250000000", "Ntfs", 50, 3,
                         [r"\Device\HarddiskVolume4", file], 32772, packet(50, 32772)))
        out.append(event(record + 1, f"07:47:{second}.260000000", "Application Popup", 26, 4,
                         ["Windows - Delayed Write Failed", lost.format(file)], 16384))
        record += 2
    out.append(event(record, "07:48:02.000000000", "Application Popup", 26, 4,
                     ["<script>alert('caption')</script> - Application Error",
                      "The instruction at <img src=x onerror=alert(1)> referenced "
                      "javascript:alert(document.cookie) & \"quoted\" text."], 16384))
    return out


if __name__ == "__main__":
    target = Path(__file__).parent / "case" / "System.xml"
    target.write_text("".join(events()), encoding="utf-8")
    print(f"wrote {target}")
