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
Records whose EventRecordID is above every one kept before from the same log (the same
Computer and Channel, case-folded, which the key holds: a log read in order) cannot repeat any
of them: their id and digest are appended to that log's two arrays (24 bytes a record, no
lookup), so every log of a bundle (cluster nodes, several exports) takes that path. Any other
record's digest is looked for among those of its id in its log's arrays, and in a set. At most
:data:`LOGS_KEPT` logs have arrays (a hostile file may name many computers); the records of
any other log take the set.

The key is ``(source, event)``: ``source`` is (Computer, Channel, provider, kind family),
which few records differ in, and ``event`` is (EventRecordID, EventID, time, payload, binary).
Its digest is BLAKE2b (128 bits) of the key's canonical bytes: ``marshal`` format version 2,
which writes every value by its type and content only (no back-references to objects met
before, which version 3 added, and no interned/plain distinction; strings as UTF-8 with
``surrogatepass``, so a lone surrogate has bytes of its own), with a length before every string,
bytes and tuple. Two keys have the same bytes exactly when they are equal: ``1``, ``"1"``,
``b"1"``, ``True`` and ``None`` all differ. Two different keys share a digest with a
probability of 2**-128, so among ``n`` kept records a record wrongly taken for a duplicate has a
probability under ``n**2 / 2**129`` (below 10**-24 for 10**7 records). A source's bytes are
made once and kept (a few per log; at most :data:`SOURCES_KEPT`).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable
from hashlib import blake2b
from marshal import dumps
from operator import itemgetter

from evtxmpio.model import RawRecord

DedupeKey = tuple[object, ...]
_VALUE = itemgetter(1)  # of a (name, value) Data item
_MARSHAL_VERSION = 2  # the last version without object references (see the module doc)
_PAIR = dumps(((), ()), _MARSHAL_VERSION)[:5]  # how the bytes of a 2-tuple start
_ID_END = 1 << 64  # ids kept in order fit an unsigned 64-bit array item (.evtx ids do)
SOURCES_KEPT = 4096  # sources whose bytes are remembered (a hostile log may have many)
LOGS_KEPT = 4096  # logs whose records in id order are kept in arrays (the others: a set)
# provider -> the computer, channel and kind last met with it, their source bytes and log
Sources = dict[str, tuple[str, str, str, bytes, object]]


def key_digest(key: DedupeKey) -> bytes:
    """The 128-bit BLAKE2b digest of ``key``'s canonical bytes (see the module docstring)."""
    return blake2b(_canonical_bytes(key), digest_size=16).digest()


def _canonical_bytes(key: object) -> bytes:
    try:
        return dumps(key, _MARSHAL_VERSION)
    except ValueError:  # a subclass of str or int (marshal takes the exact types only)
        return dumps(_exact(key), _MARSHAL_VERSION)


