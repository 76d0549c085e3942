"""``<EventData>`` as a template of its own, the layout Windows writes (``evtx_layout: windows``).

In a System log written by Windows the Event template holds ``<System>`` and then one
substitution of value type BinXml (0x21) in place of ``<EventData>``. Its value is a fragment:
fragment header, a TemplateInstance of an ``<EventData>`` template (defined inline the first time
a chunk uses it, referenced by offset afterwards), that template's values, end of fragment.
Measured on the corpus System logs with python-evtx (``record.root().substitutions()``, and for
the last one ``.root().substitutions()``):

* classic events (unnamed data: EventLog, disk, mpio ...): one ``<Data>`` holding a string array
  (0x81; Null when there is no string), an unused UInt32 (the size of the binary), then
  ``<Binary>`` (Null when there is none), all optional substitutions;
* manifest events (``<Data Name=...>``): one value per named item (Wstring here), then, with a
  ``<Binary>``, the UInt32 size and the Binary, all normal substitutions.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache
from typing import TYPE_CHECKING

from evtxmpio.replay.binxml import (
    TYPE_BINARY,
    TYPE_NULL,
    TYPE_STRING,
    TYPE_STRING_ARRAY,
    TYPE_UINT32,
    Element,
    Substitution,
)

if TYPE_CHECKING:
    from evtxmpio.replay.events import SystemEvent

CLASSIC = ("classic",)
"""The data key of every event with unnamed data: Windows uses one template for all of them."""


def data_key(event: SystemEvent) -> tuple:
    """Return what shapes the ``<EventData>`` template of ``event`` (hashable, cheap)."""
    if event.data_names is None:
        return CLASSIC
    return ("named", event.data_names, event.binary is not None)


class CompiledData:
    """The ``<EventData>`` template for one :func:`data_key` and its value packer.

    Attributes:
        guid: the 16-byte template identifier (a digest of the key, so files are reproducible).
        template_id: first 4 bytes of ``guid``.
        root: the ``<EventData>`` element tree with substitutions.
    """

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.guid = hashlib.md5(repr(("EventData", key)).encode("utf-8")).digest()
        self.template_id = int.from_bytes(self.guid[:4], "little")
        if key == CLASSIC:
            data = Element("Data", children=(Substitution(0, TYPE_STRING_ARRAY),))
            binary = Element("Binary", children=(Substitution(2, TYPE_BINARY),))
            self.root = Element("EventData", children=(data, binary))
            return
        _, names, has_binary = key
        children = [
            Element("Data", (("Name", name),), (Substitution(index, TYPE_STRING, False),))
            for index, name in enumerate(names)
        ]
        if has_binary:
            binary_sub = Substitution(len(names) + 1, TYPE_BINARY, False)
            children.append(Element("Binary", children=(binary_sub,)))
        self.root = Element("EventData", children=tuple(children))

    def encode_values(self, event: SystemEvent) -> bytes:
        """Return the instance data (count, descriptors, values) of ``event``'s EventData.

        Raises:
            ValueError: a string of unnamed data holds a NUL (a string array cannot carry it),
                or a value exceeds the 65535-byte value limit.
        """
        if self.key == CLASSIC:
            values = _classic_values(event)
        else:
            values = [(TYPE_STRING, text.encode("utf-16-le")) for text in event.data]
            if event.binary is not None:
                values += _binary_values(event.binary, TYPE_BINARY)
        try:
            descriptors = b"".join(struct.pack("<HBB", len(v), t, 0) for t, v in values)
        except struct.error:
            raise ValueError(f"record {event.record_id}: a data value over 65535 bytes") from None
        return b"".join((struct.pack("<I", len(values)), descriptors, *(v for _, v in values)))


def _classic_values(event: SystemEvent) -> list[tuple[int, bytes]]:
    if any("\x00" in text for text in event.data):
        raise ValueError(f"record {event.record_id}: a NUL in unnamed data (a string array)")
    strings = (TYPE_NULL, b"")
    if event.data:
        strings = (
            TYPE_STRING_ARRAY,
            "".join(f"{text}\x00" for text in event.data).encode("utf-16-le"),
        )
    return [strings, *_binary_values(event.binary or b"", TYPE_NULL)]


def _binary_values(binary: bytes, empty_type: int) -> list[tuple[int, bytes]]:
    """The UInt32 size and the Binary value; an empty Binary is ``empty_type`` (size 0)."""
    size = (TYPE_UINT32, struct.pack("<I", len(binary)))
    return [size, (TYPE_BINARY if binary else empty_type, bytes(binary))]


@lru_cache(maxsize=1024)
def compile_data(key: tuple) -> CompiledData:
    """Return the compiled ``<EventData>`` template for a :func:`data_key` (cached)."""
    return CompiledData(key)
