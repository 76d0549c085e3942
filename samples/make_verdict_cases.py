"""Write the hand-built golden case of each verdict: ``samples/<verdict>-xml/case/System.xml``.

Each case is a short System log as ``wevtutil qe System /f:xml`` prints it, composed event by
event from the domain reference (sections 1.5, 2.1, 2.8, 3.5) with ``tests/handwritten.py``.
The verdict each case must get, and why, is in ``samples/VERDICT_CASES.md``; the golden
outputs are ``samples/<verdict>-xml/expected/report.json`` (``pytest --update-golden``).
The KB 2406705 race has its own case, ``samples/kb2406705-race-xml``.

Run: python samples/make_verdict_cases.py  (rewrites the case files byte for byte)
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import handwritten as hw  # noqa: E402

HOST = "FS05.contoso.local"
P1, P2 = 0x77030001, 0x77030002
DAY = "2011-06-14T"


def boot(release: str = "2008R2SP1", disks: tuple[int, ...] = (1,), paths: int = 2
         ) -> list[str]:
    """EventLog 6009, then each MPIO disk created with its paths (mpio 1, 2 per path)."""
    events = [hw.os_info(HOST, 1000, f"{DAY}06:58:01.0000000", release)]
    rid = 1001
    for disk in disks:
        events.append(hw.created(HOST, rid, f"{DAY}06:58:20.{disk}000000", disk))
        for count in range(1, paths + 1):
            events.append(hw.added(HOST, rid + count, f"{DAY}06:58:20.{disk}00{count}000",
                                   disk, count))
        rid += paths + 1
    return events


def all_paths_down() -> list[str]:
    """Both paths of MPIODisk1 fail, mpio 23 tears it down, a write is lost."""
    return [*boot(),
            hw.failover(HOST, 2001, f"{DAY}07:47:10.4000000", 1, P1),
            hw.failover(HOST, 2002, f"{DAY}07:47:11.9000000", 1, P2),
            hw.all_failed(HOST, 2003, f"{DAY}07:47:32.0000000", 1),
            hw.lost_write(HOST, 2004, f"{DAY}07:47:33.0000000", "E:\\Share\\report.docx")]


def path_flapping() -> list[str]:
    """Path 0x77030001 fails and returns three times within the hour (16, 17, 2 each)."""
    events, rid = boot(), 2001
    for minute in (10, 20, 30):
        events += [hw.failover(HOST, rid, f"{DAY}08:{minute}:00.0000000", 1, P1),
                   hw.degraded(HOST, rid + 1, f"{DAY}08:{minute}:03.0000000", 1),
                   hw.added(HOST, rid + 2, f"{DAY}08:{minute + 1}:00.0000000", 1, 2)]
        rid += 3
    return events


def healthy_failover() -> list[str]:
    """Path 0x77030001 fails, MPIODisk1 completes its failover, the path comes back."""
    return [*boot(),
            hw.failover(HOST, 2001, f"{DAY}07:47:10.4000000", 1, P1),
            hw.degraded(HOST, 2002, f"{DAY}07:47:13.6000000", 1),
            hw.added(HOST, 2003, f"{DAY}07:49:00.0000000", 1, 2)]


def no_mpio_activity() -> list[str]:
    """Two MPIO disks are created at boot; nothing fails."""
    return boot(disks=(1, 2))


def inconclusive() -> list[str]:
    """The KB 2406705 pattern (R1, R2, R4, R5) on Windows Server 2012 R2, which the KB does
    not apply to (issue 14)."""
    return [*boot("2012R2", disks=(1, 2)),
            hw.failover(HOST, 2001, f"{DAY}07:47:10.4021132", 1, P1),
            hw.failover(HOST, 2002, f"{DAY}07:47:10.4050201", 2, P1),
            hw.degraded(HOST, 2003, f"{DAY}07:47:10.6110000", 2),
            hw.no_path(HOST, 2004, f"{DAY}07:47:12.1300000", 1),
            hw.torn_down(HOST, 2005, f"{DAY}07:47:12.1350000", 1),
            hw.lost_write(HOST, 2006, f"{DAY}07:47:15.0000000", "E:\\Data\\orders.mdb")]


CASES = {"all-paths-down": all_paths_down, "path-flapping": path_flapping,
         "healthy-failover": healthy_failover, "no-mpio-activity": no_mpio_activity,
         "inconclusive": inconclusive}


def main() -> int:
    for verdict, build in CASES.items():
        folder = HERE / f"{verdict}-xml" / "case"
        folder.mkdir(parents=True, exist_ok=True)
        hw.write(folder / "System.xml", build())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
