"""Binary .evtx through the Rust-backed ``evtx`` package (pyevtx-rs), the fast backend.

Spec: libyal libevtx EVTX format (see :mod:`evtxmpio.ingest.evtx_walk`); API: pyevtx-rs
``PyEvtxParser(file_like, number_of_threads=..., skip_errors=...)``, ``records()`` yields
``{"event_record_id", "timestamp", "data"}`` with ``data`` the event rendered as XML.

The shared chunk walk (:func:`evtxmpio.ingest.evtx_walk.walk_chunks`) hands over one chunk at a
time; each is decoded as a one-chunk file (original header, chunk count fixed up), so memory
stays one chunk and every record is tied to its chunk (offsets, damage, cuts). ``evtx`` raises
from inside iteration on damaged data, so errors are caught around ``next()`` and the walk goes
on. When the pipeline names what can matter (:class:`~evtxmpio.catalog.relevance.Relevance`),
each record is decided on its XML text (provider after the fixed prelude, event id, content)
and the others are counted ``not-relevant`` before anything is built (DESIGN.md: decide
relevance before building Python objects); kept records are read from their text without an
XML tree (:func:`evtxmpio.ingest.event_element.read_event_xml`). On a sound chunk the skipped
records are handed on in runs, so that the health ledger sees exactly what the records one by
one would give it (ids and times as their XML says, which exported or edited logs set apart
from the record headers): a run whose ids are consecutive and whose times strictly increase
is two :class:`SkippedRecords` (:func:`_skipped_run`), any other run record by record; and
when the whole chunk, kept records included, is in order, each run between kept records is a
count that advances the expected id (:func:`_clean_chunk`). Those tests read the time and id of
every record with C calls per record (``map`` of ``str.find`` and a compiled pattern), the
bulk of the per-record cost on a real System log after ``evtx``'s own.

``evtx`` ends a chunk's record walk early where the data only looks odd
(``tests/ingest/test_evtx_mutations.py`` found these): after the record whose number equals the
chunk header's last event record id (a stale or damaged header then hides the records behind
it), and at a record header whose time is past what it can represent (9999-12-30T22:00Z), which
costs every later record of the chunk. :func:`rust_view` hands it a copy of such a chunk with
those two facts made harmless; records keep the header numbers and times of the original bytes.
It also stops silently at a record header with a bad magic or size, as python-evtx does:
:func:`evtxmpio.ingest.evtx_walk.walk_issues` reports that for both backends. A Rust panic reaches
Python as pyo3's ``PanicException`` (a ``BaseException``) and is caught like any error of
``evtx``; none was met in the mutation tests.
"""

from __future__ import annotations

import io
import re
import struct
from bisect import bisect_left
from collections.abc import Iterator
from itertools import pairwise, repeat
from operator import itemgetter

from lxml import etree

from evtxmpio.catalog import filetime_to_ns
from evtxmpio.catalog.relevance import Relevance
from evtxmpio.ingest.base import (
    IngestIssue,
    ReadOptions,
    SkippedRecords,
    Source,
    time_possible,
)
from evtxmpio.ingest.event_element import read_event_xml
from evtxmpio.ingest.evtx_chunks import (
    RecordHeaders,
    build_file,
    looping_links,
    record_headers,
)
from evtxmpio.ingest.evtx_walk import (
    SYSTEM_TIME,
    ChunkToDecode,
    ReadItem,
    chain_loop_issue,
    damaged_chunk_issue,
    event_facts,
    refined_time,
    walk_chunks,
    walk_issues,
)
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

READER = "evtx-rs"
MAX_ERRORS_PER_CHUNK = 1000
_RECORD_ID = "<EventRecordID>"
# A record's time and id as the evtx package renders them (or as one empty element):
# the ``_clean_run`` test of a run of skipped records.
_RUN_FACTS = re.compile(
    re.escape(SYSTEM_TIME) + r'([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
    r'(?:\.[0-9]+)?Z)"(?:/>|>\s*</TimeCreated>)\s*<EventRecordID>([0-9]+)</EventRecordID>')
