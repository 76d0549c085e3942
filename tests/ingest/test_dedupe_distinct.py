"""De-duplication never drops a real event (issue 14 item 5).

Inputs are hand-written exports in the shapes of the domain reference (section 5: Event
Viewer CSV has no record ids; wevtutil XML has them, and they restart when a log is cleared).
"""

from __future__ import annotations

from pathlib import Path

from evtxmpio.ingest import ingest_paths
from tests.conftest import SAMPLES

HEADER = "Level,Date and Time,Source,Event ID,Task Category\n"
ADDED = ("Information,6/14/2011 6:58:20 AM,mpio,2,None,Added device to \\Device\\MPIODisk1. "
         "DumpData contains the current number of paths.\n")
NOT_READY = ("Error,6/14/2011 7:47:09 AM,disk,15,None,"
             "\"The device, \\Device\\Harddisk3\\DR3, is not ready for access yet.\"\n")
FAILOVER = ("Error,6/14/2011 7:47:10 AM,mpio,16,None,"
            "A fail-over on \\Device\\MPIODisk1 occurred.\n")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_identical_rows_inside_one_csv_export_are_distinct_events(tmp_path: Path) -> None:
    # mpio 2 once per path (two paths), two disk 15 in the same second: four real events.
    csv = _write(tmp_path / "System.csv", HEADER + ADDED + ADDED + NOT_READY + NOT_READY
                 + FAILOVER)
    result = ingest_paths([csv])
    (account,) = result.accounts
    assert account.duplicates_removed == 0
    assert account.records_used == 5 and len(result.records) == 5


def test_rows_repeated_across_exports_are_the_same_events(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.csv", HEADER + ADDED + ADDED + NOT_READY)
    again = _write(tmp_path / "b.csv", HEADER + ADDED + ADDED + NOT_READY)
    result = ingest_paths([first, again])
    assert [a.duplicates_removed for a in result.accounts] == [0, 3]
    assert len(result.records) == 3


def test_overlapping_csv_exports_keep_the_extra_copies(tmp_path: Path) -> None:
    # Export 1 ends inside the burst of mpio 2 (one of its two rows); export 2 holds both.
    first = _write(tmp_path / "a.csv", HEADER + NOT_READY + ADDED)
    second = _write(tmp_path / "b.csv", HEADER + ADDED + ADDED + FAILOVER)
    result = ingest_paths([first, second])
    assert [a.duplicates_removed for a in result.accounts] == [0, 1]
    assert len(result.records) == 5 - 1  # the union: disk 15, mpio 2 twice, mpio 16


def test_the_same_export_named_twice_is_read_twice(tmp_path: Path) -> None:
    csv = _write(tmp_path / "System.csv", HEADER + ADDED + ADDED)
    result = ingest_paths([csv, csv])
    assert [a.duplicates_removed for a in result.accounts] == [0, 2]


def _event(record_id: int, time: str, event_id: int, disk: int) -> str:
    return ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            f"<Provider Name='mpio'/><EventID Qualifiers='49160'>{event_id}</EventID>"
            "<Level>2</Level><Task>0</Task><Keywords>0x80000000000000</Keywords>"
            f"<TimeCreated SystemTime='2011-06-14T{time}Z'/>"
            f"<EventRecordID>{record_id}</EventRecordID><Channel>System</Channel>"
            "<Computer>FS01.contoso.local</Computer><Security/></System>"
            f"<EventData><Data>\\Device\\MPIODisk{disk}</Data></EventData></Event>")


def test_a_log_cleared_mid_incident_repeats_record_ids_and_keeps_every_event(
        tmp_path: Path) -> None:
    before = _write(tmp_path / "before-clear.xml", "".join([
        _event(1, "07:47:10.402", 16, 1), _event(2, "07:47:10.405", 16, 2),
        _event(3, "07:47:10.611", 17, 2)]))
    after = _write(tmp_path / "after-clear.xml", "".join([
        _event(1, "07:47:12.130", 22, 1), _event(2, "07:47:12.131", 23, 1),
        _event(3, "07:47:12.200", 17, 2)]))
    result = ingest_paths([before, after])
    assert [a.duplicates_removed for a in result.accounts] == [0, 0]
    assert len(result.records) == 6
    # The post-clear export sent twice: the same records read again.
    result = ingest_paths([before, after, after])
    assert [a.duplicates_removed for a in result.accounts] == [0, 0, 3]


def test_a_record_with_an_id_read_twice_in_one_file_is_one_record(tmp_path: Path) -> None:
    one = _event(7, "07:47:10.402", 16, 1)
    result = ingest_paths([_write(tmp_path / "twice.xml", one + one)])
    assert result.accounts[0].duplicates_removed == 1


def test_the_overlapping_export_sample_gives_back_the_whole_log() -> None:
    case = SAMPLES / "duplicated-export"
    whole = ingest_paths([case / "System-FS02.evtx"])
    parts = ingest_paths([case / "System-FS02-export1.xml", case / "System-FS02-export2.xml"])
    assert parts.accounts[1].duplicates_removed > 0
    key = [(r.record_id, r.time_ns // 1000, r.event_id) for r in whole.records]
    assert sorted((r.record_id, r.time_ns // 1000, r.event_id) for r in parts.records) == \
        sorted(key)
