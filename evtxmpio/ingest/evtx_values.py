"""The System values of a batch of sound .evtx chunks, read with numpy without rendering.

A record is (almost always) one template instance: the offset of a template definition in its
chunk and an array of substitution values, described by (size, value type) descriptors. The
template (:mod:`evtxmpio.ingest.evtx_templates`) says which substitution holds the provider
name (or the name itself), the event id, the level, ``SystemTime`` and ``EventRecordID``. Here
the records of many chunks (joined into one buffer) are read at once: the descriptors, the
values' offsets (a cumulative sum of the sizes), and the values, gathered from views of the
buffer as 16-, 32- and 64-bit integers at every byte offset.

A record is ``fine`` (understood) only where ``evtx`` would read it as it is read here: a
template instance after the fragment header; a template understood, with those five values;
every descriptor of a value type ``evtx`` reads, of its natural size where the type has one,
every value inside the record and an end-of-fragment token right after them; the five
values of the types and sizes the text is read from (``UInt16`` event id, ``UInt8`` level,
``FILETIME`` time the analysis can hold, ``UInt64`` record id, a UTF-16 provider name read
exactly). The decisions are made by :mod:`evtxmpio.ingest.evtx_binfacts`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Protocol

import numpy as np

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
NOT_UNDERSTOOD = (-1,) * 8
_INSTANCE = 0x0001010F  # fragment header 0f 01 01 00, little-endian
_TEMPLATE_INSTANCE = 0x0C
# Size of each value type as evtx reads it: -1 sized by its descriptor, -2 not a value type.
_NATURAL_SIZES = np.full(256, -2, np.int64)
_NATURAL_SIZES[[0x00, 0x01, 0x02, 0x0E, 0x10, 0x13, 0x21]] = -1
_NATURAL_SIZES[[0x03, 0x04]] = 1
_NATURAL_SIZES[[0x05, 0x06]] = 2
_NATURAL_SIZES[[0x07, 0x08, 0x0B, 0x0D, 0x14]] = 4
_NATURAL_SIZES[[0x09, 0x0A, 0x0C, 0x11, 0x15]] = 8
_NATURAL_SIZES[[0x0F, 0x12]] = 16
_NATURAL_SIZES[0x81:0x96] = -1  # arrays
# Whether a descriptor (value type, size up to 17) is one evtx reads as described, by value
# type * 18 + size.
_DESCRIPTOR_OK = np.zeros((256, 18), bool)
for _type, _size in enumerate(_NATURAL_SIZES.tolist()):
    if _size == -1:
        _DESCRIPTOR_OK[_type] = True
    elif _size >= 0:
        _DESCRIPTOR_OK[_type, _size] = True
_DESCRIPTOR_OK = _DESCRIPTOR_OK.reshape(-1)


@dataclass(frozen=True, slots=True)
class ChunkRecords:
    """A sound chunk to decide: its bytes and its records' header offsets, sizes and
    FILETIMEs (the records ``evtx`` would render, in file order)."""

    data: bytes
    offsets: list[int]
    sizes: list[int]
    header_filetimes: list[int]


class Reader(Protocol):
    """What the reading asks of its decider: templates, their rows, provider codes."""

    templates: TemplateCache

    def template_row(self, template: Template | None) -> tuple[int, ...]:
        """Provider, event id, level, time and record id substitutions, literal provider
        code, run shape and text flag of a template (:data:`NOT_UNDERSTOOD` when not)."""

    def value_code(self, value: bytes) -> int:
        """The provider code of a substitution value, ``-1`` when not read exactly."""


@dataclass(slots=True)
class Records:
    """The records of a batch, one entry per record (file order), as numpy columns.

    ``fine``: understood (see the module text); where it is not, the other columns may hold
    anything. ``per``: the template's row (:meth:`Reader.template_row`); ``values``: where the
    substitution values start; ``value_sizes``/``value_types``: every descriptor (0 past the
    count). ``decision`` and ``naming`` are filled by the decider."""

    blob: bytes  # the batch's chunks, joined
    words: np.ndarray  # the batch's bytes as (unaligned) uint64 at every byte offset
    chunk: np.ndarray  # the chunk's number in the batch
    offsets: np.ndarray  # record offset in its chunk
    sizes: np.ndarray  # record size
    fine: np.ndarray
    used: list[Template | None]  # the templates met, by code
    codes: np.ndarray  # each record's template code
    per: np.ndarray
    values: np.ndarray
    value_sizes: np.ndarray
    value_types: np.ndarray
    providers: np.ndarray  # provider code
    event_ids: np.ndarray
    levels: np.ndarray  # -1: no Level element
    record_ids: np.ndarray  # EventRecordID
    filetimes: np.ndarray  # SystemTime
    decision: np.ndarray | None = None
    naming: np.ndarray | None = None
    value_counts: np.ndarray | None = None  # substitutions in each record's array
    checked: np.ndarray | None = None  # decided by the content test

    @property
    def run_shape(self) -> np.ndarray:
        """Whether each record's template has the run shape (``Template.run_shape``)."""
        return self.per[:, 6] == 1

    def template(self, k: int) -> Template | None:
        """The template record ``k`` instantiates."""
        return self.used[int(self.codes[k])]

    def where(self, chunks: Sequence[ChunkRecords], k: int) -> tuple[bytes, int, int]:
        """Record ``k``'s chunk bytes, offset and size."""
        return chunks[int(self.chunk[k])].data, int(self.offsets[k]), int(self.sizes[k])


