"""Whether an unrendered .evtx record may name a fix: the content test of the skip path.

:meth:`Relevance.keeps_xml <evtxmpio.catalog.relevance.Relevance.keeps_xml>` keeps a record of a
provider kept only when its text names a fix (``naming: fixes``) when one of the fix numbers
(``2406705``) is in its rendered XML, lower-cased. :class:`NamingCheck` answers from the
record's bytes whether that can be so; "no" must be certain, "maybe" sends the chunk to ``evtx``.

The numbers are digits only, seven or more (else every such record is a "maybe"). In the
rendered text, a run of seven digits can only come from:

- text: string values (UTF-16 or ANSI) and the template's literal text and names. The record's
  bytes are searched for the number in UTF-16 and ASCII, the template's text as read;
- a number rendered: 32- and 64-bit integers and booleans in decimal; hex integers and
  ``size_t``, binary and GUIDs in hex; SIDs in decimal parts. Each such value is rendered here
  (every digit run its rendering can hold) and searched;
- nested BinXML (EventData as a value of its own): followed, as a template instance;
- two values rendered next to each other (their digits would meet): a template where two
  value tokens follow each other is a "maybe".

8- and 16-bit integers, SYSTEMTIMEs and FILETIMEs the analysis can hold render at most six
digits in a row. Anything else (floats, arrays other than of strings, a fragment that is not a
template instance, a value past its record) is a "maybe".
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from evtxmpio.catalog.relevance import Relevance
from evtxmpio.ingest.evtx_templates import (
    BINXML,
    FILETIME,
    FILETIME_MAX,
    FILETIME_MIN,
    MAX_SUBSTITUTIONS,
    Template,
    TemplateCache,
)
from evtxmpio.ingest.evtx_values import Records, nested_instances

_FRAGMENT = b"\x0f\x01\x01\x00"  # fragment header (a record's; nested BinXML may omit it)
_TEMPLATE_INSTANCE = 0x0C
_U32 = struct.Struct("<I").unpack_from
_FILETIME = struct.Struct("<Q").unpack_from
# Value types whose rendering holds no run of seven digits that the record's bytes hide:
# null, strings (searched in the bytes), 8- and 16-bit integers, SYSTEMTIME, string arrays.
_SAFE = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x12, 0x81})
MAX_DEPTH = 4
MAX_REMEMBERED = 1 << 16


class NamingCheck:
    """The content test for one relevance table, with the renderings already met."""

    def __init__(self, relevance: Relevance, templates: TemplateCache) -> None:
        self.templates = templates
        self.needles = _needles(relevance)
        self._values: dict[tuple[int, bytes], bool] = {}
        self._layouts: dict[int, struct.Struct] = {}

    def may_name(self, data: bytes, start: int, end: int, template: Template | None = None,
                 record_id: int | None = None) -> bool:
        """Whether the record at ``start:end`` of the chunk ``data`` may name a fix.

        ``template`` (the record's, when known) with ``record_id`` (its ``EventRecordID``,
        read): the System time (checked in range by the caller) and id are not read again."""
        needles = self.needles
        if needles is None:
            return True
        record = data[start:end]
        if any(needle in record for _, wide, narrow in needles for needle in (wide, narrow)):
            return True
        known: tuple[int, ...] = ()
        if template is not None and template.system is not None and record_id is not None:
            if any(needle in str(record_id) for needle, _, _ in needles):
                return True
            known = template.system[3:5]
        return self._instance(data, start + 24, end - 4, 0, template, known)

    def _instance(self, data: bytes, at: int, end: int, depth: int,
                  template: Template | None = None, known: tuple[int, ...] = ()) -> bool:
        """Whether the template instance of the BinXML at ``at`` (a fragment header first,
        or not: nested values start with the instance) may name a fix; ``end``: where its data
        ends; ``known``: substitutions already read."""
        if data[at:at + 4] == _FRAGMENT:
            at += 4
        if depth > MAX_DEPTH or at + 10 > end or data[at] != _TEMPLATE_INSTANCE:
            return True
        (defoff,) = _U32(data, at + 6)
        subs = at + 10
        if defoff == subs:
            if subs + 24 > end:
                return True
            subs += 24 + _U32(data, defoff + 20)[0]
        if template is None:
            template = self.templates.get(data, defoff)
        if (template is None or template.adjacent or subs + 4 > end
                or any(text in template.literal for text, _, _ in self.needles or ())):
            return True
        (count,) = _U32(data, subs)
        first = subs + 4 + 4 * count
        if count > MAX_SUBSTITUTIONS or first > end:
            return True
        fields = self._layout(count).unpack_from(data, subs + 4)
        types = fields[1::2]
        if _SAFE.issuperset(types):
            return False
        bounds = list(accumulate(fields[0::2], initial=first))
        if bounds[-1] > end:
            return True
        for k, value_type in enumerate(types):
            if value_type in _SAFE or k in known:
                continue
            if value_type == BINXML:
                if self._instance(data, bounds[k], bounds[k + 1], depth + 1):
                    return True
            elif self._value(value_type, data[bounds[k]:bounds[k + 1]]):
                return True
        return False

    def _value(self, value_type: int, value: bytes) -> bool:
        """Whether one value's rendering may hold a fix number (remembered)."""
        key = (value_type, value)
        found = self._values.get(key)
        if found is None:
            if value_type == FILETIME:
                found = len(value) != 8 or not FILETIME_MIN <= _FILETIME(value)[0] <= \
                    FILETIME_MAX
            else:
                text = rendered_digits(value, value_type)
                found = text is None or any(needle in text for needle, _, _ in self.needles
                                            or ())
            if len(self._values) >= MAX_REMEMBERED:
                self._values.clear()
            self._values[key] = found
        return found

    def _layout(self, count: int) -> struct.Struct:
        layout = self._layouts.get(count)
        if layout is None:
            layout = self._layouts[count] = struct.Struct("<" + "HBx" * count)
        return layout


