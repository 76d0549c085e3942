"""The event timeline as CSV and as Timesketch JSONL.

CSV: one row per event of the analysis frame (not only evidence), in time order, so the
engineer can filter it freely; ``findings`` names the rules each event is evidence for and
``delayed_write`` marks the events of a lost file. Cells from the log that start with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return get a leading ``'`` so a spreadsheet never runs them
as a formula (the OWASP "CSV injection" rule); every other cell keeps the log's exact text.

Timesketch: one JSON object per line with ``message``, ``datetime`` (ISO 8601),
``timestamp`` (microseconds) and ``timestamp_desc``, per event (``Event Recorded``) and per
disk/path state transition (``MPIO State Change``), plus plaso-style attributes. Values keep
the log's exact text (it is data for Timesketch, not a spreadsheet); the line separators JSON
allows raw in a string (U+0085, U+2028, U+2029) are written as ``\\u`` escapes, so no reader
that splits lines on them can cut an object in two.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from evtxmpio.detect import CaseResult
from evtxmpio.report.jsonout import iso, path_id_text

CSV_COLUMNS = ["time", "host", "provider", "event_id", "name", "level", "record_id",
               "source_file", "mpio_disk", "path_id", "episode", "dsm", "old_state",
               "new_state", "trigger", "status", "device", "target", "volume", "file",
               "message", "findings", "delayed_write"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LINE_SEPARATORS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028",
                                  "\u2029": "\\u2029"})

Transform = Callable[[Any], Any]


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, list | tuple | dict) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _evidence_index(case: CaseResult) -> tuple[dict[int, list[str]], set[int]]:
    rules: dict[int, list[str]] = {}
    for finding in case.findings:
        for row in finding.evidence:
            names = rules.setdefault(row, [])
            if finding.rule.id not in names:
                names.append(finding.rule.id)
    lost = {row for failure in case.delayed_write_failures for row in failure.evidence}
    return rules, lost


def event_rows(case: CaseResult) -> Iterator[dict[str, Any]]:
    """One dict per event with the CSV columns (values plain Python, times ISO UTC)."""
    rules, lost = _evidence_index(case)
    frame = case.events
    present = [c for c in CSV_COLUMNS if c in frame]
    for row, values in zip(frame.index, frame[present].itertuples(index=False, name=None),
                           strict=True):
        record = dict.fromkeys(CSV_COLUMNS)
        record.update({c: _plain(v) for c, v in zip(present, values, strict=True)})
        record["time"] = iso(values[0]) if present[0] == "time" else None
        record["path_id"] = path_id_text(record["path_id"])
        record["findings"] = ";".join(rules.get(row, []))
        record["delayed_write"] = row in lost
        yield record


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def render_csv(case: CaseResult, transform: Transform = lambda value: value) -> str:
    """The event timeline as CSV text (``transform`` redacts each row)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for record in event_rows(case):
        writer.writerow({k: _cell(v) for k, v in transform(record).items()})
    return buffer.getvalue()


def _ts_time(time: str) -> tuple[str, int]:
    stamp = pd.Timestamp(time)
    return stamp.isoformat(timespec="microseconds"), stamp.value // 1000


def timesketch_events(case: CaseResult) -> Iterator[dict[str, Any]]:
    """Timesketch objects of the events and the state transitions, in time order."""
    items = []
    for record in event_rows(case):
        if record["time"] is None:
            continue
        when, micros = _ts_time(record["time"])
        message = f"[{record['provider']} {record['event_id']}] {record['message'] or ''}"
        item = {"message": message.strip(), "datetime": when, "timestamp": micros,
                "timestamp_desc": "Event Recorded", "data_type": "windows:evtx:record",
                "computer_name": record["host"], "source_name": record["provider"],
                "event_identifier": record["event_id"], "record_number": record["record_id"],
                "filename": record["source_file"], "evtxmpio_name": record["name"]}
        for key in ("mpio_disk", "path_id", "episode", "volume", "file", "new_state"):
            if record[key] is not None:
                item[key] = record[key]
        if record["findings"]:
            item["tag"] = record["findings"].split(";")
        if record["delayed_write"]:
            item["delayed_write"] = True
        items.append((micros, item))
    items.extend(_transition_items(case))
    for _, item in sorted(items, key=lambda pair: pair[0]):
        yield item


def _transition_items(case: CaseResult) -> list[tuple[int, dict[str, Any]]]:
    items = []
    columns = ["host", "scope", "key", "time", "from_state", "to_state", "source"]
    for host, scope, key, time, old, new, source in case.timelines[columns].itertuples(
            index=False, name=None):
        what = f"MPIODisk{key}" if scope == "disk" else f"Path {path_id_text(key)}"
        when, micros = _ts_time(iso(time))
        items.append((micros, {
            "message": f"{what} on {host}: {old} -> {new}", "datetime": when,
            "timestamp": micros, "timestamp_desc": "MPIO State Change",
            "data_type": "evtxmpio:mpio:state", "computer_name": host, "scope": scope,
            "mpio_disk" if scope == "disk" else "path_id":
                int(key) if scope == "disk" else path_id_text(key),
            "old_state": old, "new_state": new, "state_source": source}))
    return items


def render_timesketch(case: CaseResult, transform: Transform = lambda value: value) -> str:
    """Timesketch-importable JSONL text (``transform`` redacts each object)."""
    return "".join(json.dumps(transform(item), ensure_ascii=False).translate(_LINE_SEPARATORS)
                   + "\n" for item in timesketch_events(case))
