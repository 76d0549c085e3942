"""Make python-evtx render typed values the way Windows and the Rust backend do.

python-evtx 0.8 renders substitution values its own way (corpus README, domain reference
section 1.4): Binary as base64, HexInt32/64 zero-padded, GUIDs lower-case, FILETIME through a
float (off by a microsecond now and then) as ``2012-03-14 04:17:38.276340+00:00``. The two
backends must give the same records, so the python backend renders these types like
``evtx`` (Rust) does: Binary as upper-case hex, ``0x`` + minimal lower-case hex, FILETIME and
SYSTEMTIME as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` from integers, booleans as ``true``/``false``,
size_t as hex, string arrays keeping their empty strings. GUIDs are rendered the Windows way,
``{UPPER-CASE}``; :mod:`evtxmpio.ingest.event_element` brings the Rust backend's bare GUIDs to the
same form.

Strings are decoded as UTF-16LE with unpaired surrogates dropped, as ``evtx`` does: python-evtx
decodes with the BOM-sniffing ``utf16`` codec and loses the whole record to a
``UnicodeDecodeError`` for one damaged code unit.

python-evtx also follows the chunk's name and template hash chains (``next offset`` links) with
no bound: a damaged link that points back into its own chain (``tests/ingest/mutate.py``
``name_chain_loop``) made it loop forever. The patched loaders stop a chain at the first offset
met twice; every name and template is still found on its own offset when a record needs it.

:func:`rendering` replaces these methods of python-evtx's classes only
while it is active and restores the originals on leaving (exceptions included), so other users
of python-evtx in the same process (the replay tests use it as an oracle) see its own rendering.
The python backend decodes one chunk's records to XML text inside the context and yields them
after leaving it, so the patch never stays installed across a ``yield``. The patch is
process-wide while active: do not render with python-evtx from another thread at that time.
"""

from __future__ import annotations

import re
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from xml.sax.saxutils import escape

from evtxmpio.catalog import FILETIME_UNIX_EPOCH

_LOCK = threading.RLock()
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
    text = bytes(node.binary()).decode("utf-16-le", errors="replace")  # type: ignore[attr-defined]
    items = text.split("\x00")
    if items and items[-1] == "":
        items.pop()
    return "".join(f"<string>{escape(item)}</string>\n" for item in items)


def _size_string(node: object) -> str:
    return "0x" + format(node.num(), "x")  # type: ignore[attr-defined]


def _unpack_wstring(block: Any, offset: int, length: int) -> str:
    start = block._offset + offset
    text = bytes(block._buf[start:start + 2 * length]).decode("utf-16-le", "surrogatepass")
    return _LONE_SURROGATE.sub("", text)


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


def _patches() -> dict[tuple[type, str], object]:
    from Evtx import BinaryParser, Evtx, Nodes

    strings = {
        Nodes.FiletimeTypeNode: _filetime_string,
        Nodes.SystemtimeTypeNode: _systemtime_string,
        Nodes.Hex32TypeNode: _hex_string,
        Nodes.Hex64TypeNode: _hex_string,
        Nodes.BinaryTypeNode: _binary_string,
        Nodes.GuidTypeNode: _guid_string,
        Nodes.BooleanTypeNode: _boolean_string,
        Nodes.SizeTypeNode: _size_string,
        Nodes.WstringArrayTypeNode: _wstring_array_string,
    }
    patches: dict[tuple[type, str], object] = {(cls, "string"): f for cls, f in strings.items()}
    patches[(Evtx.ChunkHeader, "_load_strings")] = _load_strings
    patches[(Evtx.ChunkHeader, "_load_templates")] = _load_templates
    patches[(BinaryParser.Block, "unpack_wstring")] = _unpack_wstring
    return patches


@contextmanager
def rendering() -> Iterator[None]:
    """Render python-evtx values like Windows and ``evtx`` while active; restore on exit.

    Re-entrant; the originals are put back when the outermost context leaves, also when the
    body raises.
    """
    with _LOCK:
        patches = _patches()
        saved = {key: key[0].__dict__.get(key[1]) for key in patches}
        for (cls, name), method in patches.items():
            setattr(cls, name, method)
        try:
            yield
        finally:
            for (cls, name), original in saved.items():
                if original is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)
