"""Binary .evtx through the Rust-backed ``evtx`` package (pyevtx-rs), the fast backend.

Spec: libyal libevtx EVTX format (see :mod:`evtxmpio.ingest.evtx_walk`); API: pyevtx-rs
``PyEvtxParser(file_like, number_of_threads=..., skip_errors=...)``, ``records()`` yields
``{"event_record_id", "timestamp", "data"}`` with ``data`` the event rendered as XML.

The shared chunk walk (:func:`evtxmpio.ingest.evtx_walk.walk_chunks`) hands over one chunk at a
time; each is decoded as a one-chunk file (original header, chunk count fixed up), so memory
stays one chunk and every record is tied to its chunk (offsets, damage, cuts). ``evtx`` raises
from inside iteration on damaged data, so errors are caught around ``next()`` and the walk goes
on. When the pipeline names what can matter (:class:`~evtxmpio.catalog.relevance.Relevance`),
sound chunks are first decided in batches from their records' binary values, without ``evtx``
(:mod:`evtxmpio.ingest.evtx_binfacts`): a chunk none of whose records can matter is handed on
as skipped runs with the health ledger's ids and times; one whose every record is understood
has its kept records built from their values (:mod:`evtxmpio.ingest.evtx_build`,
:mod:`evtxmpio.ingest.evtx_binruns`). Every other chunk is rendered: each
record is decided on its XML text (provider after the fixed prelude, event id, content) and
the others are counted ``not-relevant`` before anything is built (DESIGN.md: decide relevance
before building Python objects); kept records are read from their text without an XML tree
(:func:`evtxmpio.ingest.event_element.read_event_xml`); on a sound chunk the skipped records
are handed on in runs (:mod:`evtxmpio.ingest.evtx_runs`).

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
import struct
from collections.abc import Iterable, Iterator
from itertools import compress, count
from operator import itemgetter

from lxml import etree

from evtxmpio.catalog import filetime_to_ns
from evtxmpio.catalog.relevance import Relevance
from evtxmpio.ingest.base import (
    IngestIssue,
    ReadOptions,
    SkippedRecords,
    Source,
    skipped_records,
)
from evtxmpio.ingest.event_element import read_event_xml
from evtxmpio.ingest.evtx_binfacts import ChunkDecider, SkippedChunk, skipped_items
from evtxmpio.ingest.evtx_binruns import BuiltChunk, built_items
from evtxmpio.ingest.evtx_chunks import (
    RecordHeaders,
    build_file,
    chains_sound,
    looping_links,
    record_headers,
)
from evtxmpio.ingest.evtx_runs import clean_run, counted_runs, skipped_run, times_possible
from evtxmpio.ingest.evtx_values import ChunkRecords
from evtxmpio.ingest.evtx_walk import (
    ChunkToDecode,
    ReadItem,
    chain_loop_issue,
    damaged_chunk_issue,
    event_facts,
    walk_chunks,
    walk_issues,
)
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord

READER = "evtx-rs"
_DATA = itemgetter("data")
MAX_ERRORS_PER_CHUNK = 1000
# The last FILETIME evtx accepts in a record header (jiff's Timestamp::MAX, 9999-12-30T22:00Z).
MAX_RUST_FILETIME = 2_650_466_808_009_999_999


def read_evtx_rust(source: Source, options: ReadOptions | None = None, first: int = 0,
                   stop: int | None = None) -> Iterator[ReadItem]:
    """Yield every record ``evtx`` decodes, chunk by chunk, with issues for the rest (of the
    chunk slots ``first`` to ``stop - 1`` only, when given: see :func:`walk_chunks`).

    With relevance known, sound chunks are first decided in batches from their records'
    binary values (:mod:`evtxmpio.ingest.evtx_binfacts`); ``evtx`` renders only the others.
    """
    options = options or ReadOptions()
    items = walk_chunks(source, options, first, stop)
    relevance = options.record_relevance
    if relevance is None or not BINARY_DECISIONS:
        for item in items:
            if isinstance(item, ChunkToDecode):
                yield from _decode_chunk(item, source.name, options)
            else:
                yield item
        return
    decider = ChunkDecider(relevance)
    pending: list[ReadItem | ChunkToDecode] = []
    chunks = 0
    for item in items:
        pending.append(item)
        chunks += isinstance(item, ChunkToDecode)
        if chunks == BATCH_CHUNKS:
            yield from _decide_batch(pending, source.name, options, decider)
            pending.clear()
            chunks = 0
    yield from _decide_batch(pending, source.name, options, decider)


BINARY_DECISIONS = True  # off: every chunk rendered (the tests' reference)
BUILD_KEPT = True  # off: a chunk with kept records is rendered (the tests' reference)
BATCH_CHUNKS = 64  # 4 MiB; numpy's cost per call spread over ~8,000 records


def _decide_batch(pending: list[ReadItem | ChunkToDecode], name: str, options: ReadOptions,
                  decider: ChunkDecider) -> Iterator[ReadItem]:
    """``pending`` (walk items in file order) with its sound chunks decided from their binary
    values first: those with nothing kept handed on as skipped, the others rendered."""
    headers = {k: record_headers(item.data, item.cut) for k, item in enumerate(pending)
               if isinstance(item, ChunkToDecode)}
    decided: dict[int, SkippedChunk | BuiltChunk | None] = {}
    if decider.wanted():
        sound = {k: records for k, records in
                 ((k, _sound_records(pending[k], headers[k])) for k in headers)
                 if records is not None}
        decided = dict(zip(sound, decider.decide(list(sound.values()), BUILD_KEPT),
                           strict=True))
        decider.account(sum(chunk is not None for chunk in decided.values()), len(headers))
    for k, item in enumerate(pending):
        chunk = decided.get(k)
        if not isinstance(item, ChunkToDecode):
            yield item
        elif isinstance(chunk, SkippedChunk):
            yield from skipped_items(name, item.info.offset, chunk)
        elif chunk is not None:
            yield from built_items(name, item.info.offset, chunk)
        else:
            yield from _decode_chunk(item, name, options, headers[k])


def _sound_records(chunk: ChunkToDecode, headers: RecordHeaders
                   ) -> ChunkRecords | None:
    """The records of a chunk ``evtx`` would render as they are (intact, not cut, walked to
    its free space offset, nothing to defuse, record numbers unique), else ``None``."""
    if not chunk.info.intact or chunk.cut is not None:
        return None
    (free,) = struct.unpack_from("<I", chunk.data, 48)
    active, end = headers.before(free)
    if not active or end != free:  # not walked to the free space offset (see walk_issues)
        return None
    if len(set(headers.numbers[:active])) != active or not chains_sound(chunk.data) \
            or rust_view(chunk.data, headers) is not chunk.data:
        return None
    return ChunkRecords(chunk.data, headers.offsets[:active], headers.sizes[:active],
                        headers.filetimes[:active])


def _decode_chunk(chunk: ChunkToDecode, name: str, options: ReadOptions,
                  headers: RecordHeaders | None = None) -> Iterator[ReadItem]:
    from evtx import PyEvtxParser

    if headers is None:
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
    active, _ = headers.before(free)
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
                 ) -> tuple[list[dict | IngestIssue], int]:
    """What :func:`_guarded` yields, as a list (taken by ``list.extend``, with no Python
    call per record: a chunk's records stay in the list up to an error), and how many of
    its entries are errors."""
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
    return entries, errors


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
    every record of the chunk follows the next in id and time (:func:`clean_run` on all of
    them) the runs between kept records are handed on as counts (:func:`counted_runs`).
    """
    entries, errors = _all_records(records, chunk, name)
    sound = not errors
    if sound:  # decided by C loops (map, compress) around keeps_xml
        marks: Iterable[int] = compress(count(), map(relevance.keeps_xml, map(_DATA, entries)))
    else:
        marks = [k for k, entry in enumerate(entries)
                 if not isinstance(entry, IngestIssue) and relevance.keeps_xml(entry["data"])]
    kept = {k: _relevant_item(entries[k], headers, chunk.info.offset, name) for k in marks}
    if sound and not kept:  # the whole chunk is one run
        yield from skipped_run(name, chunk.info.offset, entries, headers)
        if walk_short:
            yield damaged_chunk_issue(name, chunk.info, len(entries))
        return
    if sound and not walk_short and len(kept) < len(entries) and all(
            isinstance(item, RawRecord) for item in kept.values()):
        facts = clean_run(entries)
        if facts is not None and times_possible(facts[0], entries, headers):
            yield from counted_runs(name, chunk.info.offset, entries, kept, headers, facts)
            return
    yield from _by_runs(chunk, name, entries, kept, headers, walk_short)


def _by_runs(chunk: ChunkToDecode, name: str, entries: list[dict | IngestIssue],
             kept: dict[int, ReadItem], headers: RecordHeaders, walk_short: bool
             ) -> Iterator[ReadItem]:
    """``entries`` in order: the ``kept`` items, each run of skipped records between them
    (:func:`skipped_run`), evtx's errors; then the damage, if any."""
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
        yield from skipped_run(name, chunk_offset, pending[:], headers)
        pending.clear()


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
        return skipped_records(name, 1, "not-relevant", offset, record_id, time_ns)
    try:
        return read_event_xml(xml, name, READER, "system:evtx:event", offset,
                              header_time_ns=header_ns)
    except etree.XMLSyntaxError as exc:
        return IngestIssue(name, offset, "evtx.bad-record-xml", f"{exc}"[:200],
                           records_failed=1)
