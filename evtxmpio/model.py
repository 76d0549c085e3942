"""Typed records and the column contract of the pandas event frame.

Vocabulary (STYLE.md): a **record** is what a reader parsed from input (:class:`RawRecord`);
an **event** is a normalized row (:class:`EventRecord`, one row of the event frame).

Event frame columns (``EVENT_COLUMNS``; ``check_frame`` enforces names and dtypes):

============== ======================== ==================================================
column         dtype                    meaning
============== ======================== ==================================================
time           datetime64[ns, UTC]      TimeCreated, UTC, full precision
host           string                   Computer
channel        string                   Channel (``System``; empty for trace exports)
provider       string                   Provider/@Name as written (match case-insensitively)
event_id       Int64                    EventID (low 16 bits)
level          Int64                    Level (never derived from Qualifiers)
record_id      Int64                    the event's own EventRecordID (what Event Viewer shows)
kind           category                 ``system:evtx:event``, ``system:xml:event``, ...
source_file    string                   input file (archive members as ``a.zip!member``)
source_offset  Int64                    byte offset of the record in its file, where known
reader         category                 reader that produced the record
corrupted      bool                     a field did not decode; the row is kept
mpio_disk      Int64                    N of ``\\Device\\MPIODiskN`` (or the trace MpioDisk)
path_id        Int64                    MPIO Path ID (DumpData of mpio 16/18/19/25/33, trace)
dsm            string                   DSM display name (``%2`` of mpio 20/32-38)
failover_id    Int64                    trace FailoverId
request_id     Int64                    trace RequestId
new_path_id    Int64                    trace NewPathId / ReturnedPathId
path_count     Int64                    mpio 2 DumpData / trace PathArrived PathCount
valid_paths    Int64                    trace GetPathResult ValidPathCount
status         Int64                    NTSTATUS (trace Status, IO packet FinalStatus)
old_state      string                   trace StateChange/DevicePathState OldState
new_state      string                   trace NewState
trigger        string                   trace Trigger / Reason; FailoverClustering: the role
error_code     Int64                    IO_ERROR_LOG_PACKET ErrorCode
unique_error   Int64                    IO_ERROR_LOG_PACKET UniqueErrorValue
dump_data      string                   IO_ERROR_LOG_PACKET DumpData as upper-case hex
device         string                   ``%1`` device object of a driver event (RaidPort...);
                                        FailoverClustering: the cluster resource
target         string                   iSCSI target name or address from iScsiPrt dump data;
                                        FailoverClustering: the other node / cluster named
volume         string                   volume / device a file-system event names;
                                        FailoverClustering: the Cluster Shared Volume
file           string                   file named by a delayed-write event
message        string                   rendered message text (offline templates or export)
data           string                   JSON object of all Data fields (``"1"``.. for unnamed)
disk_number    Int64                    Windows disk number M of ``\\Device\\HarddiskM`` (disk
                                        events, FailoverClustering 1792-1795 Device Number)
============== ======================== ==================================================
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

NS_PER_SECOND = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as a reader parsed it, before normalization.

    Attributes:
        kind: discriminator, e.g. ``system:evtx:event`` or ``etw:mpio:trace``.
        time_ns: TimeCreated as Unix-epoch nanoseconds UTC (``None`` if it did not decode).
        provider: Provider/@Name.
        event_id: EventID.
        qualifiers: EventID/@Qualifiers.
        level: Level.
        record_id: the event's own EventRecordID.
        channel: Channel.
        computer: Computer.
        data: ``(name, value)`` pairs of EventData in order; name is ``None`` when unnamed.
        binary: ``<Binary>`` bytes.
        message: message text carried by the input (CSV exports, RenderingInfo).
        task_name: symbolic task name (trace exports' event names).
        source_path: input file.
        source_offset: byte offset of the record in its file, where known.
        reader: the reader that produced it.
        corrupted: a field did not decode; the record is still emitted.
    """

    kind: str
    time_ns: int | None
    provider: str
    event_id: int | None
    source_path: str
    reader: str
    qualifiers: int | None = None
    level: int | None = None
    record_id: int | None = None
    channel: str = ""
    computer: str = ""
    data: tuple[tuple[str | None, str], ...] = ()
    binary: bytes | None = None
    message: str | None = None
    task_name: str | None = None
    source_offset: int | None = None
    corrupted: bool = False

    def data_values(self) -> list[str]:
        """Insertion strings in order, names dropped."""
        return [value for _, value in self.data]

    def data_dict(self) -> dict[str, str]:
        """EventData as a dict; unnamed items are keyed ``"1"``, ``"2"`` ... by position."""
        return {
            name if name else str(index): value
            for index, (name, value) in enumerate(self.data, start=1)
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One normalized event: a row of the event frame (see the module docstring)."""

    time: pd.Timestamp | None
    host: str
    channel: str
    provider: str
    event_id: int | None
    level: int | None
    record_id: int | None
    kind: str
    source_file: str
    source_offset: int | None
    reader: str
    corrupted: bool = False
    mpio_disk: int | None = None
    path_id: int | None = None
    dsm: str | None = None
    failover_id: int | None = None
    request_id: int | None = None
    new_path_id: int | None = None
    path_count: int | None = None
    valid_paths: int | None = None
    status: int | None = None
    old_state: str | None = None
    new_state: str | None = None
    trigger: str | None = None
    error_code: int | None = None
    unique_error: int | None = None
    dump_data: str | None = None
    device: str | None = None
    target: str | None = None
    volume: str | None = None
    file: str | None = None
    message: str | None = None
    data: str = "{}"
    disk_number: int | None = None


EVENT_COLUMNS: dict[str, str] = {
    "time": "datetime64[ns, UTC]",
    "host": "string",
    "channel": "string",
    "provider": "string",
    "event_id": "Int64",
    "level": "Int64",
    "record_id": "Int64",
    "kind": "category",
    "source_file": "string",
    "source_offset": "Int64",
    "reader": "category",
    "corrupted": "bool",
    "mpio_disk": "Int64",
    "path_id": "Int64",
    "dsm": "string",
    "failover_id": "Int64",
    "request_id": "Int64",
    "new_path_id": "Int64",
    "path_count": "Int64",
    "valid_paths": "Int64",
    "status": "Int64",
    "old_state": "string",
    "new_state": "string",
    "trigger": "string",
    "error_code": "Int64",
    "unique_error": "Int64",
    "dump_data": "string",
    "device": "string",
    "target": "string",
    "volume": "string",
    "file": "string",
    "message": "string",
    "data": "string",
    "disk_number": "Int64",
}

assert list(EVENT_COLUMNS) == [f.name for f in fields(EventRecord)]


def to_frame(events: Iterable[EventRecord]) -> pd.DataFrame:
    """Build the event frame from normalized events, with the dtypes of ``EVENT_COLUMNS``."""
    rows = [tuple(getattr(event, name) for name in EVENT_COLUMNS) for event in events]
    frame = pd.DataFrame.from_records(rows, columns=list(EVENT_COLUMNS))
    try:
        with warnings.catch_warnings():  # a value past 64 bits warns before it raises
            warnings.simplefilter("ignore", RuntimeWarning)
            return frame.astype(EVENT_COLUMNS)
    except (OverflowError, TypeError, ValueError):
        # A crafted or damaged log can give numbers no 64-bit column holds (an EventID of
        # 10**30, a 40-digit PathId): those cells become missing, the rest of the case stays.
        for index, (name, dtype) in enumerate(EVENT_COLUMNS.items()):
            if dtype == "Int64":  # from the rows themselves: no detour through float64
                frame[name] = pd.array([row[index] if _fits_int64(row[index]) else None
                                        for row in rows], dtype="Int64")
        return frame.astype(EVENT_COLUMNS)


def _fits_int64(value: object) -> bool:
    """Missing values pass; an integer must fit in 64 bits."""
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def empty_frame() -> pd.DataFrame:
    """An event frame with no rows and the right dtypes."""
    return to_frame([])


def check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Assert that ``frame`` follows the column contract; return it for ``.pipe`` chains.

    Raises:
        TypeError: when a column is missing, extra or of another dtype.
    """
    if list(frame.columns) != list(EVENT_COLUMNS):
        raise TypeError(f"event frame columns {list(frame.columns)} != {list(EVENT_COLUMNS)}")
    for name, dtype in EVENT_COLUMNS.items():
        if str(frame[name].dtype) != dtype:
            raise TypeError(f"event frame column {name!r} is {frame[name].dtype}, not {dtype}")
    return frame


def dump_data_json(data: dict[str, str]) -> str:
    """Serialize a record's data dict the way the ``data`` column stores it."""
    return json.dumps(data, ensure_ascii=False, sort_keys=False)


def ns_to_timestamp(time_ns: int | None) -> pd.Timestamp | None:
    """Unix-epoch nanoseconds to a UTC ``Timestamp`` (``None`` or out of range: ``None``)."""
    if time_ns is None or not -(2**63) < time_ns < 2**63:
        return None  # outside datetime64[ns] (ingest reports such times)
    return pd.Timestamp(time_ns, unit="ns", tz="UTC")
