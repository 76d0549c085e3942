"""Typed fields extracted once per distinct input (``normalize.typed.TypedFields``): records that
share a memo entry must read the same, records of other providers or events never share one,
and the memo's bound costs time, never a value. Expected values are read off the records by
hand (domain reference 2.2: disk 153 ``%1`` PDO, ``%3`` disk number, ``%4`` MPIO disk)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.model import RawRecord, to_frame
from evtxmpio.normalize import event_columns, normalize_record
from evtxmpio.normalize.columns import frame_from_columns
from evtxmpio.normalize.providers import disk_fields, disk_inputs, disks_inputs
from evtxmpio.normalize.typed import TypedFields

DISK_DATA = ((None, "\\Device\\Harddisk3\\DR3"), (None, "0x10"), (None, "3"),
             (None, "\\Device\\MPIODisk7"))


def _record(provider: str, event_id: int, data: tuple[tuple[str | None, str], ...],
            record_id: int = 1, binary: bytes | None = None) -> RawRecord:
    return RawRecord("system:evtx:event", 1_000 + record_id, provider, event_id, "System.evtx",
                     "test", record_id=record_id, channel="System", computer="FS01",
                     data=data, binary=binary)


def _typed(records: list[RawRecord], typed: TypedFields, *names: str) -> list[tuple]:
    frame = frame_from_columns(event_columns(records, typed))
    return list(zip(*(frame[name].tolist() for name in names), strict=True))


def test_same_data_other_event_or_provider_shares_no_fields() -> None:
    typed = TypedFields()
    disk = [_record("disk", 153, DISK_DATA), _record("disk", 7, DISK_DATA, 2),
            _record("disk", 153, DISK_DATA, 3)]
    assert _typed(disk, typed, "disk_number", "mpio_disk") == [(3, 7), (3, pd.NA), (3, 7)]
    os_data = ((None, "6.01."), (None, "7601"))
    os_events = [_record("EventLog", 6009, os_data), _record("EventLog", 6005, os_data, 2),
                 _record("Microsoft-Windows-Kernel-General", 6009, os_data, 3),
                 _record("eventlog", 6009, os_data, 4)]
    assert _typed(os_events, typed, "os_version", "os_build") == [
        ("6.01.", 7601), (pd.NA, pd.NA), (pd.NA, pd.NA), ("6.01.", 7601)]


def test_the_bound_is_kept_and_changes_no_value() -> None:
    typed = TypedFields(limit=3)
    for start in range(0, 40, 8):
        batch = [_record("disk", 153, ((None, f"\\Device\\Harddisk{n % 11}\\DR{n % 11}"),
                                       (None, f"0x{n:x}"), (None, str(n % 11)),
                                       (None, f"\\Device\\MPIODisk{n % 5}")), n)
                 for n in range(start, start + 8)]
        assert _typed(batch, typed, "disk_number", "mpio_disk", "device") == [
            (n % 11, n % 5, f"\\Device\\Harddisk{n % 11}\\DR{n % 11}")
            for n in range(start, start + 8)]
        assert typed.remembered() <= 3


def test_a_storm_with_a_few_others_equals_one_event_per_record() -> None:
    """Many records sharing one entry, others between them, over several batches."""
    packet = bytes.fromhex("0f000400030028000000000099000480") + bytes(24)
    records = [_record("disk", 153, ((None, "\\Device\\Harddisk2\\DR2"), (None, hex(n)),
                                     (None, "2")), n, packet) for n in range(200)]
    records[50:50] = [_record("mpio", 16, ((None, "\\Device\\MPIODisk2"),), 999)]
    records[120:120] = [_record("Disk", 153, records[0].data, 998, packet)]
    typed = TypedFields(limit=2)
    general = to_frame([normalize_record(record) for record in records])
    parts = [frame_from_columns(event_columns(records[start:start + 64], typed))
             for start in range(0, len(records), 64)]
    fast = pd.concat(parts, ignore_index=True).astype({"kind": "category", "reader": "category"})
    pd.testing.assert_frame_equal(fast, general, check_exact=True)
    assert fast["error_code"].iloc[0] == 0x80040099 and fast["disk_number"].iloc[0] == 2


_TEXT = st.text(alphabet="\\DeviceHardisk0123456789MPIO x", max_size=24)


@given(st.sampled_from([153, 154, 7, 11, 51]), st.lists(_TEXT, max_size=6),
       st.integers(0, 6), _TEXT, st.one_of(st.none(), st.binary(max_size=60)))
@example(153, ["\\Device\\Harddisk1\\DR1", "0x1", "1", "\\Device\\MPIODisk4"], 1, "0x2", None)
@example(153, ["\\Device\\Harddisk1\\DR1", "0x1", "1", "\\Device\\MPIODisk4"], 3,
         "\\Device\\MPIODisk5", None)
@example(154, ["\\Device\\Harddisk1\\DR1", "0x1", " 12", "x", "y"], 2, "13", b"")
@example(11, ["\\Device\\Harddisk9\\DR9"], 0, "\\Device\\Harddisk8\\DR8", bytes(40))
def test_disk_inputs_hold_all_that_disk_fields_reads(event_id: int, values: list[str],
                                                     position: int, other: str,
                                                     binary: bytes | None) -> None:
    """A record and its copy with one insert changed (and another message, record id and
    level) get the same fields whenever ``disk_inputs`` cannot tell them apart: the memo may
    hand one's fields to the other."""
    data = tuple((None, value) for value in values)
    changed = tuple((None, other) if index == position else pair
                    for index, pair in enumerate(data))
    first = _record("disk", event_id, data, binary=binary)
    second = RawRecord("system:evtx:event", 5, "disk", event_id, "b", "test", level=2,
                       record_id=9, data=changed, binary=binary, message="m")
    assert list(disks_inputs([first, second])) == [disk_inputs(first), disk_inputs(second)]
    assert disk_inputs(first) != disk_inputs(second) or \
        disk_fields(first) == disk_fields(second)
    if position == 1:  # the block address of a 153: never read
        assert disk_inputs(first) == disk_inputs(second)


