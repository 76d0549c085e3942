"""Helpers of the export tests: read bytes with a registered reader, and the oracle.

The oracle of a text export: the character span of every event (XML) or row (CSV) of the
undamaged file, and the record each gives. After a mutation, every record whose span no
damaged position touches must still be read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from evtxmpio.ingest import FileAccount, ReadOptions, Source, formats, read_source
from evtxmpio.ingest.collect import IngestResult
from evtxmpio.ingest.event_stream import EventSplitter, Fragment
from evtxmpio.ingest.runs import flat_items
from evtxmpio.model import RawRecord


def identity(record: RawRecord) -> tuple:
    """What makes a record the same record, whichever file it was read from."""
    return (record.record_id, record.event_id, record.time_ns, record.provider,
            record.computer, record.data, record.task_name)


def source_of(data: bytes, name: str = "mutated") -> Source:
    """An in-memory input."""
    return Source(name, open=lambda: io.BytesIO(data), size=len(data))


@dataclass
class Read:
    """What reading one input gave."""

    result: IngestResult
    raw_items: list

    @property
    def account(self) -> FileAccount:
        return self.result.accounts[0]

    def identities(self) -> set[tuple]:
        return {identity(r) for r in self.result.records}


def read_bytes(data: bytes, format_name: str, options: ReadOptions | None = None) -> Read:
    """Read ``data`` twice: straight through the reader (an exception fails the test) and
    through ingest (accounting); both must agree on the records."""
    options = options or ReadOptions()
    reader = {f.name: f for f in formats()}[format_name]
    raw = list(flat_items(reader.read(source_of(data), options) if reader.accepts_options
                          else reader.read(source_of(data))))
    result = IngestResult()
    read_source(source_of(data), result, None, options=options)
    account = result.accounts[0]
    assert not any(e.startswith("ingest.reader-failed") for e in account.errors), account.errors
    assert account.records_read == account.records_used + account.records_skipped
    assert sum(account.skip_reasons.values()) == account.records_skipped
    built = [item for item in raw if isinstance(item, RawRecord)]
    if account.format == format_name:
        assert len(built) == len(result.records)
    return Read(result, raw)


def reader_records(data: bytes, format_name: str, options: ReadOptions | None = None
                   ) -> list[RawRecord]:
    """The records the reader builds from ``data`` (no ingest around it)."""
    reader = {f.name: f for f in formats()}[format_name]
    items = (reader.read(source_of(data), options or ReadOptions()) if reader.accepts_options
             else reader.read(source_of(data)))
    return [item for item in items if isinstance(item, RawRecord)]


@dataclass(frozen=True)
class Unit:
    """One event or row of an undamaged export: its character span and its record, if any."""

    start: int
    end: int
    record: tuple | None


def xml_units(text: str, format_name: str) -> list[Unit]:
    """The ``<Event>`` elements of an undamaged XML export, each read alone."""
    splitter = EventSplitter(1 << 30)
    units = []
    for item in [*splitter.feed(text), *splitter.close()]:
        if isinstance(item, Fragment):
            built = reader_records(item.text.encode("utf-8"), format_name)
            units.append(Unit(item.offset, item.offset + len(item.text),
                              identity(built[0]) if built else None))
    return units


def csv_units(text: str, format_name: str, header_lines: int = 1) -> list[Unit]:
    """The data lines of an undamaged one-line-per-record CSV export, each read alone."""
    lines = text.splitlines(keepends=True)
    header = "".join(lines[:header_lines])
    units, start = [], len(header)
    for line in lines[header_lines:]:
        built = reader_records((header + line).encode("utf-8"), format_name)
        units.append(Unit(start, start + len(line), identity(built[0]) if built else None))
        start += len(line)
    return units


def untouched(units: Iterable[Unit], damaged: Iterable[int], cut: int | None = None
              ) -> set[tuple]:
    """Identities of the records whose span holds no damaged position and ends by ``cut``."""
    hits = sorted(damaged)
    return {unit.record for unit in units
            if unit.record is not None and (cut is None or unit.end <= cut)
            and not any(unit.start <= position < unit.end for position in hits)}
