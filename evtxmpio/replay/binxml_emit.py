"""Template definitions written into a chunk: the element tree of a template as BinXML tokens.

Spec: libyal "Windows XML Event Log (EVTX)", sections "Binary XML" and "Chunk" (the common string
table). Element and attribute names are written once per chunk (inline, right after their offset
field) and referenced by offset afterwards.
"""

from __future__ import annotations

import struct

from evtxmpio.replay import binxml
from evtxmpio.replay.binxml import Element, Substitution

_U32 = struct.Struct("<I")


class TemplateEmitter:
    """Serialises one template definition at a known chunk offset.

    Names already in the chunk are referenced by offset; new ones are written inline right after
    their offset field and kept *pending* (with the template itself) until the chunk accepts the
    record, so a record that does not fit leaves the chunk untouched.

    Args:
        names: the chunk's names and their offsets.
        heads: the chunk's name hash-bucket heads.
        base: chunk offset of the first byte emitted.
        after: an emitter of the same record whose pending names and templates this one sees
            and adds to (a record that defines its Event and its EventData template).
    """

    def __init__(
        self,
        names: dict[str, int],
        heads: list[int],
        base: int,
        after: TemplateEmitter | None = None,
    ) -> None:
        self.out = bytearray()
        self.base = base
        self._names = names
        self._heads = heads
        self.new_names: dict[str, int] = {} if after is None else after.new_names
        self.new_heads: dict[int, int] = {} if after is None else after.new_heads
        self.new_templates: dict[int, int] = {} if after is None else after.new_templates
        self.new_references: dict[tuple, bytes] = {} if after is None else after.new_references

    def name(self, name: str) -> None:
        offset = self._names.get(name, self.new_names.get(name))
        if offset is not None:
            self.out += _U32.pack(offset)
            return
        offset = self.base + len(self.out) + 4
        hash_value = binxml.name_hash(name)
        bucket = hash_value % binxml.STRING_BUCKETS
        next_offset = self.new_heads.get(bucket, self._heads[bucket])
        encoded = name.encode("utf-16-le")
        self.out += _U32.pack(offset)
        self.out += struct.pack("<IHH", next_offset, hash_value, len(encoded) // 2)
        self.out += encoded + b"\x00\x00"
        self.new_names[name] = offset
        self.new_heads[bucket] = offset

    def value(self, value: str | Substitution) -> None:
        if isinstance(value, Substitution):
            token = binxml.TOKEN_OPTIONAL_SUBSTITUTION
            if not value.optional:
                token = binxml.TOKEN_NORMAL_SUBSTITUTION
            self.out += struct.pack("<BHB", token, value.index, value.value_type)
            return
        encoded = value.encode("utf-16-le")
        self.out += struct.pack("<BBH", binxml.TOKEN_VALUE, binxml.TYPE_STRING, len(encoded) // 2)
        self.out += encoded

    def element(self, element: Element) -> None:
        out = self.out
        start = len(out)
        token = binxml.TOKEN_OPEN_START_ELEMENT
        if element.attributes:
            token |= binxml.FLAG_MORE
        out += struct.pack("<BHI", token, 0xFFFF, 0)
        self.name(element.name)
        if element.attributes:
            self._attributes(element.attributes)
        if element.children:
            out.append(binxml.TOKEN_CLOSE_START_ELEMENT)
            for child in element.children:
                if isinstance(child, Element):
                    self.element(child)
                else:
                    self.value(child)
            out.append(binxml.TOKEN_END_ELEMENT)
        else:
            out.append(binxml.TOKEN_CLOSE_EMPTY_ELEMENT)
        # Element data size excludes the token, dependency id and the size field itself.
        struct.pack_into("<I", out, start + 3, len(out) - start - 7)

    def _attributes(self, attributes: tuple[tuple[str, str | Substitution], ...]) -> None:
        out = self.out
        size_at = len(out)
        out += b"\x00\x00\x00\x00"
        last = len(attributes) - 1
        for position, (name, value) in enumerate(attributes):
            more = binxml.FLAG_MORE if position < last else 0
            out.append(binxml.TOKEN_ATTRIBUTE | more)
            self.name(name)
            self.value(value)
        struct.pack_into("<I", out, size_at, len(out) - size_at - 4)