def _needles(relevance: Relevance) -> tuple[tuple[str, bytes, bytes], ...] | None:
    """Each fix number as text, UTF-16 and ASCII bytes; ``None`` when one is not a number of
    seven digits or more."""
    texts = {needle for rule in relevance.rules.values() for needle in rule.naming}
    if not all(text.isascii() and text.isdigit() and len(text) >= 7 for text in texts):
        return None
    return tuple((text, text.encode("utf-16le"), text.encode("ascii")) for text in texts)


def rendered_digits(value: bytes, value_type: int) -> str | None:
    """Text holding every run of digits the value's rendering can hold (a superset: decimal
    and hex forms, parts joined by spaces), ``None`` for a type not read here."""
    if value_type in (0x07, 0x08, 0x09, 0x0A, 0x0D):  # integers (and booleans), decimal
        number = int.from_bytes(value, "little", signed=value_type in (0x07, 0x09))
        return str(number)
    if value_type in (0x10, 0x14, 0x15):  # size_t and hex integers
        number = int.from_bytes(value, "little")
        return f"{number:x} {number:0{2 * len(value)}x} {number}"
    if value_type == 0x0E:  # binary, hex
        return value.hex()
    if value_type == 0x0F and len(value) == 16:  # GUID
        return value[3::-1].hex() + value[5:3:-1].hex() + value[7:5:-1].hex() + value[8:].hex()
    if value_type == 0x13 and len(value) >= 8 and len(value) == 8 + 4 * value[1]:  # SID
        parts = [str(value[0]), str(int.from_bytes(value[2:8], "big"))]
        parts += [str(int.from_bytes(value[at:at + 4], "little"))
                  for at in range(8, len(value), 4)]
        return " ".join(parts)
    return None


