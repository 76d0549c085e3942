"""Sound .evtx chunks decided from their records' binary values, without rendering them.

On a real System log most chunks hold records of the providers evtxmpio keeps, yet nothing
that can matter (Kernel-General 16, WindowsUpdateClient 44, EventLog 6013: ``relevance.yaml``).
Rendering all of them with ``evtx`` only to decide that costs more than the rest of the analysis.
Here a batch of sound chunks is read with numpy (:mod:`evtxmpio.ingest.evtx_values`): for each
record, the template it instantiates (:mod:`evtxmpio.ingest.evtx_templates`) says which
substitution values hold the provider name, event id, level, ``SystemTime`` and
``EventRecordID``; the values are read from the substitution array and decided by the same table
(:class:`~evtxmpio.catalog.relevance.Relevance`) as the rendered text would be. A chunk where
every record is understood and none can matter is handed on without ``evtx``
(:func:`skipped_items`): its records are counted ``not-relevant`` with the health ledger exactly
as :func:`evtxmpio.ingest.evtx_runs.skipped_run` gives it from the rendered records. A chunk
where every record is understood and some are kept has those built from their values
(:mod:`evtxmpio.ingest.evtx_kept`, handed on by :mod:`evtxmpio.ingest.evtx_binruns`), unless
one of them is kept only by the content test below (a "maybe"). Any other chunk (a record not
understood, a value of another type or size, a time outside what the analysis can hold, a
kept record not built) is rendered by ``evtx`` as before.

For providers kept only when their text names a fix (``naming``), a record is surely not kept
when none of the fix numbers can appear in its rendered text: not in its bytes as UTF-16 or
ASCII (strings and literal text), not in the rendering of any numeric, hex, GUID, SID or binary
value (nested BinXML followed), and no two values rendered next to each other
(:mod:`evtxmpio.ingest.evtx_naming`). Anything else counts as maybe kept, and the chunk is
rendered.

As with the provider pre-filter (:mod:`evtxmpio.ingest.evtx_walk`), the records of a chunk
handed on here are not rendered: a record ``evtx`` could not render in such a chunk is counted
``not-relevant`` rather than failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import chain
from operator import add

import numpy as np

from evtxmpio.catalog import FILETIME_UNIX_EPOCH
from evtxmpio.catalog.relevance import Relevance
from evtxmpio.ingest.base import SkippedRecords
from evtxmpio.ingest.evtx_binruns import (
    BuiltChunk,
    SkippedChunk,
    chunk_follows,
    refined_times,
    skipped_record,
)
from evtxmpio.ingest.evtx_build import RecordBuilder
from evtxmpio.ingest.evtx_kept import build_kept
from evtxmpio.ingest.evtx_naming import (
    ASK,
    MAYBE,
    NESTED,
    NO,
    NamingCheck,
    nested_may_name,
    vector_may_name,
)
from evtxmpio.ingest.evtx_templates import Template, TemplateCache
from evtxmpio.ingest.evtx_values import (
    CHUNK,
    NOT_UNDERSTOOD,
    ChunkRecords,
    Records,
    read_records,
)

SKIP, KEEP, CHECK = 0, 1, 2
MAX_PROVIDERS = 1 << 16  # provider names remembered (a batch's own names are always kept)


class ChunkDecider:
    """Decides batches of chunks of one log with one relevance table; remembers templates,
    provider names and decisions from batch to batch."""

    def __init__(self, relevance: Relevance) -> None:
        self.relevance = relevance
        self.templates = TemplateCache()
        self.naming = NamingCheck(relevance, self.templates)
        self.builder = RecordBuilder(self.templates)
        self._codes: dict[str, int] = {}  # provider name -> code
        self._names: list[str] = []
        self._by_bytes: dict[bytes, int] = {}  # provider substitution value -> code
        self._decided: dict[int, int] = {}  # provider, event id, level key -> decision
        self._rows: dict[tuple, tuple[int, ...]] = {}  # template facts -> row
        self._rows_by_id: dict[int, tuple[Template, tuple[int, ...]]] = {}
        self._misses = 0  # batches in a row where few chunks were decided
        self._rest = 0  # batches to render without deciding first

    def wanted(self) -> bool:
        """Whether to decide the next batch. Where nearly every chunk holds a record that
        is kept (an incident that floods kept events), deciding is wasted work: after a
        batch that decided less than an eighth of its chunks, the next 2, 4 ... 64 batches
        are rendered without it."""
        if self._rest:
            self._rest -= 1
            return False
        return True

    def account(self, decided: int, chunks: int) -> None:
        """Note how many of a batch's ``chunks`` were decided (see :meth:`wanted`)."""
        if decided * 8 < chunks:
            self._misses += 1
            self._rest = min(2 ** self._misses, 64)
        else:
            self._misses = 0

    def decide(self, chunks: Sequence[ChunkRecords], build: bool = True
               ) -> list[SkippedChunk | BuiltChunk | None]:
        """For each chunk: a :class:`SkippedChunk` when none of its records can matter, a
        :class:`~evtxmpio.ingest.evtx_binruns.BuiltChunk` when every record is understood
        and the kept ones are built from their values (``build``), ``None`` when it must be
        rendered."""
        if not chunks:
            return []
        counts = np.array([len(chunk.offsets) for chunk in chunks])
        read = self.decided_records(chunks)
        decision = read.decision
        skippable = read.fine & (decision == SKIP)
        ok = (np.bincount(read.chunk[~skippable], minlength=len(chunks)) == 0) & (counts > 0)
        # a record kept by the content test is a "maybe": its chunk is rendered to tell
        unsure = ~read.fine | (read.checked & (decision == KEEP))
        understood = (np.bincount(read.chunk[unsure], minlength=len(chunks)) == 0) \
            & (counts > 0) & build
        clean = _clean_runs(read.chunk, read, len(chunks))
        bounds = np.cumsum([0, *counts.tolist()]).tolist()
        kept = self._kept(read, chunks, understood & ~ok)
        batch = _BatchFacts(read, chunks)
        return [batch.skipped(chunk, bounds[c], bounds[c + 1], bool(clean[c] and counts[c] > 2))
                if ok[c] else batch.built(chunk, bounds[c], bounds[c + 1], bool(clean[c]),
                                          kept[c]) if c in kept else None
                for c, chunk in enumerate(chunks)]

    def _kept(self, read: Records, chunks: Sequence[ChunkRecords], wanted: np.ndarray
              ) -> dict[int, dict[int, tuple]]:
        """For each ``wanted`` chunk whose kept records are all built: the kept records by
        position in their chunk, as (provider, event id, level, fields)."""
        rows = np.flatnonzero(wanted[read.chunk] & (read.decision == KEEP))
        fields = build_kept(self.builder, read, rows, [chunk.data for chunk in chunks])
        firsts = np.cumsum([0, *(len(chunk.offsets) for chunk in chunks)]).tolist()
        kept: dict[int, dict[int, tuple]] = {c: {} for c in np.flatnonzero(wanted).tolist()}
        names = self._names
        for row, chunk, provider, event_id, level, built in zip(
                rows.tolist(), read.chunk[rows].tolist(), read.providers[rows].tolist(),
                read.event_ids[rows].tolist(), read.levels[rows].tolist(), fields,
                strict=True):
            records = kept.get(chunk)
            if records is None:
                continue
            if built is None:
                del kept[chunk]
                continue
            records[row - firsts[chunk]] = (names[provider], event_id, level, built)
        return kept

    def decided_records(self, chunks: Sequence[ChunkRecords]) -> Records:
        """:meth:`facts`, each record decided SKIP or KEEP (content tested)."""
        read = self.facts(chunks)
        decision = read.decision
        read.checked = read.fine & (decision == CHECK)
        check = np.flatnonzero(read.checked)
        if len(check):
            verdict = read.naming[check]
            verdict[_holding_needles(read.blob, read, check, self.naming.needles or ())] = ASK
            decision[check] = np.where(verdict == NO, SKIP, KEEP)
            for k in check[verdict == ASK].tolist():
                data, start, size = read.where(chunks, k)
                decision[k] = KEEP if self.naming.may_name(
                    data, start, start + size, read.template(k), int(read.record_ids[k])) \
                    else SKIP
        return read

    def facts(self, chunks: Sequence[ChunkRecords]) -> Records:
        """What the records of ``chunks`` say, in one batch, each decided SKIP, KEEP or CHECK
        (kept when its text names a fix), with the numbers' verdict of the content test."""
        if len(self._names) > MAX_PROVIDERS:  # a log of ever new names: start afresh
            self._forget()
        read = read_records(chunks, self)
        read.decision = self.decisions(read.providers, read.event_ids, read.levels)
        read.naming = np.full(len(read.fine), ASK, np.int8)
        check = np.flatnonzero(read.fine & (read.decision == CHECK))
        if len(check) and self.naming.needles is not None:
            read.naming[check] = vector_may_name(
                read.words, read.values[check], read.value_sizes[check], read.value_types[check],
                read.per[check][:, 3:5], read.record_ids[check], self.naming.needles)
            nested = check[read.naming[check] == NESTED]
            if len(nested):
                read.naming[nested] = nested_may_name(read, nested,
                                                      [chunk.data for chunk in chunks],
                                                      self.templates, self.naming.needles)
            read.naming[check[read.per[check, 7] == 1]] = MAYBE  # the template's own text
        return read

    def _forget(self) -> None:
        """Forget the provider names met and everything keyed by their codes."""
        for memory in (self._codes, self._names, self._by_bytes, self._decided, self._rows,
                       self._rows_by_id):
            memory.clear()

    def template_row(self, template: Template | None) -> tuple[int, ...]:
        """A template's row of :func:`_templates` (``-1`` everywhere: not understood)."""
        if template is None or template.system is None:
            return NOT_UNDERSTOOD
        known = self._rows_by_id.get(id(template))
        if known is not None and known[0] is template:
            return known[1]
        needles = self.naming.needles or ()
        unsafe = template.adjacent or any(text in template.literal for text, _, _ in needles)
        key = (template.system, template.provider, template.run_shape, unsafe)
        row = self._rows.get(key)
        if row is None:
            code = -1 if template.provider is None else self.provider_code(template.provider)
            system = list(template.system)
            if template.provider is not None and code < 0:
                system[1] = -1  # a literal name not read exactly: not understood
            row = self._rows[key] = (*system, code, int(template.run_shape), int(unsafe))
        if len(self._rows_by_id) >= 1 << 16:
            self._rows_by_id.clear()
        self._rows_by_id[id(template)] = (template, row)  # the template kept: its id stays
        return row

    def provider_name(self, code: int) -> str:
        """The provider name of a code from :meth:`provider_code`."""
        return self._names[code]

    def provider_code(self, text: str | None) -> int:
        """A code for a provider name read exactly, ``-1`` for one that is not."""
        if text is None or not text.isprintable():
            return -1
        code = self._codes.get(text)
        if code is None:
            code = self._codes[text] = len(self._names)
            self._names.append(text)
        return code

    def value_code(self, value: bytes) -> int:
        """:meth:`provider_code` of a substitution value (UTF-16LE)."""
        code = self._by_bytes.get(value)
        if code is None:
            try:
                text: str | None = value.decode("utf-16le")
            except UnicodeDecodeError:
                text = None
            code = self._by_bytes[value] = self.provider_code(text)
        return code

    def decisions(self, providers: np.ndarray, event_ids: np.ndarray, levels: np.ndarray
                  ) -> np.ndarray:
        """SKIP, KEEP or CHECK (kept when the text names a fix) per record."""
        keys = (np.maximum(providers, 0) << 26) | (event_ids << 9) | (levels + 1)
        unique, inverse = np.unique(keys, return_inverse=True)
        decided = np.empty(len(unique), np.int64)
        for k, key in enumerate(unique.tolist()):
            remembered = self._decided.get(key)
            if remembered is None:
                name = self._names[key >> 26] if key >> 26 < len(self._names) else ""
                remembered = self._decided[key] = _decide(
                    self.relevance, name, (key >> 9) & 0xFFFF, (key & 0x1FF) - 1)
            decided[k] = remembered
        return decided[inverse.reshape(-1)]


