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
                                        FailoverClustering: the other node / cluster named;
                                        USER32 1074: the computer it restarts (``%2``)
volume         string                   volume / device a file-system event names;
                                        FailoverClustering: the Cluster Shared Volume
file           string                   file named by a delayed-write event
message        string                   rendered message text (offline templates or export)
data           string                   every Data field as a JSON object (``"1"``.. for
                                        unnamed), the lossless text that rules may match
                                        (``regex``, ``icontains``); no stage parses it: what a
                                        stage needs from it is a typed column below
disk_number    Int64                    Windows disk number M of ``\\Device\\HarddiskM`` (disk
                                        events, FailoverClustering 1792-1795 Device Number)
os_version     string                   OS version an OS event names: EventLog 6009 ``%1``
                                        (``6.01.``), Kernel-General 12 ``Major.Minor``
os_build       Int64                    OS build of the same events (6009 ``%2``,
                                        Kernel-General 12 BuildVersion)
name           string                   ``provider:event_id`` for System events with the
                                        provider lower-cased (``mpio:16``, ``ntfs:50``),
                                        ``PROVIDER:SymbolicName`` for trace events
                                        (``MPIO:FailoverStart``); set once, by normalize
============== ======================== ==================================================

``to_frame`` builds the columns of :class:`EventRecord` (all but ``name``);
:func:`evtxmpio.normalize.normalize_records` adds ``name`` and returns the checked event frame.

Analysis frame columns (``ANALYSIS_COLUMNS``; ``check_analysis_frame``): the event frame plus
what the timeline computes per event (:func:`evtxmpio.timeline.analysis_frame`). It is what
rules read and what ``CaseResult.events`` holds.

============== ======================== ==================================================
column         dtype                    meaning
============== ======================== ==================================================
(event frame)                           every column above, in that order
episode        string                   the failure epoch of the event's Path ID,
                                        ``host|0xPATHID|n``; disk-level events without a
                                        Path ID: their disk's latest episode; else missing
paths_left     Int64                    estimated usable paths of the event's disk at that
                                        moment (missing when unknown; 0 after mpio 23)
============== ======================== ==================================================
"""

from __future__ import annotations

import json
import operator
import warnings
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass, fields, make_dataclass
from json.encoder import encode_basestring
from typing import TypeVar

import pandas as pd

from evtxmpio.catalog.cluster import provider_name

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


T = TypeVar("T")


def quick_constructor(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen, slotted dataclass ``cls`` (positional or by name, with
    its defaults) at a quarter of its own cost.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (RawRecord:
    1.5 µs, on every record a reader builds). The same fields in the same slots, set by a plain
    ``__init__``, cost 0.2 µs; the object then takes its class (same layout, so CPython allows
    it) and is an instance like any other: frozen, equal and hashed by its fields.
    """
    plain = make_dataclass(f"_{cls.__name__}Slots",
                           [(f.name, f.type, f.default) if f.default is not MISSING
                            else (f.name, f.type) for f in fields(cls)],
                           slots=True, eq=False, repr=False)
    assert plain.__slots__ == cls.__slots__

    def construct(*args: object, **kwargs: object) -> T:
        made = plain(*args, **kwargs)
        made.__class__ = cls
        return made  # type: ignore[return-value]

    construct.__doc__ = f"``{cls.__name__}(...)`` at a quarter of its cost."
    return construct


raw_record = quick_constructor(RawRecord)


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
    os_version: str | None = None
    os_build: int | None = None


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
    "os_version": "string",
    "os_build": "Int64",
    "name": "string",
}
RECORD_COLUMNS: dict[str, str] = {c: t for c, t in EVENT_COLUMNS.items() if c != "name"}
"""The columns :func:`to_frame` builds from :class:`EventRecord` (``name`` comes after)."""
ANALYSIS_COLUMNS: dict[str, str] = {**EVENT_COLUMNS, "episode": "string", "paths_left": "Int64"}

assert list(RECORD_COLUMNS) == [f.name for f in fields(EventRecord)]


_RECORD_VALUES = operator.attrgetter(*RECORD_COLUMNS)


def to_frame(events: Iterable[EventRecord]) -> pd.DataFrame:
    """The columns of normalized events (``RECORD_COLUMNS``, with their dtypes); normalize adds
    ``name`` to make the event frame (a batch at a time: ``normalize.EventFrameBuilder``)."""
    rows = list(map(_RECORD_VALUES, events))
    frame = pd.DataFrame.from_records(rows, columns=list(RECORD_COLUMNS))
    try:
        with warnings.catch_warnings():  # a value past 64 bits warns before it raises
            warnings.simplefilter("ignore", RuntimeWarning)
            return frame.astype(RECORD_COLUMNS)
    except (OverflowError, TypeError, ValueError):
        # A crafted or damaged log can give numbers no 64-bit column holds (an EventID of
        # 10**30, a 40-digit PathId): those cells become missing, the rest of the case stays.
        for index, (name, dtype) in enumerate(RECORD_COLUMNS.items()):
            if dtype == "Int64":  # from the rows themselves: no detour through float64
                frame[name] = pd.array([row[index] if fits_int64(row[index]) else None
                                        for row in rows], dtype="Int64")
        return frame.astype(RECORD_COLUMNS)


def fits_int64(value: object) -> bool:
    """Missing values pass; an integer must fit in 64 bits."""
    return not isinstance(value, int) or -(2**63) <= value < 2**63