# Value types by how the vector test reads them: 0 nothing to read (null, strings searched in
# the bytes, 8- and 16-bit integers, SYSTEMTIME, string arrays), 1 a 32-bit integer in
# decimal (signed 2), 3 a 64-bit integer in decimal (signed 4), 5 hex integers (and in
# decimal), 6 FILETIME, 7 GUID, 8 anything else (the record is left to :meth:`may_name`),
# 9 nested BinXML (read by :func:`nested_may_name`).
_CLASS = np.full(256, 8, np.int8)
_CLASS[list(_SAFE)] = 0
_CLASS[[0x08, 0x0D]] = 1
_CLASS[0x07] = 2
_CLASS[0x0A] = 3
_CLASS[0x09] = 4
_CLASS[[0x10, 0x14, 0x15]] = 5
_CLASS[FILETIME] = 6
_CLASS[0x0F] = 7
_CLASS[BINXML] = 9  # nested BinXML: its own instance (the caller reads it, or asks)
NO, MAYBE, ASK, NESTED = 0, 1, 2, 3


def vector_may_name(u64: np.ndarray, values: np.ndarray, sizes: np.ndarray,
                    types: np.ndarray, known: np.ndarray, record_ids: np.ndarray,
                    needles: tuple[tuple[str, bytes, bytes], ...]) -> np.ndarray:
    """:meth:`NamingCheck.may_name` for many records at once, on their top-level values:
    ``NO``, ``MAYBE``, ``ASK`` (a value this test does not read: binary, SID, floats; the
    caller asks :meth:`NamingCheck.may_name`) or ``NESTED`` (no other value may name a fix,
    but a nested BinXML value is to be read: :func:`nested_may_name`, else ask). Strings are
    not searched here (the caller searches the bytes), nor the template's own text.

    ``u64``: the batch's bytes as uint64 at every offset; ``values``: where each record's
    values start; ``sizes``/``types``: its descriptors (0 past its count); ``known``: the
    substitution indexes already read (time and record id, columns), whose values are
    ``record_ids`` and a FILETIME checked in range by the caller.
    """
    width = sizes.shape[1]
    starts = values[:, None] + np.cumsum(sizes, axis=1) - sizes
    classes = _CLASS[types]
    column = np.arange(width)
    classes[(column == known[:, :1]) | (column == known[:, 1:])] = 0
    verdict = np.where((classes == 8).any(axis=1), ASK,
                       np.where((classes == 9).any(axis=1), NESTED, NO)).astype(np.int8)
    maybe = _decimal_holds(record_ids.astype(np.uint64), needles)
    at_row, at_column = np.nonzero((classes > 0) & (classes < 8))
    if len(at_row):
        kind = classes[at_row, at_column]
        last = len(u64) - 1
        start = starts[at_row, at_column]
        first = u64[np.minimum(start, last)]
        four = sizes[at_row, at_column] == 4
        number = np.where(four, first & np.uint64(0xFFFFFFFF), first)
        signed = np.where(four, number.astype(np.uint32).astype(np.int32).astype(np.int64),
                          number.astype(np.int64))
        magnitude = np.where((kind == 2) | (kind == 4),
                             np.abs(signed).astype(np.uint64), number)
        hit = np.zeros(len(at_row), bool)
        decimal = kind <= 5
        hit[decimal] = _decimal_holds(magnitude[decimal], needles)
        hexed = kind == 5
        hit[hexed] |= _hex_holds(number[hexed], needles)
        times = kind == 6
        hit[times] = (number[times] < FILETIME_MIN) | (number[times] > FILETIME_MAX)
        guids = np.flatnonzero(kind == 7)
        if len(guids):
            hit[guids] = _guid_holds(first[guids], u64[np.minimum(start[guids] + 8, last)],
                                     needles)
        maybe[at_row[hit]] = True
    verdict[maybe & (verdict != ASK)] = MAYBE
    return verdict


