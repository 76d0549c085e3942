"""Sound .evtx chunks decided from their records' binary values, without rendering them.

On a real System log most chunks hold records of the providers evtxmpio keeps, yet nothing
that can matter (Kernel-General 16, WindowsUpdateClient 44, EventLog 6013: ``relevance.yaml``).
Rendering all of them with ``evtx`` only to decide that costs more than the rest of the analysis.
Here a batch of sound chunks is read with numpy: for each record, the template it instantiates
(:mod:`evtxmpio.ingest.evtx_templates`) says which substitution values hold the provider name,
event id, level, ``SystemTime`` and ``EventRecordID``; the values are read from the substitution
array (sizes and types from its descriptors) and decided by the same table
(:class:`~evtxmpio.catalog.relevance.Relevance`) as the rendered text would be. A chunk where
every record is understood and none can matter is handed on without ``evtx``
(:func:`skipped_items`): its records are counted ``not-relevant`` with the health ledger exactly
as :func:`evtxmpio.ingest.evtx_runs.skipped_run` gives it from the rendered records. Any other
chunk (a record kept or not understood, a value of another type or size, a time outside what
the analysis can hold) is rendered by ``evtx`` as before.

For providers kept only when their text names a fix (``naming``), a record is surely not kept
when none of the fix numbers can appear in its rendered text: not in its bytes as UTF-16 or
ASCII (strings and literal text), not in the rendering of any numeric, hex, GUID, SID or binary
value (nested BinXML followed), and no two values rendered next to each other. Anything else
counts as maybe kept, and the chunk is rendered.

As with the provider pre-filter (:mod:`evtxmpio.ingest.evtx_walk`), the records of a chunk
handed on here are not rendered: a record ``evtx`` could not render in such a chunk is counted
``not-relevant`` rather than failed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from operator import add

import numpy as np

from evtxmpio.catalog import FILETIME_UNIX_EPOCH, filetime_to_ns
from evtxmpio.catalog.relevance import KEEP_ALL, QUIET_LEVELS, Relevance
from evtxmpio.ingest.base import SkippedRecords
from evtxmpio.ingest.evtx_naming import ASK, MAYBE, NO, NamingCheck, vector_may_name
from evtxmpio.ingest.evtx_templates import (
    FILETIME,
    FILETIME_MAX,
    FILETIME_MIN,
    MAX_SUBSTITUTIONS,
    STRING,
    UINT8,
    UINT16,
    UINT64,
    Template,
    TemplateCache,
)

CHUNK = 65536
_NOT_UNDERSTOOD = (-1,) * 8
# Size of each value type as evtx reads it: -1 sized by its descriptor, -2 not a value type.
_NATURAL_SIZES = np.full(256, -2, np.int64)
_NATURAL_SIZES[[0x00, 0x01, 0x02, 0x0E, 0x10, 0x13, 0x21]] = -1
_NATURAL_SIZES[[0x03, 0x04]] = 1
_NATURAL_SIZES[[0x05, 0x06]] = 2
_NATURAL_SIZES[[0x07, 0x08, 0x0B, 0x0D, 0x14]] = 4
_NATURAL_SIZES[[0x09, 0x0A, 0x0C, 0x11, 0x15]] = 8
_NATURAL_SIZES[[0x0F, 0x12]] = 16
_NATURAL_SIZES[0x81:0x96] = -1  # arrays
# Whether a descriptor (value type, size up to 17) is one evtx reads as described.
_DESCRIPTOR_OK = np.zeros((256, 18), bool)
for _type, _size in enumerate(_NATURAL_SIZES.tolist()):
    if _size == -1:
        _DESCRIPTOR_OK[_type] = True
    elif _size >= 0:
        _DESCRIPTOR_OK[_type, _size] = True
_DESCRIPTOR_OK = _DESCRIPTOR_OK.reshape(-1)  # by value type * 18 + size
_INSTANCE = 0x0001010F  # fragment header 0f 01 01 00, little-endian
_TEMPLATE_INSTANCE = 0x0C
SKIP, KEEP, CHECK = 0, 1, 2


@dataclass(frozen=True, slots=True)
class SkippedChunk:
    """A chunk whose records (file order) none can matter: their ``EventRecordID`` and
    ``SystemTime`` FILETIME values, record header offsets and FILETIMEs (of a clean run, its
    first and last record only), whether they are a clean run (three or more, ids
    consecutive, times strictly increasing at the rendered microsecond, every record of the
    run shape), and how many they are."""

    record_ids: list[int]
    filetimes: list[int]
    offsets: list[int]
    header_filetimes: list[int]
    clean: bool
    count: int


@dataclass(slots=True)
class _Batch:
    """The records of a batch of chunks, as numpy columns over the joined chunk bytes."""

    blob: bytes
    offsets: np.ndarray  # record offset in blob
    chunk: np.ndarray  # chunk number in the batch
    sizes: np.ndarray  # record size


@dataclass(frozen=True, slots=True)
class ChunkRecords:
    """A sound chunk to decide: its bytes and its records' header offsets, sizes and
    FILETIMEs (the records ``evtx`` would render, in file order)."""

    data: bytes
    offsets: list[int]
    sizes: list[int]
    header_filetimes: list[int]


class ChunkDecider:
    """Decides batches of chunks of one log with one relevance table; remembers templates,
    provider names and decisions from batch to batch."""

    def __init__(self, relevance: Relevance) -> None:
        self.relevance = relevance
        self.templates = TemplateCache()
        self.naming = NamingCheck(relevance, self.templates)
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

    def decide(self, chunks: Sequence[ChunkRecords]) -> list[SkippedChunk | None]:
        """For each chunk: a :class:`SkippedChunk` when none of its records can matter,
        ``None`` when it must be rendered."""
        if not chunks:
            return []
        counts = np.array([len(chunk.offsets) for chunk in chunks])
        read = self.decided_records(chunks)
        decision = read.decision
        skippable = read.fine & (decision == SKIP)
        ok = (np.bincount(read.chunk[~skippable], minlength=len(chunks)) == 0) & (counts > 0)
        clean = _clean_runs(read.chunk, read, len(chunks)) & (counts > 2)
        bounds = np.cumsum([0, *counts.tolist()]).tolist()
        return [_skipped(read, chunk, bounds[c], bounds[c + 1], bool(clean[c]))
                if ok[c] else None for c, chunk in enumerate(chunks)]

    def decided_records(self, chunks: Sequence[ChunkRecords]) -> _Records:
        """:meth:`facts`, each record decided SKIP or KEEP (content tested)."""
        read = self.facts(chunks)
        decision = read.decision
        check = np.flatnonzero(read.fine & (decision == CHECK))
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

    def facts(self, chunks: Sequence[ChunkRecords]) -> _Records:
        """What the records of ``chunks`` say, in one batch (content not yet tested)."""
        counts = [len(chunk.offsets) for chunk in chunks]
        total = sum(counts)
        number = np.repeat(np.arange(len(chunks), dtype=np.int64), counts)
        offsets = np.fromiter(chain.from_iterable(c.offsets for c in chunks), np.int64, total)
        sizes = np.fromiter(chain.from_iterable(c.sizes for c in chunks), np.int64, total)
        batch = _Batch(b"".join(chunk.data for chunk in chunks), offsets + number * CHUNK,
                       number, sizes)
        return _read(batch, chunks, self)

    def template_row(self, template: Template | None) -> tuple[int, ...]:
        """A template's row of :func:`_templates` (``-1`` everywhere: not understood)."""
        if template is None or template.system is None:
            return _NOT_UNDERSTOOD
        known = self._rows_by_id.get(id(template))
        if known is not None and known[0] is template:
            return known[1]
        key = (template.system, template.provider, template.run_shape)
        row = self._rows.get(key)
        if row is None:
            code = -1 if template.provider is None else self.provider_code(template.provider)
            system = list(template.system)
            if template.provider is not None and code < 0:
                system[1] = -1  # a literal name not read exactly: not understood
            needles = self.naming.needles or ()
            unsafe = template.adjacent or any(text in template.literal for text, _, _ in needles)
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


