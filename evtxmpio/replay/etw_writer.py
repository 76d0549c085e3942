"""tracerpt-style exports of the decoded MPIO/MSDSM trace (domain reference sections 4.3, 4.4).

* XML (``tracerpt -of XML``): declaration, ``<Events>`` root, the trace header event
  (``EventTrace``, the catalogue's trace header GUID) first, then one
  ``<Event>`` per trace event with named ``<Data>`` and ``RenderingInfo/Task`` = symbolic name.
  ``SystemTime`` is *local* time with the host's UTC offset (``...400+02:00``).
* CSV (``tracerpt -of CSV``): the section 4.3 header line, ``", "`` separators, hex PID/TID,
  ``Clock-Time`` as a FILETIME, then the ``EventTrace, Header`` row, then one row per event with
  ``Event Name`` = provider, ``Type`` = symbolic name and the payload as extra columns in the
  section 4.4 field order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from evtxmpio.catalog import (
    EVENT_NAMESPACE,
    TRACERPT_CSV_COLUMNS,
    ns_to_filetime,
    trace_header,
    trace_providers,
)
from evtxmpio.replay.xml_writer import escape_text

if TYPE_CHECKING:
    from evtxmpio.replay.events import TraceEvent

HEADER_GUID = trace_header()[1]
NULL_GUID = "{00000000-0000-0000-0000-000000000000}"
CSV_HEADER = ", ".join(TRACERPT_CSV_COLUMNS)
PROVIDER_GUIDS = trace_providers()
_HEADER_DATA = (
    ("BufferSize", "65536"),
    ("Version", "83951878"),
    ("ProviderVersion", "7601"),
    ("NumberOfProcessors", "4"),
    ("EventsLost", "0"),
    ("PointerSize", "8"),
    ("LoggerName", "drivers_storage_MPIO"),
    ("LogFileName", "C:\\MS_DATA\\drivers_storage_MPIO.etl"),
)


def local_time(time_ns: int, offset_minutes: int) -> str:
    """Render Unix-epoch ns as local ISO time with offset, 9 fractional digits."""
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    seconds, rest = divmod(time_ns, 1_000_000_000)
    moment = dt.datetime.fromtimestamp(seconds, zone)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{rest:09d}{sign}{hours:02d}:{minutes:02d}"


class TraceXmlWriter:
    """Streams trace events into a tracerpt XML file.

    Args:
        path: output file.
        start_ns: session start (time of the header event).
        computer: host name written into ``Computer``.
        offset_minutes: the host's UTC offset for local ``SystemTime``.
    """

    def __init__(self, path: str | Path, start_ns: int, computer: str, offset_minutes: int) -> None:
        self._offset = offset_minutes
        self._computer = computer
        self.records_written = 0
        self._file = Path(path).open("w", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._file.write('<?xml version="1.0" encoding="UTF-8"?>\n<Events>\n')
        data = "".join(f'<Data Name="{k}">{escape_text(v)}</Data>' for k, v in _HEADER_DATA)
        self._file.write(
            self._event(
                f'<Provider Guid="{HEADER_GUID}" />',
                0,
                2,
                0,
                start_ns,
                0,
                0xB8,
                0,
                data,
                "<Opcode>Header</Opcode><Provider>MSNT_SystemTrace</Provider>",
            )
        )

    def _event(
        self,
        provider: str,
        event_id: int,
        version: int,
        level: int,
        time_ns: int,
        pid: int,
        tid: int,
        cpu: int,
        data: str,
        rendering: str,
    ) -> str:
        return (
            f'<Event xmlns="{EVENT_NAMESPACE}">\n <System>\n  {provider}\n'
            f"  <EventID>{event_id}</EventID><Version>{version}</Version><Level>{level}</Level>"
            "<Task>0</Task><Opcode>0</Opcode><Keywords>0x0</Keywords>\n"
            f'  <TimeCreated SystemTime="{local_time(time_ns, self._offset)}" />\n'
            f'  <Correlation ActivityID="{NULL_GUID}" />\n'
            f'  <Execution ProcessID="{pid}" ThreadID="{tid}" ProcessorID="{cpu}" '
            'KernelTime="0" UserTime="0" />\n'
            f"  <Channel /><Computer>{escape_text(self._computer)}</Computer>\n </System>\n"
            f" <EventData>{data}</EventData>\n"
            f' <RenderingInfo Culture="en-US">{rendering}</RenderingInfo>\n</Event>\n'
        )

    def write(self, event: TraceEvent) -> None:
        """Append one trace event."""
        guid = PROVIDER_GUIDS[event.provider]
        data = "".join(f'<Data Name="{k}">{escape_text(v)}</Data>' for k, v in event.fields)
        self._file.write(
            self._event(
                f'<Provider Name="{event.provider}" Guid="{guid}" />',
                event.event_id,
                0,
                4,
                event.time_ns,
                event.process_id,
                event.thread_id,
                event.processor,
                data,
                f"<Task>{event.name}</Task>",
            )
        )
        self.records_written += 1

    def close(self) -> None:
        """Close the ``<Events>`` root and the file."""
        if not self._file.closed:
            self._file.write("</Events>\n")
            self._file.close()


class TraceCsvWriter:
    """Streams trace events into a tracerpt CSV file (header line, header row, events)."""

    def __init__(self, path: str | Path, start_ns: int) -> None:
        self.records_written = 0
        self._file = Path(path).open("w", encoding="utf-8", newline="\r\n")  # noqa: SIM115
        self._file.write(CSV_HEADER + "\n")
        header = [
            "EventTrace",
            "Header",
            "0",
            "2",
            "0",
            "0",
            "0",
            "0",
            "0x0",
            "0x00000004",
            "0x000000B8",
            "0",
            "",
            "",
            NULL_GUID,
            "",
            str(ns_to_filetime(start_ns)),
            "0",
            "0",
            "65536",
            "1",
            "2",
            "0",
        ]
        self._file.write(", ".join(header) + "\n")

    def write(self, event: TraceEvent) -> None:
        """Append one trace event row."""
        row = [
            event.provider,
            event.name,
            str(event.event_id),
            "0",
            "0",
            "4",
            "0",
            "0",
            "0x0",
            f"0x{event.process_id:08X}",
            f"0x{event.thread_id:08X}",
            str(event.processor),
            "",
            "",
            NULL_GUID,
            "",
            str(ns_to_filetime(event.time_ns)),
            "0",
            "0",
        ]
        row += [value for _, value in event.fields]
        self._file.write(", ".join(row) + "\n")
        self.records_written += 1

    def close(self) -> None:
        """Close the file."""
        if not self._file.closed:
            self._file.close()