def nested_may_name(read: Records, rows: np.ndarray, chunks: Sequence[bytes],
                    templates: TemplateCache, needles: tuple[tuple[str, bytes, bytes], ...]
                    ) -> np.ndarray:
    """:func:`vector_may_name` of the records ``rows`` whose verdict is ``NESTED`` (how
    Windows writes a classic event: its EventData a nested BinXML value): their one nested
    value's template instance read as :meth:`NamingCheck.may_name` reads it, its values by
    :func:`vector_may_name`. ``ASK`` where it is not read so: several nested values, an
    instance not read whole, a template not understood or whose own text holds a number, a
    value nested deeper (``chunks``: the batch's chunks' bytes)."""
    verdict = np.full(len(rows), ASK, np.int8)
    types = read.value_types[rows]
    binxml = types == BINXML
    one = np.flatnonzero(binxml.sum(axis=1) == 1)
    if not len(one):
        return verdict
    sizes = read.value_sizes[rows[one]].astype(np.int64)
    column = binxml[one].argmax(axis=1)
    starts = read.values[rows[one]][:, None] + np.cumsum(sizes, axis=1) - sizes
    pick = np.arange(len(one))
    nested = nested_instances(read, rows[one], starts[pick, column], sizes[pick, column])
    keys = list(zip(nested.chunk.tolist(), nested.defoff.tolist(), strict=True))
    found = {key: templates.get(chunks[key[0]], key[1]) for key in
             {key for key, ok in zip(keys, nested.ok.tolist(), strict=True) if ok}}
    fit = {key: template is not None and not template.adjacent
           and not any(text in template.literal for text, _, _ in needles)
           for key, template in found.items()}
    good = np.flatnonzero([fit.get(key, False) for key in keys])
    if not len(good):
        return verdict
    inner = vector_may_name(read.words, nested.first[good], nested.sizes[good],
                            nested.types[good], np.full((len(good), 2), -1),
                            np.zeros(len(good), np.uint64), needles)
    inner[inner == NESTED] = ASK
    verdict[one[good]] = inner
    return verdict


def _decimal_holds(numbers: np.ndarray, needles: tuple[tuple[str, bytes, bytes], ...]
                   ) -> np.ndarray:
    """Whether each number's decimal digits hold a needle."""
    hit = np.zeros(len(numbers), bool)
    for text, _, _ in needles:
        modulus, target = np.uint64(10 ** len(text)), np.uint64(int(text))
        rest = numbers.copy()
        for _ in range(21 - len(text)):
            hit |= rest % modulus == target
            rest //= np.uint64(10)
    return hit


def _hex_holds(numbers: np.ndarray, needles: tuple[tuple[str, bytes, bytes], ...]
               ) -> np.ndarray:
    """Whether each 64-bit number's hex digits hold a needle (digits as nibbles)."""
    hit = np.zeros(len(numbers), bool)
    for text, _, _ in needles:
        if len(text) > 16:
            continue
        mask, target = np.uint64(16 ** len(text) - 1), np.uint64(int(text, 16))
        for shift in range(17 - len(text)):
            hit |= (numbers >> np.uint64(4 * shift)) & mask == target
    return hit


def _guid_holds(first: np.ndarray, second: np.ndarray,
                needles: tuple[tuple[str, bytes, bytes], ...]) -> np.ndarray:
    """Whether GUIDs (their two 64-bit halves as stored) rendered in hex hold a needle: the
    32 hex digits in rendering order as three overlapping 64-bit windows."""
    if any(len(text) > 8 for text, _, _ in needles):
        return np.ones(len(first), bool)
    d1 = first & np.uint64(0xFFFFFFFF)
    d2 = (first >> np.uint64(32)) & np.uint64(0xFFFF)
    d3 = first >> np.uint64(48)
    high = (d1 << np.uint64(32)) | (d2 << np.uint64(16)) | d3
    low = second.byteswap()
    middle = (high << np.uint64(32)) | (low >> np.uint64(32))
    return _hex_holds(high, needles) | _hex_holds(middle, needles) | _hex_holds(low, needles)