def test_batch_names_are_the_names_of_the_rows() -> None:
    """``name`` from each distinct provider, event id and kind (few remembered) equals
    ``event_names`` of the frame; written out for a few rows from the module's rules."""
    from evtxmpio.normalize.names import BatchNames, event_names

    rows = [("MPIO", 16, "system:evtx:event"), ("Application Popup", 26, "system:evtx:event"),
            ("MPIO", 16, "system:evtx:event"), ("MPIO", 7, "etw:mpio:trace"),
            ("Disk", None, "system:evtx:event"), ("disk", 10**30, "system:evtx:event")]
    names = BatchNames(limit=2)
    got = names.names(*map(list, zip(*rows, strict=True)))
    assert got[:3] == ["mpio:16", "application popup:26", "mpio:16"]
    assert got[4:] == ["disk:None", "disk:None"]
    frame = frame_from_columns(event_columns(
        [RawRecord(kind, 1, provider, event_id, "f", "test") for provider, event_id, kind in rows]))
    assert got == event_names(frame).tolist()
    assert names.names(["MPIO"] * 3, [16] * 3, ["system:evtx:event"] * 3) == ["mpio:16"] * 3


_BINARIES = st.one_of(st.none(), st.sampled_from([b"", b"\x00", b"\x00\x00", b"ab"]))


@given(st.lists(st.tuples(st.sampled_from([153, 154, 7, None]),
                          st.lists(st.sampled_from(["", "a", "b", "é", "\\x"]), max_size=5),
                          _BINARIES), min_size=1, max_size=12))
@example([(153, ["a", "x", "b"], None), (153, ["a", "y", "b"], b""), (153, ["a", "z", "b"], None)])
@example([(153, [], None), (None, [], None), (153, ["a"], b"\x00"), (153, ["a"], b"\x00\x00")])
@example([(7, ["a", "b", "c", "d"], b"ab"), (7, ["a", "b", "c", "e"], b"ab"), (7, ["a"], b"ab")])
@example([(153, ["a"], None), (153, ["a", "x"], None)])  # apart by their count alone
def test_rows_told_apart_by_pyarrow_as_by_their_keys(
        rows: list[tuple[int | None, list[str], bytes | None]]) -> None:
    """``read_codes`` numbers two records alike exactly when ``disk_inputs`` is equal, over the
    whole batch and over some of its rows."""
    from evtxmpio.normalize.providers import DISK_READS
    from evtxmpio.normalize.texts import inserts_of
    from evtxmpio.normalize.typed import read_codes

    records = [_record("disk", event_id, tuple((None, v) for v in values), n, binary)
               for n, (event_id, values, binary) in enumerate(rows)]
    inserts = inserts_of(records)
    assert inserts is not None
    for where in (None, np.arange(0, len(records), 2)):
        chosen = records if where is None else [records[index] for index in where]
        codes = read_codes(DISK_READS, chosen, inserts, where)
        assert codes is not None
        keys = [disk_inputs(record) for record in chosen]
        assert [[a == b for b in codes] for a in codes] == [[a == b for b in keys] for a in keys]


def test_a_record_that_makes_no_key_is_extracted_all_the_same() -> None:
    """A binary that is not hashable (a reader giving a bytearray) is no memo key."""
    record = _record("disk", 153, DISK_DATA)
    odd = RawRecord("system:evtx:event", 5, "disk", 153, "f", "test", data=DISK_DATA,
                    binary=bytearray(b"\x00"))  # type: ignore[arg-type]
    typed = TypedFields()
    for records in ([record, odd], [odd, record]):
        assert _typed(records, typed, "disk_number", "mpio_disk") == [(3, 7), (3, 7)]
