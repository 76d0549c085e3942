"""Normalize: :class:`RawRecord` -> the event frame (one :class:`EventRecord` per event in
:func:`normalize_record`; :func:`event_columns` builds the same values as columns, without an
object per event, for :class:`EventFrameBuilder`).

Typed MPIO fields come from :mod:`evtxmpio.normalize.providers`; message text from
:mod:`evtxmpio.normalize.messages`; the ``name`` column, once for every later stage, from
:mod:`evtxmpio.normalize.names`. ``normalize_records`` returns a frame that passes
:func:`evtxmpio.model.check_frame`, sorted in the total order (time, host, channel,
record id, source file, offset) so that two runs give identical output.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Iterator
from dataclasses import replace

import pandas as pd

from evtxmpio.model import (
    EVENT_COLUMNS,
    RECORD_COLUMNS,
    EventRecord,
    RawRecord,
    check_frame,
    dump_data_json,
    ns_to_timestamp,
    to_frame,
)
from evtxmpio.normalize.columns import column_parts, frame_of_parts
from evtxmpio.normalize.messages import render_message
from evtxmpio.normalize.names import BatchNames, add_names, event_names
from evtxmpio.normalize.providers import extract, is_relevant
from evtxmpio.normalize.texts import event_texts, inserts_of
from evtxmpio.normalize.typed import TypedFields

SORT_COLUMNS = ["time", "host", "channel", "record_id", "source_file", "source_offset"]

__all__ = ["SORT_COLUMNS", "EventFrameBuilder", "add_names", "event_names", "is_relevant",
           "normalize_record", "normalize_records", "sort_events"]


def normalize_record(record: RawRecord) -> EventRecord:
    """One record to one typed event."""
    fields = extract(record)
    return EventRecord(
        time=ns_to_timestamp(record.time_ns),
        host=record.computer,
        channel=record.channel,
        provider=record.provider,
        event_id=record.event_id,
        level=record.level,
        record_id=record.record_id,
        kind=record.kind,
        source_file=record.source_path,
        source_offset=record.source_offset,
        reader=record.reader,
        corrupted=record.corrupted,
        message=render_message(record),
        data=dump_data_json(record.data_dict()),
        **fields,  # type: ignore[arg-type]
    )


# The columns of an event that come straight from its record, and the record attributes.
_PLAIN = {name: operator.attrgetter(attribute) for name, attribute in {
    "time": "time_ns", "host": "computer", "channel": "channel", "provider": "provider",
    "event_id": "event_id", "level": "level", "record_id": "record_id", "kind": "kind",
    "source_file": "source_path", "source_offset": "source_offset", "reader": "reader",
    "corrupted": "corrupted"}.items()}


def event_columns(records: list[RawRecord], typed: TypedFields | None = None
                  ) -> dict[str, object]:
    """The columns :func:`normalize_record` gives ``records`` as rows (``RECORD_COLUMNS``
    in order; ``time`` in nanoseconds; a list of plain values or an array of its dtype), built
    without an object per event (``typed``: the extractor memo of earlier batches)."""
    typed = TypedFields() if typed is None else typed
    plain = {name: list(map(value, records)) for name, value in _PLAIN.items()}
    inserts = inserts_of(records)
    messages, data = event_texts(records, plain["provider"], plain["event_id"], inserts)
    columns = {**plain, **typed.columns(records, plain["kind"], plain["provider"], inserts),
               "message": messages, "data": data}
    return {name: columns[name] for name in RECORD_COLUMNS}


def sort_events(frame: pd.DataFrame) -> pd.DataFrame:
    """Sort in the project's total, stable order.

    The order is found from the sort columns alone; a frame already in order (a single log
    read front to back usually is) is not copied (a storm of kept events held twice costs
    more than its sort).
    """
    if _times_increase(frame["time"]):  # time alone orders every row: nothing to sort
        return frame.reset_index(drop=True)
    keys = frame[SORT_COLUMNS].reset_index(drop=True)
    order = keys.sort_values(SORT_COLUMNS, kind="mergesort", na_position="last").index
    del keys
    if order.is_monotonic_increasing:  # positions 0..n-1 in order: already sorted
        return frame.reset_index(drop=True)
    return frame.take(order).reset_index(drop=True)


def _times_increase(time: pd.Series) -> bool:
    """Every time present and later than the one before (``NaT`` compares false)."""
    if not isinstance(time.dtype, pd.DatetimeTZDtype):
        return False
    values = time.to_numpy(dtype="datetime64[ns]")
    return bool((values[1:] > values[:-1]).all())


def number_trace_records(records: Iterable[RawRecord], counters: dict[str, int] | None = None
                         ) -> Iterator[RawRecord]:
    """Give trace events, which have no EventRecordID, their 1-based position in their file.

    tracerpt exports carry no record number; evidence needs one to point at. Trace events are
    numbered per file in file order (the trace header, which readers skip, is not counted), so
    ``record_id`` 12 of ``MPIO.etw.xml`` is the twelfth trace event in that export.
    """
    counters = {} if counters is None else counters  # carried over batches of one read
    for record in records:
        if record.record_id is None and record.kind.startswith("etw:"):
            number = counters.get(record.source_path, 0) + 1
            counters[record.source_path] = number
            record = replace(record, record_id=number)
        yield record


_RECORD_ID = operator.attrgetter("record_id")
FRAME_BATCH = 8192
"""Records turned into typed columns at a time: the untyped rows of one batch are all that is
held beside the typed columns (on a storm of kept events they cost several times the frame)."""


def normalize_records(records: Iterable[RawRecord]) -> pd.DataFrame:
    """Normalize records into a checked, sorted event frame."""
    builder = EventFrameBuilder()
    builder.add(records)
    return builder.frame()


class EventFrameBuilder:
    """Normalize records batch after batch, as ingest hands them on, into one event frame.

    Only typed columns are kept between batches: the records of a batch can be freed as soon
    as it is added (a storm of kept events no longer holds every record and its frame at once).
    The frame is the one :func:`normalize_records` makes of all the records in order.
    """

    def __init__(self) -> None:
        self._parts: dict[str, list[object]] = {name: [] for name in EVENT_COLUMNS}
        self._counters: dict[str, int] = {}
        self._typed = TypedFields()
        self._names = BatchNames()

    def add(self, records: Iterable[RawRecord]) -> None:
        """Normalize the next records (in input order), :data:`FRAME_BATCH` at a time."""
        records = iter(records)
        while batch := list(itertools.islice(records, FRAME_BATCH)):
            if None in map(_RECORD_ID, batch):  # trace events, numbered in their file
                batch = list(number_trace_records(batch, self._counters))
            columns = event_columns(batch, self._typed)
            columns["name"] = self._names.names(
                columns["provider"], columns["event_id"], columns["kind"])  # type: ignore[arg-type]
            for name, part in column_parts(columns).items():
                self._parts[name].append(part)

    def frame(self) -> pd.DataFrame:
        """The checked, sorted event frame of every record added."""
        parts, self._parts = self._parts, {name: [] for name in EVENT_COLUMNS}
        frame = frame_of_parts(parts, EVENT_COLUMNS) if parts["time"] else \
            to_frame([]).pipe(add_names)
        return frame.pipe(sort_events).pipe(check_frame)