_APART = b"\xff" * 4  # between records searched together: in no needle's bytes


def _holding_needles(blob: bytes, read: Records, check: np.ndarray,
                     needles: tuple[tuple[str, bytes, bytes], ...]) -> np.ndarray:
    """Which of the ``check`` records hold a needle in their bytes (UTF-16 or ASCII): the
    records joined and searched at once (a search of the whole batch would also scan
    records nothing asks about, slowly: UTF-16 text is full of the needle's zero bytes)."""
    starts = (read.chunk[check] * CHUNK + read.offsets[check]).tolist()
    sizes = read.sizes[check].tolist()
    joined = _APART.join(map(blob.__getitem__, map(slice, starts, map(add, starts, sizes))))
    ends = np.cumsum(np.array(sizes) + len(_APART))
    found = np.zeros(len(check), bool)
    for _, wide, narrow in needles:
        for at in _occurrences(joined, wide, narrow):
            found[np.searchsorted(ends, at, side="right")] = True
    return found


def _occurrences(data: bytes, wide: bytes, narrow: bytes) -> Iterator[int]:
    """Where ``narrow`` (ASCII) and ``wide`` (the same text in UTF-16LE) start in ``data``.
    The UTF-16 text is searched as ASCII in the even and in the odd bytes (a search for it
    as it is crawls over UTF-16 text, so full of its zero bytes), each find checked."""
    at = data.find(narrow)
    while at >= 0:
        yield at
        at = data.find(narrow, at + 1)
    for phase in (0, 1):
        half = data[phase::2]
        at = half.find(narrow)
        while at >= 0:
            if data.startswith(wide, 2 * at + phase):
                yield 2 * at + phase
            at = half.find(narrow, at + 1)