def _holding_needles(blob: bytes, read: _Records, check: np.ndarray,
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


def _views(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The bytes of ``blob`` as uint8, and as (unaligned) uint16, uint32, uint64 at every
    byte offset."""
    size = len(blob)
    return (np.frombuffer(blob, np.uint8),
            np.ndarray((size - 1,), "<u2", blob, 0, (1,)),
            np.ndarray((size - 3,), "<u4", blob, 0, (1,)),
            np.ndarray((size - 7,), "<u8", blob, 0, (1,)))


@dataclass(slots=True)
class _Records:
    """What :func:`_read` gives per record of a batch."""

    fine: np.ndarray  # understood
    decision: np.ndarray  # SKIP, KEEP or CHECK
    record_ids: np.ndarray  # EventRecordID
    filetimes: np.ndarray  # SystemTime
    run_shape: np.ndarray
    used: list[Template | None]  # the templates met, by code
    codes: np.ndarray  # each record's template code
    providers: np.ndarray  # provider code (ChunkDecider.provider_name)
    event_ids: np.ndarray
    levels: np.ndarray  # -1: no Level element
    chunk: np.ndarray  # the chunk's number in the batch
    offsets: np.ndarray  # record offset in its chunk
    sizes: np.ndarray  # record size
    naming: np.ndarray  # for CHECK records: NO, MAYBE or ASK (evtx_naming.vector_may_name)
    blob: bytes  # the batch's chunks, joined

    def template(self, k: int) -> Template | None:
        """The template record ``k`` instantiates."""
        return self.used[int(self.codes[k])]

    def where(self, chunks: Sequence[ChunkRecords], k: int) -> tuple[bytes, int, int]:
        """Record ``k``'s chunk bytes, offset and size."""
        return chunks[int(self.chunk[k])].data, int(self.offsets[k]), int(self.sizes[k])


def _read(batch: _Batch, chunks: Sequence[ChunkRecords], decider: ChunkDecider) -> _Records:
    """Per record: understood, decision, ``EventRecordID``, ``SystemTime``, run shape,
    template."""
    u8, u16, u32, u64 = _views(batch.blob)
    last = len(batch.blob) - 8
    o = batch.offsets
    n = len(o)
    ends = o + batch.sizes - 4  # where the record's data ends (its size is repeated after)
    fine = (batch.sizes >= 48) & (u32[o + 24] == _INSTANCE) & (u8[o + 28] == _TEMPLATE_INSTANCE)
    base_chunk = batch.chunk * CHUNK
    local = np.where(fine, u32[np.minimum(o + 34, last)].astype(np.int64), 0)
    fine &= local + 24 <= CHUNK
    defoff = base_chunk + np.where(fine, local, 0)
    inline = defoff == o + 38
    subs = o + 38 + np.where(inline, 24 + u32[np.minimum(defoff + 20, last)].astype(np.int64), 0)
    fine &= subs + 4 <= ends
    subs = np.where(fine, subs, o)
    count = u32[np.minimum(subs, last)].astype(np.int64)
    table, codes, used = _templates(chunks, defoff, fine, decider)
    per = table[codes]  # provider, event id, level, time, record id, provider code, run shape
    fine &= per[:, 1] >= 0
    needed = per[:, :5].max(axis=1) + 1  # descriptors each record must have
    fine &= (count >= needed) & (needed <= MAX_SUBSTITUTIONS)
    values = subs + 4 + 4 * count
    fine &= values <= ends
    # Every descriptor: a value type evtx reads, the natural size of a fixed-size type, and
    # all the values inside the record (else evtx may fail or read them otherwise).
    width = max(int(np.where(fine, count, 0).max(initial=0)), 1)
    table = np.lib.stride_tricks.as_strided(u32, (len(u32) - 4 * width, width), (1, 4))
    descriptors = table[np.minimum(subs + 4, len(u32) - 4 * width - 1)].astype(np.int32)
    descriptors[np.arange(width) >= count[:, None]] = 0  # past the count: null, no size
    sizes = descriptors & 0xFFFF
    types = (descriptors >> 16) & 0xFF
    fine &= _DESCRIPTOR_OK[types * 18 + np.minimum(sizes, 17)].all(axis=1)
    fine &= values + sizes.sum(axis=1, dtype=np.int64) <= ends
    reach = max(int(np.where(fine, needed, 0).max(initial=0)), 1)  # the values read
    every = (sizes, types)
    sizes, types = sizes[:, :reach], types[:, :reach]
    starts = (np.cumsum(sizes, axis=1, dtype=np.int64) - sizes
              + np.where(fine, values, 0)[:, None])
    rows = np.arange(n)

    def column(k: int, value_type: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        index = np.maximum(per[:, k], 0)
        at = starts[rows, index]
        good = ((types[rows, index] == value_type) & (sizes[rows, index] == size)
                & (at + size <= ends)) | (per[:, k] < 0)
        return np.minimum(at, last), good

    eid_at, eid_ok = column(1, UINT16, 2)
    level_at, level_ok = column(2, UINT8, 1)
    time_at, time_ok = column(3, FILETIME, 8)
    rid_at, rid_ok = column(4, UINT64, 8)
    fine &= eid_ok & level_ok & time_ok & rid_ok & (per[:, 3] >= 0) & (per[:, 4] >= 0)
    filetimes = u64[time_at]
    fine &= (filetimes >= FILETIME_MIN) & (filetimes <= FILETIME_MAX)
    levels = np.where(per[:, 2] >= 0, u8[level_at].astype(np.int64), -1)
    providers = _provider_codes(batch, per, starts, sizes, types, ends, fine, decider)
    fine &= providers >= 0
    event_ids = u16[eid_at].astype(np.int64)
    decision = decider.decisions(providers, event_ids, levels)
    record_ids = u64[rid_at]
    naming = np.full(n, ASK, np.int8)
    check = np.flatnonzero(fine & (decision == CHECK))
    if len(check) and decider.naming.needles is not None:
        naming[check] = vector_may_name(
            u64, values[check], every[0][check], every[1][check], per[check][:, 3:5],
            record_ids[check], decider.naming.needles)
        naming[check[per[check, 7] == 1]] = MAYBE  # the template's own text
    return _Records(fine, decision, record_ids, filetimes, per[:, 6] == 1, used, codes,
                    providers, event_ids, levels, batch.chunk, o - base_chunk, batch.sizes,
                    naming, batch.blob)


def _clean_runs(number: np.ndarray, read: _Records, chunks: int) -> np.ndarray:
    """Per chunk: ids consecutive, times strictly increasing at the rendered microsecond,
    every record of the run shape (what ``clean_run`` reads from the text)."""
    ids = read.record_ids
    micro = (read.filetimes.astype(np.int64) - FILETIME_UNIX_EPOCH) // 10
    same = number[1:] == number[:-1]
    follows = (ids[1:] - ids[:-1] == 1) & (ids[1:] > ids[:-1]) & (micro[1:] > micro[:-1])
    broken = np.bincount(number[1:][same & ~follows], minlength=chunks)
    broken += np.bincount(number[~read.run_shape], minlength=chunks)
    return broken == 0


def _templates(chunks: Sequence[ChunkRecords], defoff: np.ndarray, fine: np.ndarray,
               decider: ChunkDecider
               ) -> tuple[np.ndarray, np.ndarray, list[Template | None]]:
    """The System substitutions of each template used (rows of ``table``: provider, event id,
    level, time, record id, literal provider code, run shape; ``-1`` where not read), the
    row of each record and the templates by row."""
    where, codes = np.unique(np.where(fine, defoff, -1), return_inverse=True)
    places = where.tolist()
    missing = places[0] < 0
    used = decider.templates.get_many([(chunks[at >> 16].data, at & 0xFFFF)
                                       for at in places[missing:]])
    if missing:
        used.insert(0, None)
    rows = list(map(decider.template_row, used))
    return np.array(rows, np.int64).reshape(-1, 8), codes.reshape(-1), used


def _provider_codes(batch: _Batch, per: np.ndarray, starts: np.ndarray, sizes: np.ndarray,
                    types: np.ndarray, ends: np.ndarray, fine: np.ndarray,
                    decider: ChunkDecider) -> np.ndarray:
    """Each record's provider code: the template's literal, or its substitution's text (each
    distinct value decoded once: the values as fixed-width rows, told apart by numpy)."""
    codes = per[:, 5].copy()
    substituted = np.flatnonzero(fine & (per[:, 0] >= 0))
    if not len(substituted):
        return codes
    index = per[substituted, 0]
    at = starts[substituted, index]
    size = sizes[substituted, index]
    good = ((types[substituted, index] == STRING) & (size % 2 == 0) & (size <= 1024)
            & (at + size <= ends[substituted]))
    size = np.where(good, size, 0)
    words = (int(size.max(initial=0)) + 7) // 8
    # each value as fixed-width words, bytes past its end zeroed, its size last
    u64 = np.ndarray((len(batch.blob) - 7,), "<u8", batch.blob, 0, (1,))
    windows = np.lib.stride_tricks.as_strided(u64, (len(u64) - 8 * words, words), (1, 8))
    rows = np.empty((len(at), words + 1), np.uint64)
    np.bitwise_and(windows[np.minimum(at, len(windows) - 1)], _tail_masks(words)[size],
                   out=rows[:, :words])
    rows[:, words] = size
    first, inverse = _distinct_rows(rows)
    found = np.array([decider.value_code(batch.blob[a:a + n]) for a, n in
                      zip(at[first].tolist(), size[first].tolist(), strict=True)], np.int64)
    codes[substituted] = np.where(good, found[inverse], -1)
    return codes


@cache
def _tail_masks(words: int) -> np.ndarray:
    """For each size up to ``8 * words`` bytes, the words that keep its bytes and zero the
    rest (little-endian)."""
    sizes = np.arange(8 * words + 1)[:, None] - 8 * np.arange(words)
    valid = np.clip(sizes, 0, 8).astype(np.uint64)
    shifted = np.left_shift(np.uint64(1), valid * np.uint64(8), where=valid < 8,
                            out=np.zeros_like(valid))
    return np.where(valid == 8, np.uint64(0xFFFFFFFFFFFFFFFF), shifted - np.uint64(1))


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                 0xD6E8FEB86659FD93], np.uint64)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct row of ``rows`` (uint64) and each row's distinct row:
    by a 64-bit mix of the words, checked against the rows themselves (a collision falls
    back to comparing whole rows)."""
    mix = np.resize(_MIX, rows.shape[1]) | np.uint64(1)
    hashed = (rows * mix).sum(axis=1, dtype=np.uint64)
    _, first, inverse = np.unique(hashed, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if not (rows == rows[first[inverse]]).all():
        keys = np.ascontiguousarray(rows).view(f"V{8 * rows.shape[1]}").reshape(-1)
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
    return first, inverse


def _decide(relevance: Relevance, provider: str, event_id: int, level: int) -> int:
    """As :meth:`Relevance.keeps_xml` decides the rendered record (level ``-1``: none)."""
    rule = relevance.rule(provider)
    if rule is None:
        return SKIP
    if rule is KEEP_ALL:
        return KEEP
    if rule.ids is not None and event_id not in rule.ids:
        return SKIP
    if event_id in rule.quiet and level in QUIET_LEVELS:
        return SKIP
    return CHECK if rule.naming else KEEP


def _skipped(read: _Records, chunk: ChunkRecords, start: int, stop: int, clean: bool
             ) -> SkippedChunk:
    """A chunk none of whose records (``start:stop`` of the batch) can matter; of a clean run
    only its first and last record are kept."""
    if clean:
        ends = [start, stop - 1]
        return SkippedChunk(read.record_ids[ends].tolist(), read.filetimes[ends].tolist(),
                            [chunk.offsets[0], chunk.offsets[-1]],
                            [chunk.header_filetimes[0], chunk.header_filetimes[-1]], True,
                            stop - start)
    return SkippedChunk(read.record_ids[start:stop].tolist(),
                        read.filetimes[start:stop].tolist(), chunk.offsets,
                        chunk.header_filetimes, False, stop - start)


def skipped_items(name: str, chunk_offset: int, chunk: SkippedChunk
                  ) -> Iterator[SkippedRecords]:
    """The records of ``chunk`` as :func:`evtxmpio.ingest.evtx_runs.skipped_run` hands them on
    from their rendered text: a clean run (ids consecutive, times strictly increasing at the
    rendered microsecond, every record of the run shape, three records or more) as its first
    record and the rest, any other record by record."""
    if not chunk.clean:
        for k in range(chunk.count):
            yield _item(name, chunk_offset, chunk, k, 1)
        return
    yield _item(name, chunk_offset, chunk, 0, 1)
    yield _item(name, chunk_offset, chunk, -1, chunk.count - 1)


def _item(name: str, chunk_offset: int, chunk: SkippedChunk, k: int, count: int
          ) -> SkippedRecords:
    """Record ``k``, standing for ``count`` records that end with it; its time as
    :func:`evtxmpio.ingest.evtx_walk.refined_time` reads the rendered microsecond."""
    header_ns = filetime_to_ns(chunk.header_filetimes[k])
    micro = (chunk.filetimes[k] - FILETIME_UNIX_EPOCH) // 10
    time_ns = micro * 1000
    if header_ns // 1000 == micro:
        time_ns = header_ns
    return SkippedRecords(name, count, "not-relevant", chunk_offset + chunk.offsets[k],
                          chunk.record_ids[k], time_ns)
