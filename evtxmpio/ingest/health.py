"""The health ledger of one input file: what its record sequence says about its state.

Fed in file order with every record the reader met (used or skipped), it counts gaps in
EventRecordID (a record id more than one above the previous one: cleared, overwritten,
filtered or tampered logs), record ids going backwards, and time going backwards, and keeps
the first and last record time (ISO-8601 UTC). Blocks skipped undecoded (pre-filter) advance
the expected record id by their span instead of being seen as a gap. The dirty flag and chunk
damage come from the reader's issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evtxmpio.ingest.timefmt import format_ns

MAX_GAP_RANGES = 5


@dataclass(slots=True)
class HealthLedger:
    """Health facts of one file (see the module docstring).

    Attributes:
        dirty: the .evtx header flags the log as not closed cleanly.
        chunks_damaged: damaged .evtx chunks (bad magic, checksums, truncated).
        chunks_prefiltered: chunks skipped undecoded by the provider pre-filter.
        records_skipped: records read but not used (all reasons).
        records_recovered: records read from damaged regions.
        record_id_gaps: number of gaps in EventRecordID.
        record_id_gap_ranges: the first few missing ranges ``[first, last]``.
        record_id_backwards: times a record id was not above the previous one.
        time_backwards: times a record's time was earlier than the previous record's.
        first_time: earliest record time seen, ISO UTC. Chunks the pre-filter skips are never
            decoded, so their records' times are not seen (record ids are, from the chunk
            header): with the pre-filter this covers the decoded chunks; ``--no-prefilter``
            gives the whole log's window.
        last_time: latest record time seen, ISO UTC (same caveat).
    """

    dirty: bool = False
    chunks_damaged: int = 0
    chunks_prefiltered: int = 0
    records_skipped: int = 0
    records_recovered: int = 0
    record_id_gaps: int = 0
    record_id_gap_ranges: list[tuple[int, int]] = field(default_factory=list)
    record_id_backwards: int = 0
    time_backwards: int = 0
    first_ns: int | None = None
    last_ns: int | None = None
    _next_id: int | None = None
    _previous_ns: int | None = None

    def observe(self, record_id: int | None, time_ns: int | None) -> None:
        """One record, in file order."""
        if record_id is not None:
            expected = self._next_id
            if expected is not None and record_id != expected:
                self._jump(expected, record_id)
            self._next_id = record_id + 1
        if time_ns is not None:
            previous = self._previous_ns
            if previous is not None and time_ns < previous:
                self.time_backwards += 1
            self._previous_ns = time_ns
            first = self.first_ns
            if first is None or time_ns < first:
                self.first_ns = time_ns
            last = self.last_ns
            if last is None or time_ns > last:
                self.last_ns = time_ns

    def _jump(self, expected: int, record_id: int) -> None:
        """A record id other than the one expected: a gap after it, or going backwards."""
        if record_id > expected:
            self.record_id_gaps += 1
            if len(self.record_id_gap_ranges) < MAX_GAP_RANGES:
                self.record_id_gap_ranges.append((expected, record_id - 1))
        else:
            self.record_id_backwards += 1

    def advance(self, id_span: int) -> None:
        """A block of ``id_span`` records was skipped undecoded: expect the ids after it."""
        if self._next_id is not None:
            self._next_id += id_span

    def to_dict(self) -> dict[str, object]:
        """The JSON ``health`` entry of a file's account."""
        return {
            "dirty": self.dirty,
            "chunks_damaged": self.chunks_damaged,
            "chunks_prefiltered": self.chunks_prefiltered,
            "records_skipped": self.records_skipped,
            "records_recovered": self.records_recovered,
            "record_id_gaps": self.record_id_gaps,
            "record_id_gap_ranges": [list(r) for r in self.record_id_gap_ranges],
            "record_id_backwards": self.record_id_backwards,
            "time_backwards": self.time_backwards,
            "first_time": format_ns(self.first_ns) if self.first_ns is not None else None,
            "last_time": format_ns(self.last_ns) if self.last_ns is not None else None,
        }