@dataclass(slots=True)
class Nested:
    """The nested BinXML template instances of some records' values (a classic event's
    EventData), per record: read whole (``ok``: the fragment header or not, a template
    instance, its definition inline or by offset, at most ``MAX_SUBSTITUTIONS`` descriptors
    and the values after them inside the value); the record's chunk in the batch, the
    definition's offset in that chunk, the substitution count, every descriptor's size and
    type (0 past the count), where the values start and end (in the batch's bytes)."""

    ok: np.ndarray
    chunk: np.ndarray
    defoff: np.ndarray
    count: np.ndarray
    sizes: np.ndarray
    types: np.ndarray
    first: np.ndarray
    stop: np.ndarray


def nested_instances(read: Records, rows: np.ndarray, at: np.ndarray, size: np.ndarray
                     ) -> Nested:
    """The nested template instance of each record ``rows`` whose value at ``at`` (in the
    batch's bytes) has ``size`` bytes (see :class:`Nested`)."""
    blob = read.blob
    u8 = np.frombuffer(blob, np.uint8)
    u32 = np.ndarray((len(blob) - 3,), "<u4", blob, 0, (1,))
    last = len(u32) - 1
    end = at + size
    at = at + 4 * ((size >= 4) & (u32[np.minimum(at, last)] == _INSTANCE))
    ok = (size > 0) & (at + 10 <= end) & (u8[np.minimum(at, len(u8) - 1)] == _TEMPLATE_INSTANCE)
    defoff = np.where(ok, u32[np.minimum(at + 6, last)], 0).astype(np.int64)
    chunk = read.chunk[rows]
    subs = at + 10
    inline = ok & (defoff == subs - chunk * CHUNK)  # defined here, inline
    subs = subs + np.where(inline, 24 + u32[np.minimum(chunk * CHUNK + defoff + 20, last)]
                           .astype(np.int64), 0)
    ok &= subs + 4 <= end
    count = np.where(ok, u32[np.minimum(subs, last)], 0).astype(np.int64)
    ok &= count <= MAX_SUBSTITUTIONS
    count = np.where(ok, count, 0)
    width = max(int(count.max(initial=0)), 1)
    table = np.lib.stride_tricks.as_strided(u32, (len(u32) - 4 * width, width), (1, 4))
    descriptors = table[np.minimum(subs + 4, len(table) - 1)].astype(np.int64)
    descriptors[np.arange(width) >= count[:, None]] = 0
    sizes, types = descriptors & 0xFFFF, (descriptors >> 16) & 0xFF
    first = subs + 4 + 4 * count
    stop = first + sizes.sum(axis=1)
    ok &= (first <= end) & (stop <= end)
    return Nested(ok, chunk, defoff, count, sizes, types, first, stop)


