"""File names as text: names whose bytes are not UTF-8 travel losslessly and show escaped.

On POSIX a file name is bytes. Python hands a name that is not valid UTF-8 (byte 0xFF from a
Latin-1 machine, a cut multi-byte sequence) to the program as a ``str`` with *surrogate
escapes* (``'\\udcff'`` for byte 0xFF), so ``open()`` still finds the file: inside the program
such names travel unchanged. No UTF-8 output (a report, a DuckDB row, a pyarrow column, the
terminal) can hold a lone surrogate, so wherever a name becomes text for people or storage,
:func:`path_text` shows each such byte as ``\\xff``; everything else stays as it is. A name
that is valid UTF-8 is returned unchanged, so case hashes, golden files and databases of
ordinary names do not move.
"""

from __future__ import annotations

import os
import re

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a surrogate escape: the byte it stands for
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


def path_text(path: str | os.PathLike[str]) -> str:
    """``path`` as valid Unicode text: undecodable bytes as ``\\xNN`` (lone surrogates that are
    not surrogate escapes as ``\\uXXXX``)."""
    return _LONE_SURROGATE.sub(_escape, os.fspath(path))


def name_bytes(name: str) -> bytes:
    """The bytes of a file name as the file system has them (the inverse of Python's
    decoding), for hashing names losslessly."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no file system byte produced
        return name.encode("utf-8", "surrogatepass")