_DATA = itemgetter("data")
_GROUPS = re.Match.groups
# The last FILETIME evtx accepts in a record header (jiff's Timestamp::MAX, 9999-12-30T22:00Z).
MAX_RUST_FILETIME = 2_650_466_808_009_999_999


def read_evtx_rust(source: Source, options: ReadOptions | None = None, first: int = 0,
                   stop: int | None = None) -> Iterator[ReadItem]:
    """Yield every record ``evtx`` decodes, chunk by chunk, with issues for the rest (of the
    chunk slots ``first`` to ``stop - 1`` only, when given: see :func:`walk_chunks`)."""
    options = options or ReadOptions()
    for item in walk_chunks(source, options, first, stop):
        if isinstance(item, ChunkToDecode):
            yield from _decode_chunk(item, source.name, options)
        else:
            yield item


def _decode_chunk(chunk: ChunkToDecode, name: str, options: ReadOptions) -> Iterator[ReadItem]:
    from evtx import PyEvtxParser

    headers = record_headers(chunk.data, chunk.cut)
    walk = walk_issues(name, chunk.info, chunk.data, headers) if chunk.cut is None else []
    yield from walk
    loops = looping_links(chunk.data)
    if loops:
        yield chain_loop_issue(name, chunk.info, loops)
    blob = build_file(chunk.header, [rust_view(chunk.data, headers, loops)])
    try:
        parser = PyEvtxParser(io.BytesIO(blob), number_of_threads=options.threads,
                              skip_errors=False)
        records = parser.records()
    except Exception as exc:  # evtx refuses the file made of this chunk outright
        yield IngestIssue(name, chunk.info.offset, "evtx.bad-chunk",
                          f"chunk {chunk.info.index}: evtx cannot open it: {exc}"[:200],
                          records_failed=len(headers.offsets), chunk_damaged=True)
        return
    relevance = options.record_relevance
    if relevance is not None and chunk.info.intact and chunk.cut is None:
        yield from _decode_relevant(chunk, name, records, relevance, headers, bool(walk))
    else:
        yield from _decode_every(chunk, name, options, records, headers, bool(walk))


def rust_view(data: bytes, headers: RecordHeaders, loops: list[int] | None = None) -> bytes:
    """``data`` (one chunk) as handed to ``evtx``: what would end its record walk early, defused.

    Within the free space offset: a chunk header last event record id that names a record
    before the last one is replaced by an id no record has, and record header times ``evtx``
    cannot represent are set to 0, and hash chain links that loop (``loops``, from
    :func:`looping_links`) are cut. Returns ``data`` itself when there is nothing to defuse.
    ``headers`` is the chunk's record header walk.
    """
    (last_id,) = struct.unpack_from("<Q", data, 32)
    (free,) = struct.unpack_from("<I", data, 48)
    active = bisect_left(headers.offsets, free)  # offsets increase along the walk
    numbers = headers.numbers[:active]
    early_end = last_id in numbers[:-1]
    late = [k for k in range(active) if headers.filetimes[k] > MAX_RUST_FILETIME] \
        if active and max(headers.filetimes[:active]) > MAX_RUST_FILETIME else []
    if not early_end and not late and not loops:
        return data
    view = bytearray(data)
    for link in loops or ():
        struct.pack_into("<I", view, link, 0)
    if early_end:
        unused = 0xFFFFFFFFFFFFFFFF
        while unused in numbers:
            unused -= 1
        struct.pack_into("<Q", view, 32, unused)
    for k in late:
        struct.pack_into("<Q", view, headers.offsets[k] + 16, 0)
    return bytes(view)