def read_records(chunks: Sequence[ChunkRecords], reader: Reader) -> Records:
    """The records of ``chunks``, read in one batch."""
    counts = [len(chunk.offsets) for chunk in chunks]
    total = sum(counts)
    number = np.repeat(np.arange(len(chunks), dtype=np.int64), counts)
    offsets = np.fromiter(chain.from_iterable(c.offsets for c in chunks), np.int64, total)
    sizes = np.fromiter(chain.from_iterable(c.sizes for c in chunks), np.int64, total)
    blob = b"".join(chunk.data for chunk in chunks)
    views = _views(blob)
    at = offsets + number * CHUNK  # in the joined buffer
    ends = at + sizes - 4  # where a record's data ends (its size is repeated after)
    fine, defoff, subs, count = _instances(views, at, sizes, number, ends)
    table, codes, used = _templates(chunks, defoff, fine, reader)
    per = table[codes]
    fine &= per[:, 1] >= 0
    fine, values, value_sizes, value_types = _descriptors(views, per, subs, count, ends, fine)
    records = Records(blob, views[3], number, offsets, sizes, fine, used, codes, per, values,
                      value_sizes, value_types, *_empty(len(at), 5))
    records.value_counts = count
    _system(records, views, ends, reader)
    return records


def _empty(n: int, how_many: int) -> list[np.ndarray]:
    return [np.zeros(n, np.int64) for _ in range(how_many)]


