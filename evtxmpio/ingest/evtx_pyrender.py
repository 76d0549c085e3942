"""Render python-evtx records the way Windows and the Rust backend do, without patching it.

python-evtx 0.8 renders substitution values its own way (corpus README, domain reference
section 1.4): Binary as base64, HexInt32/64 zero-padded, GUIDs lower-case, FILETIME through a
float (off by a microsecond now and then) as ``2012-03-14 04:17:38.276340+00:00``. The two
backends must give the same records, so the python backend renders these types like
``evtx`` (Rust) does: Binary as upper-case hex, ``0x`` + minimal lower-case hex, FILETIME and
SYSTEMTIME as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` from integers, booleans as ``true``/``false``,
size_t as hex, string arrays keeping their empty strings. GUIDs are rendered the Windows way,
``{UPPER-CASE}``; :mod:`evtxmpio.ingest.event_element` brings the Rust backend's bare GUIDs to the
same form.

Strings (names and values) are decoded as UTF-16LE with unpaired surrogates dropped, as
``evtx`` does: python-evtx decodes with the BOM-sniffing ``utf16`` codec and loses the whole
record to a ``UnicodeDecodeError`` for one damaged code unit.

python-evtx also follows the chunk's name and template hash chains (``next offset`` links) with
no bound: a damaged link that points back into its own chain (``tests/ingest/mutate.py``
``name_chain_loop``) made it loop forever. :func:`chunk_records` reads a chunk through a
subclass of python-evtx's ``ChunkHeader`` whose loaders stop a chain at the first offset met
twice; every name and template is still found on its own offset when a record needs it.

Nothing of python-evtx is changed: its classes keep their methods, so other users in the same
process (the replay tests use it as an oracle) and other threads see its own rendering.
:func:`record_xml` walks the record's node tree through python-evtx's node API the way its
``Views.render_root_node`` does, and formats each value node by its type here.
"""

from __future__ import annotations

import functools
import re
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

from evtxmpio.catalog import FILETIME_UNIX_EPOCH

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def filetime_text(filetime: int) -> str:
    """A FILETIME as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (microseconds, truncated), no floats."""
    ticks = filetime - FILETIME_UNIX_EPOCH
    seconds, rest = divmod(ticks, 10_000_000)
    try:
        base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    except (OverflowError, OSError, ValueError):
        return f"FILETIME(0x{filetime:016X})"
    return f"{base}.{rest // 10:06d}Z"


def _filetime_string(node: object) -> str:
    return filetime_text(node.unpack_qword(0))  # type: ignore[attr-defined]


def _systemtime_string(node: object) -> str:
    raw = bytes(node._buf[node._offset:node._offset + 16])  # type: ignore[attr-defined]
    year, month, _, day, hour, minute, second, millis = struct.unpack("<8H", raw)
    return (f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}."
            f"{millis * 1000:06d}Z")


def _hex_string(node: object) -> str:
    return "0x" + format(int.from_bytes(node.hex(), "little"), "x")  # type: ignore[attr-defined]


def _binary_string(node: object) -> str:
    return node.binary().hex().upper()  # type: ignore[attr-defined]


def _guid_string(node: object) -> str:
    return "{" + node.guid().upper() + "}"  # type: ignore[attr-defined]


def _boolean_string(node: object) -> str:
    return "true" if node.int32() > 0 else "false"  # type: ignore[attr-defined]


def _wstring_array_string(node: object) -> str:
    # python-evtx splits the array with a regex that drops and merges empty strings; Windows
    # and evtx keep every string, empty ones included (NUL-separated, NUL-terminated).
    return "".join(f"<string>{escape(item)}</string>\n" for item in _wstring_array(node))


def _wstring_array(node: object) -> list[str]:
    """The strings of a string array value, every one (empty ones included)."""
    text = bytes(node.binary()).decode("utf-16-le", errors="replace")  # type: ignore[attr-defined]
    items = text.split("\x00")
    if items and items[-1] == "":
        items.pop()
    return items


def _size_string(node: object) -> str:
    return "0x" + format(node.num(), "x")  # type: ignore[attr-defined]


