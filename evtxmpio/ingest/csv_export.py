"""CSV exports of the System log: Event Viewer "Save as CSV" and ``Get-WinEvent | Export-Csv``.

Spec: domain reference section 5.

- Event Viewer: header ``Level,Date and Time,Source,Event ID,Task Category`` (English; the
  German header is accepted too), a sixth unnamed column with the message text (may span
  lines, quoted). No EventRecordID, no Data, no Binary.
- Export-Csv: an optional ``#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord`` line,
  then a quoted header ``"Message","Id","Version","Qualifiers","Level",...,"RecordId",
  "ProviderName",...,"LogName",...,"MachineName",...,"TimeCreated",...``. ``Properties`` is
  a type name, so EventData and Binary are lost; the message text remains.

Both carry local time in the exporting machine's culture, without a zone: the zone is the
``tz`` option (UTC by default; the account says which was assumed). Accepted date forms:
``M/D/YYYY h:mm:ss AM|PM`` (en-US), ``D/M/YYYY HH:mm:ss`` (slashes without AM/PM: en-GB,
fr-FR), ``D.M.YYYY HH:mm:ss`` (de-DE), ``YYYY-MM-DD HH:mm:ss`` and ISO-8601 with an offset.
Ambiguous or missing local times (DST changes) take the first occurrence (``fold=0``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from evtxmpio.catalog import field_int
from evtxmpio.ingest.base import IngestIssue, InputFormat, ReadOptions, Source, register
from evtxmpio.ingest.csv_rows import csv_rows, field_limit
from evtxmpio.ingest.decode import head_text
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

KIND = "system:csv:event"
VIEWER_HEADERS = (
    ("level", "date and time", "source", "event id", "task category"),
    ("ebene", "datum und uhrzeit", "quelle", "ereignis-id", "aufgabenkategorie"),
)
LEVELS = {
    "critical": 1, "error": 2, "warning": 3, "information": 4, "verbose": 5,
    "kritisch": 1, "fehler": 2, "warnung": 3, "informationen": 4, "ausführlich": 5,
}
_US = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
                 r"\s*([AaPp][Mm])\s*$")
_DMY = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s+(\d{1,2}):(\d{2}):(\d{2})"
                  r"(?:[.,](\d{1,9}))?\s*$")
_YMD = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

VIEWER_MIN_COLUMNS = 5  # Level, Date and Time, Source, Event ID, Task Category (+ message)


def parse_local_ns(text: str, tz: str | None) -> int | None:
    """A culture-formatted local time (see the module docstring) to Unix-epoch ns UTC."""
    zone = ZoneInfo(tz) if tz else UTC
    parts = _split_local(text)
    if parts is None:
        return parse_iso_ns(text, default_offset_minutes=None)
    year, month, day, hour, minute, second, nanos = parts
    try:
        local = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError:
        return None
    delta = local - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + nanos


def _split_local(text: str) -> tuple[int, int, int, int, int, int, int] | None:
    if match := _US.match(text):
        month, day, year, hour, minute, second = (int(g) for g in match.groups()[:6])
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if match.group(8).lower() == "pm" else 0)
    elif match := _DMY.match(text):
        day, month, year, hour, minute, second = (int(g) for g in match.groups()[:6])
    elif match := _YMD.match(text):
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    else:
        return None
    fraction = match.group(7)
    nanos = int(fraction.ljust(9, "0")[:9]) if fraction else 0
    return year, month, day, hour, minute, second, nanos


def _first_line(head: bytes) -> str:
    return head_text(head).split("\n", 1)[0].strip().strip("\r")


def sniff_viewer_csv(head: bytes) -> bool:
    """Event Viewer CSV: the five-column header (English or German)."""
    cells = tuple(c.strip().strip('"').lower() for c in _first_line(head).split(",")[:5])
    return cells in VIEWER_HEADERS


def sniff_powershell_csv(head: bytes) -> bool:
    """Export-Csv of EventLogRecord: the ``#TYPE`` line or a quoted header with its columns."""
    line = _first_line(head)
    if line.startswith("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord"):
        return True
    names = {c.strip().strip('"') for c in line.split(",")}
    return line.startswith('"') and {"Id", "ProviderName", "TimeCreated"} <= names


def read_viewer_csv(source: Source, options: ReadOptions | None = None
                    ) -> Iterator[RawRecord | IngestIssue]:
    """Records of an Event Viewer "Save as CSV" file."""
    tz = options.tz if options else None
    yield from _read_rows(source, field_limit(options), lambda row: row,
                          lambda _header: (VIEWER_MIN_COLUMNS, VIEWER_MIN_COLUMNS + 1),
                          lambda _header, row: _viewer_record(row, source.name, tz))


