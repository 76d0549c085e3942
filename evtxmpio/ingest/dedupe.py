"""De-duplication of the same event read twice (overlapping exports, .evtx plus XML ...).

Key (domain reference section 7): Computer, Channel, EventRecordID, provider, EventID, time,
payload. Made robust to how each reader renders the same event:

- text keys compare case-folded (``disk``/``Disk``, host names);
- time compares at **microsecond** precision, truncated: both .evtx backends render
  ``SystemTime`` to the microsecond (ingest refines it to 100 ns from the record header when
  they agree), wevtutil and Event Viewer write 7 or 9 digits, tracerpt 7 digits. Truncating
  every side to the microsecond makes the same event compare equal whatever its source, while
  two different events of one provider with the same EventRecordID, EventID and payload within
  the same microsecond do not happen in one log;
- the payload is the Data values in order with names dropped (python-evtx packs a classic
  event's strings into one ``<string>`` blob, which the reader splits; Rust evtx and wevtutil
  write one ``<Data>`` per string), plus the ``<Binary>`` bytes as decoded (hex or base64).

Trace events (tracerpt XML and CSV of one capture) key without Computer and Channel, which the
CSV export lacks.

What counts as "read twice" depends on the record id:

- a record **with** an EventRecordID is the same record wherever it is read again: in another
  file (overlapping exports, .evtx plus its XML) or in the same one (a chunk read twice). A log
  cleared mid-incident starts its ids again, but those records differ in time and content, so
  they are kept;
- a record **without** one (Event Viewer CSV, tracerpt exports) cannot be told from an
  identical event: identical rows inside one export are distinct events (mpio 2 "Added device"
  once per path, two disk 15 in the same second). Such a row is a duplicate only when another
  file already held it as often: rows repeated across files or overlapping exports are the same
  events, and a file holding a row more often than any earlier file keeps the extra copies.

Records that carry no EventRecordID and no payload (Event Viewer CSV) still dedupe against
each other, never against .evtx or XML records (they lack fields those have).
Memory holds one 16-byte digest of the key per kept record only (relevant records), plus a
count per input file for records without an id: never the records' values themselves, so
records handed on are freed (a storm of 200,000 kept events kept ~150 MB of keys alive).
"""

from __future__ import annotations

import hashlib
from operator import itemgetter

from evtxmpio.model import RawRecord

DedupeKey = tuple[object, ...]
_VALUE = itemgetter(1)  # of a (name, value) Data item


def key_digest(key: DedupeKey) -> bytes:
    """A 128-bit BLAKE2b digest of ``key``'s canonical text (its ``repr``: strings, bytes,
    integers and ``None`` only); two keys share one with a probability of about 2**-128."""
    return hashlib.blake2b(repr(key).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def dedupe_key(record: RawRecord) -> DedupeKey:
    """The identity of ``record`` across readers and formats (see the module docstring)."""
    time_us = record.time_ns // 1000 if record.time_ns is not None else None
    trace = record.kind.startswith("etw:")
    return (
        # tracerpt CSV has no computer column and XML may leave it empty: the same trace
        # exported as CSV and as XML is one capture, so trace events key on their content.
        "" if trace else record.computer.casefold(),
        "" if trace else record.channel.casefold(),
        record.record_id,
        record.provider.casefold(),
        record.event_id,
        time_us,
        tuple(map(_VALUE, record.data)),
        record.binary,
        record.kind.partition(":")[0],
    )


class Deduplicator:
    """Remembers the records kept so far; the first occurrence wins (see the module doc)."""

    def __init__(self) -> None:
        self._seen: set[bytes] = set()  # key digests
        # key digest of a record without EventRecordID -> file read -> copies from that file
        self._copies: dict[bytes, dict[int, int]] = {}
        self._file = 0

    def start_file(self) -> None:
        """The records that follow come from another file read (the same path named twice is
        two reads)."""
        self._file += 1

    def is_duplicate(self, record: RawRecord) -> bool:
        """True if ``record`` was read before; otherwise remember it."""
        key = key_digest(dedupe_key(record))
        if record.record_id is not None:
            if key in self._seen:
                return True
            self._seen.add(key)
            return False
        per_file = self._copies.setdefault(key, {})
        copy = per_file.get(self._file, 0) + 1
        per_file[self._file] = copy
        return copy <= max((n for f, n in per_file.items() if f != self._file), default=0)