def _views(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The bytes of ``blob`` as uint8, and as (unaligned) uint16, uint32, uint64 at every
    byte offset."""
    size = len(blob)
    return (np.frombuffer(blob, np.uint8),
            np.ndarray((size - 1,), "<u2", blob, 0, (1,)),
            np.ndarray((size - 3,), "<u4", blob, 0, (1,)),
            np.ndarray((size - 7,), "<u8", blob, 0, (1,)))


def _instances(views: tuple[np.ndarray, ...], at: np.ndarray, sizes: np.ndarray,
               number: np.ndarray, ends: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per record: a template instance after the fragment header, its definition's offset (in
    the joined buffer), where its substitution array starts and its count."""
    u8, _, u32, _ = views
    last = len(u8) - 8
    fine = (sizes >= 48) & (u32[at + 24] == _INSTANCE) & (u8[at + 28] == _TEMPLATE_INSTANCE)
    local = np.where(fine, u32[np.minimum(at + 34, last)].astype(np.int64), 0)
    fine &= local + 24 <= CHUNK
    defoff = number * CHUNK + np.where(fine, local, 0)
    inline = defoff == at + 38  # the definition follows, right here
    subs = at + 38 + np.where(inline, 24 + u32[np.minimum(defoff + 20, last)].astype(np.int64),
                              0)
    fine &= subs + 4 <= ends
    subs = np.where(fine, subs, at)
    return fine, defoff, subs, u32[np.minimum(subs, last)].astype(np.int64)


def _descriptors(views: tuple[np.ndarray, ...], per: np.ndarray, subs: np.ndarray,
                 count: np.ndarray, ends: np.ndarray, fine: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``fine`` narrowed to records whose descriptors are all as evtx reads them (a value type
    it reads, the natural size of a fixed-size type, every value inside the record) and that
    have the substitutions their template reads; where the values start, and every
    descriptor's size and type (0 past the count)."""
    u32 = views[2]
    needed = per[:, :5].max(axis=1) + 1
    fine &= (count >= needed) & (needed <= MAX_SUBSTITUTIONS)
    values = subs + 4 + 4 * count
    fine &= values <= ends
    width = max(int(np.where(fine, count, 0).max(initial=0)), 1)
    table = np.lib.stride_tricks.as_strided(u32, (len(u32) - 4 * width, width), (1, 4))
    descriptors = table[np.minimum(subs + 4, len(u32) - 4 * width - 1)].astype(np.int32)
    descriptors[np.arange(width) >= count[:, None]] = 0  # past the count: null, no size
    sizes = descriptors & 0xFFFF
    types = (descriptors >> 16) & 0xFF
    fine &= _DESCRIPTOR_OK[types * 18 + np.minimum(sizes, 17)].all(axis=1)
    # the values end inside the record, at an end-of-fragment token: evtx reads the token
    # after them and fails the record on any other
    stop = values + sizes.sum(axis=1, dtype=np.int64)
    fine &= (stop < ends) & (views[0][np.minimum(stop, len(views[0]) - 1)] == 0)
    return fine, values, sizes, types


def _system(records: Records, views: tuple[np.ndarray, ...], ends: np.ndarray,
            reader: Reader) -> None:
    """Event id, level, time, record id and provider of each record, ``fine`` narrowed to
    those of the types and sizes the text is read from."""
    u8, u16, _, u64 = views
    last = len(u8) - 8
    per, fine = records.per, records.fine
    reach = max(int(np.where(fine, per[:, :5].max(axis=1) + 1, 0).max(initial=0)), 1)
    sizes, types = records.value_sizes[:, :reach], records.value_types[:, :reach]
    starts = (np.cumsum(sizes, axis=1, dtype=np.int64) - sizes
              + np.where(fine, records.values, 0)[:, None])
    rows = np.arange(len(per))

    def column(k: int, value_type: int, size: int) -> np.ndarray:
        nonlocal fine
        index = np.maximum(per[:, k], 0)
        at = starts[rows, index]
        fine &= ((types[rows, index] == value_type) & (sizes[rows, index] == size)
                 & (at + size <= ends)) | (per[:, k] < 0)
        return np.minimum(at, last)

    event_ids = u16[column(1, UINT16, 2)].astype(np.int64)
    levels = u8[column(2, UINT8, 1)].astype(np.int64)
    filetimes = u64[column(3, FILETIME, 8)]
    record_ids = u64[column(4, UINT64, 8)]
    fine &= (per[:, 3] >= 0) & (per[:, 4] >= 0)
    fine &= (filetimes >= FILETIME_MIN) & (filetimes <= FILETIME_MAX)
    records.event_ids, records.record_ids, records.filetimes = event_ids, record_ids, filetimes
    records.levels = np.where(per[:, 2] >= 0, levels, -1)
    records.providers = _provider_codes(records.blob, u64, per, starts, sizes, types, ends,
                                        fine, reader)
    records.fine = fine & (records.providers >= 0)


def _templates(chunks: Sequence[ChunkRecords], defoff: np.ndarray, fine: np.ndarray,
               reader: Reader) -> tuple[np.ndarray, np.ndarray, list[Template | None]]:
    """The row of each template used (:meth:`Reader.template_row`), the row of each record
    and the templates by row."""
    where, codes = np.unique(np.where(fine, defoff, -1), return_inverse=True)
    places = where.tolist()
    missing = places[0] < 0
    used = reader.templates.get_many([(chunks[at >> 16].data, at & 0xFFFF)
                                      for at in places[missing:]])
    if missing:
        used.insert(0, None)
    rows = list(map(reader.template_row, used))
    return np.array(rows, np.int64).reshape(-1, 8), codes.reshape(-1), used


def _provider_codes(blob: bytes, u64: np.ndarray, per: np.ndarray, starts: np.ndarray,
                    sizes: np.ndarray, types: np.ndarray, ends: np.ndarray, fine: np.ndarray,
                    reader: Reader) -> np.ndarray:
    """Each record's provider code: the template's literal, or its substitution's text (each
    distinct value decoded once: the values as fixed-width rows, told apart by numpy)."""
    codes = per[:, 5].copy()
    substituted = np.flatnonzero(fine & (per[:, 0] >= 0))
    if not len(substituted):
        return codes
    index = per[substituted, 0]
    at = starts[substituted, index]
    size = sizes[substituted, index].astype(np.int64)
    good = ((types[substituted, index] == STRING) & (size % 2 == 0) & (size <= 1024)
            & (at + size <= ends[substituted]))
    size = np.where(good, size, 0)
    words = (int(size.max(initial=0)) + 7) // 8
    # each value as fixed-width words, bytes past its end zeroed, its size last
    windows = np.lib.stride_tricks.as_strided(u64, (len(u64) - 8 * words, words), (1, 8))
    rows = np.empty((len(at), words + 1), np.uint64)
    np.bitwise_and(windows[np.minimum(at, len(windows) - 1)], _tail_masks(words)[size],
                   out=rows[:, :words])
    rows[:, words] = size
    first, inverse = _distinct_rows(rows)
    found = np.array([reader.value_code(blob[a:a + n]) for a, n in
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