def _decode_every(chunk: ChunkToDecode, name: str, options: ReadOptions,
                  records: Iterator[dict], headers: RecordHeaders, walk_short: bool
                  ) -> Iterator[ReadItem]:
    """Record by record, with cuts and damage: any chunk, any options."""
    info = chunk.info
    damaged = not info.intact or walk_short
    decoded = 0
    for raw in _guarded(records, chunk, name):
        if isinstance(raw, IngestIssue):
            damaged = damaged or chunk.cut is None
            if chunk.cut is None:
                yield raw
            continue
        located = _located(headers, raw["event_record_id"])
        if chunk.cut is not None and (located is None or located[0] + located[1] > chunk.cut):
            continue  # the record runs past the cut: not a complete record
        item = _to_item(raw, located, info.offset, name, options.record_relevance)
        decoded += not isinstance(item, IngestIssue)
        yield item
    if damaged:
        yield damaged_chunk_issue(name, info, decoded)


def _guarded(records: Iterator[dict], chunk: ChunkToDecode, name: str
             ) -> Iterator[dict | IngestIssue]:
    """``records`` with evtx's errors (raised from ``next``) turned into issues."""
    errors = 0
    while errors < MAX_ERRORS_PER_CHUNK:
        try:
            yield next(records)
        except StopIteration:
            return
        except BaseException as exc:  # evtx raises RuntimeError (and others) on damaged data
            if not _rust_error(exc):
                raise
            errors += 1
            yield IngestIssue(name, chunk.info.offset, "evtx.bad-record",
                              f"chunk {chunk.info.index}: {exc}"[:200], records_failed=1)


def _all_records(records: Iterator[dict], chunk: ChunkToDecode, name: str
                 ) -> list[dict | IngestIssue]:
    """What :func:`_guarded` yields, as a list (taken by ``list.extend``, with no Python
    call per record: a chunk's records stay in the list up to an error)."""
    entries: list[dict | IngestIssue] = []
    errors = 0
    while errors < MAX_ERRORS_PER_CHUNK:
        try:
            entries.extend(records)
            break
        except BaseException as exc:  # evtx raises RuntimeError (and others) on damaged data
            if not _rust_error(exc):
                raise
            errors += 1
            entries.append(IngestIssue(name, chunk.info.offset, "evtx.bad-record",
                                       f"chunk {chunk.info.index}: {exc}"[:200],
                                       records_failed=1))
    return entries


def _rust_error(exc: BaseException) -> bool:
    """An error of evtx on bad data: any ``Exception``, or a Rust panic turned into pyo3's
    ``PanicException`` (a ``BaseException``, so that ``except Exception`` lets it through)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _decode_relevant(chunk: ChunkToDecode, name: str, records: Iterator[dict],
                     relevance: Relevance, headers: RecordHeaders, walk_short: bool
                     ) -> Iterator[ReadItem]:
    """A sound chunk with relevance known: build only relevant records, skip the rest in runs.

    The loop over the records is the per-record cost of a full decode: a few slices and
    look-ups (provider, and for context providers the event id and a substring); no more. When
    every record of the chunk follows the next in id and time (:func:`_clean_run` on all of
    them) the runs between kept records are handed on as counts (:func:`_clean_chunk`).
    """
    entries = _all_records(records, chunk, name)
    keeps = relevance.keeps_xml
    kept = {k: _relevant_item(entry, headers, chunk.info.offset, name)
            for k, entry in enumerate(entries)
            if not isinstance(entry, IngestIssue) and keeps(entry["data"])}
    if kept and not walk_short and len(kept) < len(entries) and all(
            isinstance(item, RawRecord) for item in kept.values()) and not any(
            isinstance(entry, IngestIssue) for entry in entries):
        facts = _clean_run(entries)
        if facts is not None and _times_possible(facts[0], entries, headers):
            yield from _clean_chunk(name, chunk.info.offset, entries, kept, headers, facts)
            return
    yield from _by_runs(chunk, name, entries, kept, headers, walk_short)


def _by_runs(chunk: ChunkToDecode, name: str, entries: list[dict | IngestIssue],
             kept: dict[int, ReadItem], headers: RecordHeaders, walk_short: bool
             ) -> Iterator[ReadItem]:
    """``entries`` in order: the ``kept`` items, each run of skipped records between them
    (:func:`_skipped_run`), evtx's errors; then the damage, if any."""
    pending: list[dict] = []
    errors = decoded = 0
    for k, entry in enumerate(entries):
        if isinstance(entry, IngestIssue):
            errors += 1
        elif k not in kept:
            pending.append(entry)
            continue
        decoded += len(pending)
        yield from _flush(name, chunk.info.offset, pending, headers)
        item = entry if isinstance(entry, IngestIssue) else kept[k]
        decoded += isinstance(item, RawRecord)
        yield item
    decoded += len(pending)
    yield from _flush(name, chunk.info.offset, pending, headers)
    if errors or walk_short:
        yield damaged_chunk_issue(name, chunk.info, decoded)