def _read_rows(source: Source, limit: int, take_header: Callable[[list[str]], list[str] | None],
               columns: Callable[[list[str]], tuple[int, int]],
               build: Callable[[list[str], list[str]], RawRecord]
               ) -> Iterator[RawRecord | IngestIssue]:
    """The loop both CSV exports share: header, bad and blank rows, short and cut rows.

    ``take_header`` returns the header from a row, or ``None`` to keep looking (``#TYPE``);
    ``columns`` gives the fewest and most cells a row may have. A short row is an issue, and a
    short last row means the file was cut inside it; a long row is a bad row (a damaged line end
    joins two rows into one: both are lost, and said).
    """
    header: list[str] | None = None
    pending: IngestIssue | None = None
    for line_no, row in enumerate(csv_rows(source, limit), start=1):
        if pending is not None and isinstance(row, IngestIssue) and row.code == "csv.truncated":
            continue  # the cut is said once, with the short row it left (below)
        if pending is not None:
            yield pending
            pending = None
        if isinstance(row, IngestIssue):
            yield row
        elif isinstance(row, csv.Error):
            yield IngestIssue(source.name, None, "csv.bad-row", f"row {line_no}: {row}",
                              records_failed=1)
        elif header is None:
            header = take_header(row)
        elif any(cell.strip() for cell in row):  # blank lines separate records
            need, most = columns(header)
            if len(row) < need:
                pending = IngestIssue(source.name, None, "csv.short-row",
                                      f"row {line_no}: {len(row)} of {need} columns",
                                      records_failed=1)
            elif len(row) > most:
                yield IngestIssue(source.name, None, "csv.bad-row",
                                  f"row {line_no}: {len(row)} columns, at most {most} expected "
                                  "(a damaged line end may have joined two rows)",
                                  records_failed=1)
            else:
                yield build(header, row)
    if pending is not None:
        yield IngestIssue(pending.source_path, None, "csv.truncated",
                          f"{pending.detail}; the file ends inside this row", records_failed=1,
                          truncated=True)


def _viewer_record(row: list[str], name: str, tz: str | None) -> RawRecord:
    level_text, when, provider, event_id_text = (cell.strip() for cell in row[:4])
    time_ns = parse_local_ns(when, tz)
    event_id = field_int(event_id_text)
    return RawRecord(
        kind=KIND, time_ns=time_ns, provider=provider, event_id=event_id, source_path=name,
        reader="eventviewer-csv", level=LEVELS.get(level_text.lower()),
        message=row[5] if len(row) > 5 else None, task_name=row[4].strip() or None,
        corrupted=time_ns is None or event_id is None,
    )


def read_powershell_csv(source: Source, options: ReadOptions | None = None
                        ) -> Iterator[RawRecord | IngestIssue]:
    """Records of a ``Get-WinEvent | Export-Csv`` file."""
    tz = options.tz if options else None

    def header_of(row: list[str]) -> list[str] | None:
        if row and not row[0].startswith("#TYPE"):
            return [cell.strip() for cell in row]
        return None

    yield from _read_rows(source, field_limit(options), header_of,
                          lambda header: (len(header), len(header)),
                          lambda header, row: _powershell_record(
                              dict(zip(header, row, strict=False)), source.name, tz))


def _powershell_record(cells: dict[str, str], name: str, tz: str | None) -> RawRecord:
    time_ns = parse_local_ns(cells.get("TimeCreated", ""), tz)
    event_id = field_int(cells.get("Id"))
    return RawRecord(
        kind=KIND, time_ns=time_ns, provider=cells.get("ProviderName", "").strip(),
        event_id=event_id, source_path=name, reader="powershell-csv",
        qualifiers=field_int(cells.get("Qualifiers")), level=field_int(cells.get("Level")),
        record_id=field_int(cells.get("RecordId")), channel=cells.get("LogName", "").strip(),
        computer=cells.get("MachineName", "").strip(), message=cells.get("Message"),
        task_name=(cells.get("TaskDisplayName") or "").strip() or None,
        corrupted=time_ns is None or event_id is None,
    )


register(InputFormat("eventviewer-csv", sniff=sniff_viewer_csv, read=read_viewer_csv,
                     priority=70, accepts_options=True, local_time=True))
register(InputFormat("powershell-csv", sniff=sniff_powershell_csv, read=read_powershell_csv,
                     priority=70, accepts_options=True, local_time=True))