def _wstring(node: Any, field: str, length: int) -> str:
    """The UTF-16LE field ``field`` of ``node`` (``length`` code units), lone surrogates dropped."""
    start = node._offset + getattr(node, "_off_" + field)
    text = bytes(node._buf[start:start + 2 * length]).decode("utf-16-le", "surrogatepass")
    return _LONE_SURROGATE.sub("", text)


def _wstring_value(node: Any) -> str:
    length = node.string_length() if node._length is None else node._length // 2
    return _wstring(node, "_string", length).rstrip("\x00")


def _name(node: Any) -> str:
    """The text of a NameStringNode (element, attribute and entity names)."""
    return _wstring(node, "string", node.string_length())


def _follow(head: int, step: Callable[[int], int]) -> None:
    """Walk one hash chain from ``head``; ``step`` loads an entry and returns the next offset.

    Stops at offset 0 or at an offset met before (a damaged link closing a loop).
    """
    seen: set[int] = set()
    offset = head
    while offset > 0 and offset not in seen:
        seen.add(offset)
        offset = step(offset)


def _load_strings(chunk: Any) -> None:
    if chunk._strings is None:
        chunk._strings = {}
    for bucket in range(64):
        _follow(chunk.unpack_dword(0x80 + bucket * 4),
                lambda offset: chunk.add_string(offset).next_offset())


def _load_templates(chunk: Any) -> None:
    if chunk._templates is None:
        chunk._templates = {}

    def step(offset: int) -> int:
        # A definition follows the template instance token (0x0C) that points at it.
        if chunk.unpack_byte(offset - 10) != 0x0C or chunk.unpack_dword(offset - 4) != offset:
            return 0
        return chunk.add_template(offset).next_offset()

    for bucket in range(32):
        _follow(chunk.unpack_dword(0x180 + bucket * 4), step)