def _clean_chunk(name: str, chunk_offset: int, raws: list[dict], kept: dict[int, ReadItem],
                 headers: RecordHeaders, facts: tuple[tuple[str, ...], tuple[str, ...]]
                 ) -> Iterator[ReadItem]:
    """A chunk whose ids are consecutive and whose times strictly increase, kept records
    included: the kept records, and between them each run of skipped records as a count that
    advances the expected id (``id_span``). The health ledger then comes out as record by
    record: the chunk's first and last record are handed on with their id and time (they meet
    the chunks around), and nothing inside the chunk is a gap or goes backwards.
    """
    last = len(raws) - 1
    for before, mark in pairwise([-1, *sorted(kept), last + 1]):
        start, stop = before + 1, mark  # the skipped records between two kept ones
        if start == 0 < stop:
            yield _observed(name, chunk_offset, raws, headers, facts, 0)
            start = 1
        ends = mark > last and start <= last
        stop -= ends
        if stop > start:
            offset = _header_facts(raws[start], headers)[0]
            yield SkippedRecords(name, stop - start, "not-relevant",
                                 chunk_offset + offset if offset is not None else None,
                                 id_span=stop - start)
        if mark <= last:
            yield kept[mark]
        elif ends:
            yield _observed(name, chunk_offset, raws, headers, facts, last)


def _observed(name: str, chunk_offset: int, raws: list[dict], headers: RecordHeaders,
              facts: tuple[tuple[str, ...], tuple[str, ...]], k: int) -> SkippedRecords:
    """Record ``k`` of a clean run (``facts``: its time and id texts) as one skipped record,
    with its id and time."""
    times, ids = facts
    offset, header_ns = _header_facts(raws[k], headers)
    return SkippedRecords(name, 1, "not-relevant",
                          chunk_offset + offset if offset is not None else None,
                          int(ids[k]), refined_time(times[k], header_ns))


def _header_facts(raw: dict, headers: RecordHeaders) -> tuple[int | None, int | None]:
    """Chunk offset and time (ns) of the record header of ``raw``, where known."""
    at = headers.index().get(raw["event_record_id"])
    if at is None:
        return None, parse_iso_ns(raw.get("timestamp") or "")
    return headers.offsets[at], filetime_to_ns(headers.filetimes[at])


def _times_possible(times: tuple[str, ...], raws: list[dict], headers: RecordHeaders) -> bool:
    """The first and last (so, increasing, every) time of a clean run can be held."""
    return all(time_possible(refined_time(times[k], _header_facts(raws[k], headers)[1]))
               for k in (0, len(raws) - 1))


def _relevant_item(raw: dict, headers: RecordHeaders, chunk_offset: int, name: str) -> ReadItem:
    return _to_item(raw, _located(headers, raw["event_record_id"]), chunk_offset, name, None)


def _located(headers: RecordHeaders, number: int) -> tuple[int, int, int] | None:
    """(offset, size, FILETIME) of the first record header numbered ``number``, if any."""
    at = headers.index().get(number)
    return (headers.offsets[at], headers.sizes[at], headers.filetimes[at]) \
        if at is not None else None