def _exact(value: object) -> object:
    """``value`` with subclasses of tuple, str and int made exact (equal values, equal bytes);
    a value marshal refuses otherwise (no reader gives one) becomes its type and ``repr``."""
    if isinstance(value, tuple):
        return tuple(map(_exact, value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    try:
        dumps(value, _MARSHAL_VERSION)
    except ValueError:
        return (type(value).__qualname__, repr(value))
    return value


def dedupe_key(record: RawRecord) -> DedupeKey:
    """The identity of ``record`` across readers and formats (see the module docstring)."""
    return (_source(record), _event(record))


def _source(record: RawRecord) -> tuple[str, str, str, str]:
    kind = record.kind
    # tracerpt CSV has no computer column and XML may leave it empty: the same trace exported
    # as CSV and as XML is one capture, so trace events key on their content.
    trace = kind.startswith("etw:")
    return ("" if trace else record.computer.casefold(),
            "" if trace else record.channel.casefold(),
            record.provider.casefold(), kind.partition(":")[0])


def _event(record: RawRecord) -> tuple[object, ...]:
    time_ns = record.time_ns
    return (record.record_id, record.event_id, time_ns // 1000 if time_ns is not None else None,
            tuple(map(_VALUE, record.data)), record.binary)


def record_digest(record: RawRecord, sources: Sources) -> bytes:
    """``key_digest(dedupe_key(record))``, with the bytes of the record's source taken from
    ``sources`` (filled here) when its provider was met before with the same computer,
    channel and kind: the step every kept record takes."""
    return _digest(_known_source(record, sources)[3], record)


def _known_source(record: RawRecord, sources: Sources,
                  log_of: Callable[[RawRecord], object] | None = None
                  ) -> tuple[str, str, str, bytes, object]:
    """The entry of ``sources`` for ``record``'s provider, made afresh when it was met with
    another computer, channel or kind (``log_of``: the log it stores, when it is made)."""
    known = sources.get(record.provider)
    if (known is None or known[0] != record.computer or known[1] != record.channel
            or known[2] != record.kind):
        known = _remember_source(record, sources, log_of(record) if log_of else None)
    return known


def _digest(source: bytes, record: RawRecord) -> bytes:
    """The digest of ``record``'s key, ``source`` the bytes of its source."""
    time_ns = record.time_ns
    event = (record.record_id, record.event_id, time_ns // 1000 if time_ns is not None else None,
             tuple(map(_VALUE, record.data)), record.binary)  # _event(record), without a call
    try:
        return blake2b(source + dumps(event, _MARSHAL_VERSION), digest_size=16).digest()
    except ValueError:
        return key_digest(dedupe_key(record))


def _remember_source(record: RawRecord, sources: Sources, log: object = None
                     ) -> tuple[str, str, str, bytes, object]:
    if len(sources) >= SOURCES_KEPT:
        sources.clear()
    known = sources[record.provider] = (record.computer, record.channel, record.kind,
                                        _PAIR + _canonical_bytes(_source(record)), log)
    return known


class _Log:
    """The records of one log (case-folded Computer and Channel) kept in rising id order: their
    ids, and their digests 16 bytes each, in that order; ``last``, the last id."""

    __slots__ = ("digests", "ids", "last")

    def __init__(self) -> None:
        self.ids = array("Q")
        self.digests = bytearray()
        self.last = -1


class Deduplicator:
    """Remembers the records kept so far; the first occurrence wins (see the module doc)."""

    def __init__(self) -> None:
        # records with an EventRecordID: per log those met in rising id order, and the
        # digests of the others
        self._logs: dict[tuple[str, str], _Log] = {}
        self._others: set[bytes] = set()
        # key digest of a record without EventRecordID -> file read -> copies from that file
        self._copies: dict[bytes, dict[int, int]] = {}
        self._file = 0
        self._sources: Sources = {}  # the bytes of the sources met (see record_digest)

    def start_file(self) -> None:
        """The records that follow come from another file read (the same path named twice is
        two reads)."""
        self._file += 1

    def is_duplicate(self, record: RawRecord) -> bool:
        """True if ``record`` was read before; otherwise remember it."""
        known = _known_source(record, self._sources, self._log)
        key = _digest(known[3], record)
        record_id = record.record_id
        if record_id is None:
            return self._copy_seen(key)
        log = known[4]
        if log is not None and log.last < record_id < _ID_END:
            # above every id kept from its log: not seen, and in order
            log.last = record_id
            log.ids.append(record_id)
            log.digests += key
            return False
        return self._seen(log, record_id, key)

    def _log(self, record: RawRecord) -> _Log | None:
        """The log of ``record``: its Computer and Channel as its key holds them (``None``:
        too many logs met)."""
        trace = record.kind.startswith("etw:")  # (keys without Computer and Channel)
        name = ("", "") if trace else (record.computer.casefold(), record.channel.casefold())
        log = self._logs.get(name)
        if log is None and len(self._logs) < LOGS_KEPT:
            log = self._logs[name] = _Log()
        return log

    def _seen(self, log: _Log | None, record_id: int, key: bytes) -> bool:
        """Whether the record of ``record_id`` and digest ``key`` was kept; else keep it."""
        if key in self._others:
            return True
        if log is not None:
            ids = log.ids
            at = bisect_left(ids, record_id) if 0 <= record_id < _ID_END else len(ids)
            if at < len(ids) and ids[at] == record_id \
                    and log.digests[16 * at:16 * at + 16] == key:
                return True  # (ids rise: one record of an id at most)
        self._others.add(key)
        return False

    def _copy_seen(self, key: bytes) -> bool:
        """A record without an id: one copy more than an earlier file held?"""
        per_file = self._copies.setdefault(key, {})
        copy = per_file.get(self._file, 0) + 1
        per_file[self._file] = copy
        return copy <= max((n for f, n in per_file.items() if f != self._file), default=0)