class _Renderer:
    """python-evtx's chunk subclass and value formatters, built on first use (lazy import)."""

    def __init__(self) -> None:
        from Evtx import Evtx, Nodes, Views

        class BoundedChunk(Evtx.ChunkHeader):
            """A chunk whose name and template chains stop at a loop."""

            def _load_strings(self) -> None:
                _load_strings(self)

            def _load_templates(self) -> None:
                _load_templates(self)

            def records(self) -> Iterator[Any]:
                """``ChunkHeader.records``, without reading a record header at the free space
                offset: python-evtx reads the next header before it checks that offset, past
                the chunk's end when its records fill it to within a header's size."""
                try:
                    record = self.first_record()
                except Evtx.InvalidRecordException:
                    return
                end = self._offset + self.next_record_offset()
                while record._offset < end and record.length() > 0:
                    yield record
                    following = record._offset + record.length()
                    if following >= end:
                        return
                    try:
                        record = Evtx.Record(self._buf, following, self)
                    except Evtx.InvalidRecordException:
                        return

        self.chunk = BoundedChunk
        self.nodes = Nodes
        self.escape = Views.escape_value
        self.validate_name = Views.validate_name
        self.unexpected = Views.UnexpectedElementException
        # an element's children that render no content, and the substitutions
        self.unrendered = (Nodes.AttributeNode, Nodes.CloseStartElementNode,
                           Nodes.CloseElementNode, Nodes.CloseEmptyElementNode,
                           Nodes.EndOfStreamNode)
        self.substitutions = (Nodes.NormalSubstitutionNode, Nodes.ConditionalSubstitutionNode)
        self.formatters: dict[type, Callable[[Any], str]] = {
            Nodes.FiletimeTypeNode: _filetime_string,
            Nodes.SystemtimeTypeNode: _systemtime_string,
            Nodes.Hex32TypeNode: _hex_string,
            Nodes.Hex64TypeNode: _hex_string,
            Nodes.BinaryTypeNode: _binary_string,
            Nodes.GuidTypeNode: _guid_string,
            Nodes.BooleanTypeNode: _boolean_string,
            Nodes.SizeTypeNode: _size_string,
            Nodes.WstringArrayTypeNode: _wstring_array_string,
            Nodes.WstringTypeNode: _wstring_value,
        }

    def value(self, node: Any) -> str:
        formatter = self.formatters.get(type(node))
        return formatter(node) if formatter is not None else node.string()

    def substitution(self, sub: Any) -> str:
        if isinstance(sub, self.nodes.BXmlTypeNode):
            return self.root(sub.root())
        return self.escape(self.value(sub))

    def root(self, root: Any) -> str:
        """``Views.render_root_node``, values formatted here."""
        subs = root.substitutions()
        if any(isinstance(sub, str) for sub in subs):
            raise RuntimeError("string sub?")
        if any(sub is None for sub in subs):
            raise RuntimeError("null sub?")
        acc: list[str] = []
        for child in root.template().children():
            self.node(child, subs, acc)
        return "".join(acc)

    def node(self, node: Any, subs: list[Any], acc: list[str]) -> None:
        """One node of ``Views.render_root_node_with_subs`` (the nodes it skips are skipped)."""
        nodes = self.nodes
        if isinstance(node, nodes.OpenStartElementNode):
            self.element(node, subs, acc)
        elif isinstance(node, nodes.ValueNode):
            acc.append(self.escape(self.value(node.children()[0])))
        elif isinstance(node, nodes.CDataSectionNode):
            text = _wstring(node, "cdata", node.string_length() - 2)
            acc.append(f"<![CDATA[{self.escape(text)}]]>")
        elif isinstance(node, nodes.EntityReferenceNode):
            name = _name(node._chunk.strings()[node.string_offset()])
            acc.append(self.escape(f"&{name};"))
        elif isinstance(node, nodes.ProcessingInstructionTargetNode):
            name = _name(node._chunk.strings()[node.string_offset()])
            acc.append(self.escape(f"<?{name}"))
        elif isinstance(node, nodes.ProcessingInstructionDataNode):
            acc.append(self.escape(node.string()))
        elif isinstance(node, nodes.TemplateInstanceNode):
            raise self.unexpected("TemplateInstanceNode")
        elif isinstance(node, nodes.NormalSubstitutionNode | nodes.ConditionalSubstitutionNode):
            acc.append(self.substitution(subs[node.index()]))

    def element(self, node: Any, subs: list[Any], acc: list[str]) -> None:
        name = _name(node._chunk.strings()[node.string_offset()])
        children = node.children()
        strings = self._array(children, subs)
        if strings is not None:  # one element per string, as evtx renders an array
            for text in strings or [""]:
                self._open(name, children, subs, acc)
                acc.append(f"{self.escape(text)}</{self.validate_name(name)}>\n")
            return
        self._open(name, children, subs, acc)
        for child in children:
            self.node(child, subs, acc)
        acc.append(f"</{self.validate_name(name)}>\n")

    def _array(self, children: list[Any], subs: list[Any]) -> list[str] | None:
        """The strings of an element whose content is one string array value, else ``None``."""
        found = None
        for child in children:
            if isinstance(child, self.unrendered):
                continue
            if found is not None or not isinstance(child, self.substitutions):
                return None
            found = child
        value = subs[found.index()] if found is not None else None
        return _wstring_array(value) if isinstance(value, self.nodes.WstringArrayTypeNode) \
            else None

    def _open(self, name: str, children: list[Any], subs: list[Any], acc: list[str]) -> None:
        acc.append("<" + name)
        for child in children:
            if isinstance(child, self.nodes.AttributeNode):
                acc.append(f" {self.validate_name(_name(child.attribute_name()))}=\"")
                self.node(child.attribute_value(), subs, acc)
                acc.append('"')
        acc.append(">")


@functools.cache
def _renderer() -> _Renderer:
    return _Renderer()


def chunk_records(data: bytes) -> Iterator[Any]:
    """python-evtx ``Record`` objects of one 64 KiB chunk (chains bounded, see above)."""
    return _renderer().chunk(data, 0).records()


def record_xml(record: Any) -> str:
    """The record as Event XML text, values rendered like Windows and ``evtx`` do."""
    return _renderer().root(record.root())