def _flush(name: str, chunk_offset: int, pending: list[dict], headers: RecordHeaders
           ) -> Iterator[SkippedRecords]:
    """Hand on and clear the pending skipped records."""
    if pending:
        yield from _skipped_run(name, chunk_offset, pending[:], headers)
        pending.clear()


def _skipped_run(name: str, chunk_offset: int, raws: list[dict], headers: RecordHeaders
                 ) -> Iterator[SkippedRecords]:
    """Skipped records (file order) exactly as the health ledger would see them built.

    A built record's id is its ``<EventRecordID>`` and its time its ``SystemTime`` (refined by
    the record header's FILETIME within the same microsecond), which edited or damaged logs can
    set apart from the record header. When the ids are consecutive and the ``SystemTime``
    texts (one fixed-width format) strictly increase, the first record and then the rest as one
    run (its last id and time) are exact; otherwise every record is handed on alone.
    """
    count = len(raws)
    facts = _clean_run(raws) if count > 2 else None  # two records: two items either way
    if facts is None:
        for raw in raws:
            record_id, time_ns, offset = _record_facts(raw, headers)
            yield SkippedRecords(name, 1, "not-relevant",
                                 chunk_offset + offset if offset is not None else None,
                                 record_id, time_ns)
        return
    first = _observed(name, chunk_offset, raws, headers, facts, 0)
    rest = _observed(name, chunk_offset, raws, headers, facts, count - 1)
    yield first
    yield SkippedRecords(name, count - 1, "not-relevant", rest.offset, rest.record_id,
                         rest.time_ns)


def _clean_run(raws: list[dict]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The ``SystemTime`` and ``EventRecordID`` texts of a run whose ids are consecutive and
    whose times (one format) strictly increase; ``None`` for any other run.

    Per record: the first ``SystemTime`` must open the time and record id shape of
    ``_RUN_FACTS`` with no ``<EventRecordID>`` before it (then both values are the ones
    :func:`event_facts` reads); any other layout is not clean. Only calls of C functions per
    record: a run is most of a chunk on a real System log.
    """
    texts = list(map(_DATA, raws))
    count = len(texts)
    starts = list(map(str.find, texts, repeat(SYSTEM_TIME)))
    matches = list(map(_RUN_FACTS.match, texts, starts))
    if not count or None in matches or list(
            map(str.find, texts, repeat(_RECORD_ID), repeat(0), starts)).count(-1) != count:
        return None
    times, ids = zip(*map(_GROUPS, matches), strict=True)
    first = int(ids[0])
    clean = (list(map(int, ids)) == list(range(first, first + count))
             and len(set(map(len, times))) == 1 and len(set(times)) == count
             and list(times) == sorted(times))
    return (times, ids) if clean else None


def _record_facts(raw: dict, headers: RecordHeaders) -> tuple[int | None, int | None, int | None]:
    """Record id, time and chunk offset of a record as its built record would give them
    (:func:`~evtxmpio.ingest.event_element.read_event_xml`)."""
    offset, header_ns = _header_facts(raw, headers)
    record_id, time_ns = event_facts(raw["data"], header_ns)
    return record_id, time_ns, offset


def _to_item(raw: dict, located: tuple[int, int, int] | None, chunk_offset: int, name: str,
             relevance: Relevance | None) -> ReadItem:
    xml: str = raw["data"]
    if located is not None:
        offset: int | None = chunk_offset + located[0]
        header_ns: int | None = filetime_to_ns(located[2])
    else:
        offset = None
        header_ns = parse_iso_ns(raw.get("timestamp") or "")
    if relevance is not None and not relevance.keeps_xml(xml):
        record_id, time_ns = event_facts(xml, header_ns)
        return SkippedRecords(name, 1, "not-relevant", offset, record_id, time_ns)
    try:
        return read_event_xml(xml, name, READER, "system:evtx:event", offset,
                              header_time_ns=header_ns)
    except etree.XMLSyntaxError as exc:
        return IngestIssue(name, offset, "evtx.bad-record-xml", f"{exc}"[:200],
                           records_failed=1)