def _clean_runs(number: np.ndarray, read: Records, chunks: int) -> np.ndarray:
    """Per chunk: ids consecutive, times strictly increasing at the rendered microsecond,
    every record of the run shape (what ``clean_run`` reads from the text)."""
    ids = read.record_ids
    micro = (read.filetimes.astype(np.int64) - FILETIME_UNIX_EPOCH) // 10
    same = number[1:] == number[:-1]
    follows = (ids[1:] - ids[:-1] == 1) & (ids[1:] > ids[:-1]) & (micro[1:] > micro[:-1])
    broken = np.bincount(number[1:][same & ~follows], minlength=chunks)
    broken += np.bincount(number[~read.run_shape], minlength=chunks)
    return broken == 0


def _decide(relevance: Relevance, provider: str, event_id: int, level: int) -> int:
    """As :meth:`Relevance.keeps_xml` decides the rendered record (level ``-1``: none)."""
    rule = relevance.rule(provider)
    verdict = None if rule is None else rule.verdict(event_id, level)
    return CHECK if rule is not None and verdict is None else KEEP if verdict else SKIP


class _BatchFacts:
    """What the skipped and built chunks of a batch hand on: ids, times
    (:func:`~evtxmpio.ingest.evtx_binruns.refined_times`), whether each record follows the one
    before and has the run shape. A clean run needs its first and last record only (most
    chunks of a real System log); the lists of every record are made once per batch, and only
    when a chunk needs them."""

    def __init__(self, read: Records, chunks: Sequence[ChunkRecords]) -> None:
        self.read = read
        self.chunks = chunks
        self._lists: tuple[list, ...] | None = None

    def _all(self) -> tuple[list, ...]:
        if self._lists is None:
            read = self.read
            headers = np.fromiter(
                chain.from_iterable(c.header_filetimes for c in self.chunks), np.uint64,
                len(read.filetimes))
            self._lists = (read.record_ids.tolist(),
                           refined_times(read.filetimes, headers).tolist(),
                           chunk_follows(read.record_ids, read.filetimes).tolist(),
                           read.run_shape.tolist())
        return self._lists

    def skipped(self, chunk: ChunkRecords, start: int, stop: int, clean: bool) -> SkippedChunk:
        """A chunk none of whose records (``start:stop`` of the batch) can matter; of a clean
        run only its first and last record are kept."""
        if clean:
            ends = [start, stop - 1]
            times = refined_times(self.read.filetimes[ends],
                                  [chunk.header_filetimes[0], chunk.header_filetimes[-1]])
            return SkippedChunk(self.read.record_ids[ends].tolist(), times.tolist(),
                                [chunk.offsets[0], chunk.offsets[-1]], True, stop - start)
        ids, times, _, _ = self._all()
        return SkippedChunk(ids[start:stop], times[start:stop], chunk.offsets, False,
                            stop - start)

    def built(self, chunk: ChunkRecords, start: int, stop: int, clean: bool,
              kept: dict[int, tuple]) -> BuiltChunk:
        """A chunk (records ``start:stop`` of the batch) whose kept records are built."""
        ids, times, follows, run_shape = self._all()
        return BuiltChunk(ids[start:stop], times[start:stop], chunk.offsets,
                          follows[start:stop - 1], run_shape[start:stop], kept, clean)


def skipped_items(name: str, chunk_offset: int, chunk: SkippedChunk
                  ) -> Iterator[SkippedRecords]:
    """The records of ``chunk`` as :func:`evtxmpio.ingest.evtx_runs.skipped_run` hands them on
    from their rendered text: a clean run (ids consecutive, times strictly increasing at the
    rendered microsecond, every record of the run shape, three records or more) as its first
    record and the rest, any other record by record."""
    if not chunk.clean:
        for k in range(chunk.count):
            yield skipped_record(name, chunk_offset, chunk, k, 1)
        return
    yield skipped_record(name, chunk_offset, chunk, 0, 1)
    yield skipped_record(name, chunk_offset, chunk, -1, chunk.count - 1)
