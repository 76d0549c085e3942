"""tracerpt exports of MPIO/MSDSM ETW traces: XML (``-of XML``) and CSV (``-of CSV``).

Spec: domain reference sections 4.3 and 4.4 (the decoded MPIO/MSDSM vocabulary is a project
convention, [P]).

- XML: an ``<Events>`` root of ``<Event>`` elements like Event XML, but with ``Execution``
  ``KernelTime``/``UserTime``, trace provider GUIDs, ``RenderingInfo/Task`` names, and
  ``SystemTime`` in local time *with* an offset. Told apart from Event XML by those marks in
  the first 4 KiB; read by :mod:`evtxmpio.ingest.event_stream` like Event XML.
- CSV: header ``Event Name, Type, Event ID, ..., Clock-Time, Kernel(ms), User(ms), User Data``,
  ``", "`` separators, ``Clock-Time`` a FILETIME (UTC), the payload as extra positional columns
  after ``User(ms)``, named here by provider + event name from section 4.4 (the vocabulary of
  :mod:`evtxmpio.catalog`). UTF-16 with ``-en Unicode``.

The first event of both is the trace header (``EventTrace``, provider GUID in
the catalogue): counted as read and skipped (``trace-header``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from lxml import etree

from evtxmpio.catalog import (
    TRACERPT_CSV_COLUMNS,
    field_int,
    filetime_to_ns,
    trace_fields,
    trace_header,
    trace_providers,
)
from evtxmpio.ingest.base import (
    IngestIssue,
    InputFormat,
    ReadOptions,
    SkippedRecords,
    Source,
    register,
)
from evtxmpio.ingest.csv_rows import csv_rows, field_limit
from evtxmpio.ingest.decode import head_text
from evtxmpio.ingest.event_stream import read_event_stream
from evtxmpio.model import RawRecord

HEADER_GUID = trace_header()[1].strip("{}")
TRACE_MARKS = re.compile(
    "|".join(["KernelTime=", *(re.escape(guid.strip("{}")) for guid in trace_providers().values()),
              re.escape(HEADER_GUID)]), re.IGNORECASE)
CSV_HEADER = ", ".join(TRACERPT_CSV_COLUMNS[:3])  # what the first line starts with
_CLOCK_AT = TRACERPT_CSV_COLUMNS.index("Clock-Time")
_USER_MS_AT = TRACERPT_CSV_COLUMNS.index("User(ms)")
MPIO_TRACE_PROVIDERS = frozenset(name.lower() for name in trace_providers())


def sniff_tracerpt_xml(head: bytes) -> bool:
    """XML with ``<Event`` elements and a trace mark (KernelTime, trace or header GUID)."""
    text = head_text(head)
    return "<Event" in text and TRACE_MARKS.search(text) is not None


def sniff_tracerpt_csv(head: bytes) -> bool:
    """The tracerpt CSV header line."""
    return head_text(head).startswith(CSV_HEADER)


def _is_trace_header(event: etree._Element) -> str | None:
    for element in event.iter("{*}Provider"):
        guid = (element.get("Guid") or "").strip("{}").lower()
        name = (element.get("Name") or "").lower()
        if guid == HEADER_GUID or name == "eventtrace":
            return "trace-header"
        return None
    return None


def read_tracerpt_xml(source: Source, options: ReadOptions | None = None
                      ) -> Iterator[RawRecord | IngestIssue | SkippedRecords]:
    """Records of a tracerpt XML export (times keep their offsets, converted to UTC)."""
    return read_event_stream(source, options, reader="tracerpt-xml", kind="etw:xml:event",
                             skip_event=_is_trace_header)


def read_tracerpt_csv(source: Source, options: ReadOptions | None = None
                      ) -> Iterator[RawRecord | IngestIssue | SkippedRecords]:
    """Records of a tracerpt CSV (dumpfile) export."""
    columns: dict[str, int] | None = None
    limit = field_limit(options)
    for line_no, row in enumerate(csv_rows(source, limit, skipinitialspace=True), start=1):
        if isinstance(row, IngestIssue):
            yield row
            continue
        if isinstance(row, csv.Error):
            yield IngestIssue(source.name, None, "csv.bad-row", f"row {line_no}: {row}",
                              records_failed=1)
            continue
        row = [cell.strip() for cell in row]
        if columns is None:
            columns = {name: index for index, name in enumerate(row)}
            continue
        if not any(row):
            continue
        yield _trace_row(row, columns, source.name, line_no)


def _trace_row(row: list[str], columns: dict[str, int], name: str, line_no: int
               ) -> RawRecord | IngestIssue | SkippedRecords:
    payload_at = columns.get("User(ms)", _USER_MS_AT) + 1
    if len(row) < payload_at:
        return IngestIssue(name, None, "csv.short-row",
                           f"row {line_no}: {len(row)} columns, payload starts at {payload_at}",
                           records_failed=1)
    provider = row[0] if row else ""
    event_name = row[1] if len(row) > 1 else ""
    if provider.lower() == "eventtrace" or (event_name == "Header" and not provider):
        return SkippedRecords(name, 1, "trace-header")
    clock = field_int(_cell(row, columns, "Clock-Time", _CLOCK_AT))
    time_ns = filetime_to_ns(clock) if clock is not None and clock > 0 else None
    names = trace_fields(provider, event_name)
    values = row[payload_at:]
    if names and len(values) > len(names):
        return IngestIssue(name, None, "csv.bad-row",
                           f"row {line_no}: {len(values)} payload values, {event_name} has "
                           f"{len(names)} (a damaged line end may have joined two rows)",
                           records_failed=1)
    data = tuple((names[i] if i < len(names) else None, value)
                 for i, value in enumerate(values))
    event_id = field_int(_cell(row, columns, "Event ID", 2))
    kind = "etw:mpio:trace" if provider.lower() in MPIO_TRACE_PROVIDERS else "etw:csv:event"
    return RawRecord(
        kind=kind, time_ns=time_ns, provider=provider, event_id=event_id, source_path=name,
        reader="tracerpt-csv", level=field_int(_cell(row, columns, "Level", 5)), data=data,
        task_name=event_name or None, corrupted=time_ns is None or event_id is None,
    )


def _cell(row: list[str], columns: dict[str, int], name: str, default: int) -> str | None:
    """The cell of column ``name`` (by the header, else its usual place), if the row has it."""
    index = columns.get(name, default)
    return row[index] if index < len(row) else None


register(InputFormat("tracerpt-xml", sniff=sniff_tracerpt_xml, read=read_tracerpt_xml,
                     priority=55, accepts_options=True))
register(InputFormat("tracerpt-csv", sniff=sniff_tracerpt_csv, read=read_tracerpt_csv,
                     priority=55, accepts_options=True))
