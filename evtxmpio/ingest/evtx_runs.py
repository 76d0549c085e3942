"""Skipped .evtx records handed on in runs, with the health ledger exactly as record by record.

A built record's id is its ``<EventRecordID>`` and its time its ``SystemTime`` (refined by the
record header's FILETIME within the same microsecond), which exported or edited logs set apart
from the record header, so the records the Rust backend skips unbuilt
(:mod:`evtxmpio.ingest.evtx_rust`) are handed on so that the ledger sees what they say:

- a run of skipped records whose ids are consecutive and whose times strictly increase
  (:func:`clean_run`) as two :class:`SkippedRecords`, its first record and the rest
  (:func:`skipped_run`); any other run record by record;
- in a chunk whose records all follow each other so, kept records included, each run between
  kept records as a count that advances the expected id (:func:`counted_runs`).

:func:`clean_run` reads the time and id of every record with C calls per record (``map`` of
``str.find`` and a compiled pattern): on a real System log, the bulk of the per-record cost
after ``evtx``'s own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import repeat
from operator import itemgetter

from evtxmpio.catalog import filetime_to_ns
from evtxmpio.ingest.base import SkippedRecords, skipped_records, time_possible
from evtxmpio.ingest.evtx_chunks import RecordHeaders
from evtxmpio.ingest.evtx_walk import SYSTEM_TIME, ReadItem, event_facts, refined_time
from evtxmpio.ingest.runs import runs_between
from evtxmpio.ingest.timefmt import parse_iso_ns

_RECORD_ID = "<EventRecordID>"
# A record's time and id as the evtx package renders them (or as one empty element):
# the ``clean_run`` test of a run of skipped records.
_RUN_FACTS = re.compile(
    re.escape(SYSTEM_TIME) + r'([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
    r'(?:\.[0-9]+)?Z)"(?:/>|>\s*</TimeCreated>)\s*<EventRecordID>([0-9]+)</EventRecordID>')
_DATA = itemgetter("data")
_GROUPS = re.Match.groups


def skipped_run(name: str, chunk_offset: int, raws: list[dict], headers: RecordHeaders
                ) -> Iterator[SkippedRecords]:
    """Skipped records (file order) exactly as the health ledger would see them built.

    A built record's id is its ``<EventRecordID>`` and its time its ``SystemTime`` (refined by
    the record header's FILETIME within the same microsecond), which edited or damaged logs can
    set apart from the record header. When the ids are consecutive and the ``SystemTime``
    texts (one fixed-width format) strictly increase, the first record and then the rest as one
    run (its last id and time) are exact; otherwise every record is handed on alone.
    """
    count = len(raws)
    facts = clean_run(raws) if count > 2 else None  # two records: two items either way
    if facts is None:
        for raw in raws:
            record_id, time_ns, offset = _record_facts(raw, headers)
            yield skipped_records(name, 1, "not-relevant",
                                 chunk_offset + offset if offset is not None else None,
                                 record_id, time_ns)
        return
    yield _observed(name, chunk_offset, raws, headers, facts, 0)
    yield _observed(name, chunk_offset, raws, headers, facts, count - 1, count - 1)


def clean_run(raws: list[dict]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
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
    offset, header_ns = header_facts(raw, headers)
    record_id, time_ns = event_facts(raw["data"], header_ns)
    return record_id, time_ns, offset


def counted_runs(name: str, chunk_offset: int, raws: list[dict], kept: dict[int, ReadItem],
                 headers: RecordHeaders, facts: tuple[tuple[str, ...], tuple[str, ...]]
                 ) -> Iterator[ReadItem]:
    """:func:`runs_between` of a rendered chunk (``facts``: its :func:`clean_run`)."""

    def offset(k: int) -> int | None:
        at = header_facts(raws[k], headers)[0]
        return chunk_offset + at if at is not None else None

    return runs_between(
        name, len(raws), kept,
        lambda k: _observed(name, chunk_offset, raws, headers, facts, k), offset)


def _observed(name: str, chunk_offset: int, raws: list[dict], headers: RecordHeaders,
              facts: tuple[tuple[str, ...], tuple[str, ...]], k: int, count: int = 1
              ) -> SkippedRecords:
    """Record ``k`` of a clean run (``facts``: its time and id texts) with its id and time,
    standing for ``count`` skipped records that end with it."""
    times, ids = facts
    offset, header_ns = header_facts(raws[k], headers)
    return skipped_records(name, count, "not-relevant",
                          chunk_offset + offset if offset is not None else None,
                          int(ids[k]), refined_time(times[k], header_ns))


def header_facts(raw: dict, headers: RecordHeaders) -> tuple[int | None, int | None]:
    """Chunk offset and time (ns) of the record header of ``raw``, where known."""
    at = headers.index().get(raw["event_record_id"])
    if at is None:
        return None, parse_iso_ns(raw.get("timestamp") or "")
    return headers.offsets[at], filetime_to_ns(headers.filetimes[at])


def times_possible(times: tuple[str, ...], raws: list[dict], headers: RecordHeaders) -> bool:
    """The first and last (so, increasing, every) time of a clean run can be held."""
    return all(time_possible(refined_time(times[k], header_facts(raws[k], headers)[1]))
               for k in (0, len(raws) - 1))