def empty_frame() -> pd.DataFrame:
    """An event frame with no rows and the right dtypes."""
    return to_frame([]).assign(name=pd.array([], dtype="string"))


def check_frame(frame: pd.DataFrame, schema: dict[str, str] | None = None,
                what: str = "event frame") -> pd.DataFrame:
    """Assert that ``frame`` follows the column contract (``schema``, default
    ``EVENT_COLUMNS``): the same columns in the same order, each of its dtype, and a
    ``RangeIndex`` (rules and reports point at events by row label); return ``frame`` for
    ``.pipe`` chains.

    Raises:
        TypeError: when a column is missing, extra, out of order or of another dtype, or the
            index is not ``0..n-1``.
    """
    schema = EVENT_COLUMNS if schema is None else schema
    if list(frame.columns) != list(schema):
        raise TypeError(f"{what} columns {list(frame.columns)} != {list(schema)}")
    for name, dtype in schema.items():
        if str(frame[name].dtype) != dtype:
            raise TypeError(f"{what} column {name!r} is {frame[name].dtype}, not {dtype}")
    if not frame.index.equals(pd.RangeIndex(len(frame))):
        raise TypeError(f"{what} index is not 0..{len(frame) - 1}")
    return frame


def trace_rows(frame: pd.DataFrame) -> pd.Series:
    """Which rows are trace events (``kind`` starting with ``etw:``), as a ``bool`` mask; for
    the categorical ``kind`` of the frame contract read from its few categories, not per row."""
    kind = frame["kind"]
    if isinstance(kind.dtype, pd.CategoricalDtype):
        return kind.isin([c for c in kind.cat.categories if str(c).startswith("etw:")])
    return kind.astype(str).str.startswith("etw:")


def cluster_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The FailoverClustering events of ``frame`` (its provider in any case)."""
    provider = provider_name().lower()
    spellings = [name for name in frame["provider"].dropna().unique()
                 if str(name).lower() == provider]  # a few distinct names, not every row
    if not spellings:
        return frame.iloc[:0]
    return frame.iloc[frame["provider"].isin(spellings).to_numpy(
        dtype=bool, na_value=False).nonzero()[0]]


def folded_in(column: pd.Series, names: Iterable[str]) -> pd.Series:
    """Which rows of a text ``column`` hold one of ``names`` (case-folded) in any letter case,
    as a ``bool`` mask (missing: ``False``); each distinct value is folded once, not each row."""
    wanted = frozenset(names)
    matching = [value for value in column.dropna().unique() if str(value).casefold() in wanted]
    return column.isin(matching).fillna(False).astype(bool) if matching else \
        pd.Series(False, index=column.index)


def check_analysis_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`check_frame` for the analysis frame (``ANALYSIS_COLUMNS``)."""
    return check_frame(frame, ANALYSIS_COLUMNS, "analysis frame")


# What json.dumps(data, ensure_ascii=False, sort_keys=False) builds on every call, made once.
_DATA_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=False).encode


def dump_data_json(data: dict[str, str]) -> str:
    """Serialize a record's data dict the way the ``data`` column stores it: the text of
    ``json.dumps(data, ensure_ascii=False)``, written directly for text keys and values."""
    try:
        return "{" + ", ".join([encode_basestring(key) + ": " + encode_basestring(value)
                                for key, value in data.items()]) + "}"
    except TypeError:  # a value that is not text: the encoder says how it is written
        return _DATA_JSON(data)


# '"1": ', '"2": ' ...: the keys of unnamed Data items as dump_data_json writes them.
_UNNAMED_KEYS = [encode_basestring(str(number)) + ": " for number in range(1, 65)]
_NAME = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)


def data_json(data: tuple[tuple[str | None, str], ...]) -> str:
    """``dump_data_json`` of the dict :meth:`RawRecord.data_dict` makes of ``data``; items
    without names (classic events), keyed by position, are written from the pairs."""
    if len(data) > len(_UNNAMED_KEYS) or any(map(_NAME, data)):
        return dump_data_json(_data_dict(data))
    try:
        return "{" + ", ".join(map(operator.add, _UNNAMED_KEYS,
                                   map(encode_basestring, map(_VALUE, data)))) + "}"
    except TypeError:  # a value that is not text
        return dump_data_json(_data_dict(data))


def _data_dict(data: tuple[tuple[str | None, str], ...]) -> dict[str, str]:
    return {name if name else str(index): value
            for index, (name, value) in enumerate(data, start=1)}


def data_values(column: pd.Series) -> list[str]:
    """Every distinct Data value of a ``data`` column, in first-seen order (the reader that
    pairs with :func:`dump_data_json`; for callers that must see every insertion string, like
    ``--redact`` learning names). A text that is not a JSON object counts as one value."""
    values: dict[str, None] = {}
    for text in column.dropna().unique():
        try:
            parsed = json.loads(text)
        except ValueError:
            values.setdefault(str(text))
            continue
        if isinstance(parsed, dict):
            values.update(dict.fromkeys(str(v) for v in parsed.values()))
    return list(values)


def ns_to_timestamp(time_ns: int | None) -> pd.Timestamp | None:
    """Unix-epoch nanoseconds to a UTC ``Timestamp`` (``None`` or out of range: ``None``)."""
    if time_ns is None or not -(2**63) < time_ns < 2**63:
        return None  # outside datetime64[ns] (ingest reports such times)
    return pd.Timestamp(time_ns, unit="ns", tz="UTC")
