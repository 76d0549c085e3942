"""Bytes of an input file as text: its encoding, and undecodable bytes counted, never fatal.

The encoding comes from a BOM, the NUL pattern of UTF-16 text, or an ``encoding=``
declaration naming a text encoding (a log may not pick rot13, zlib, idna or utf-7 to decode
itself with). Undecodable byte sequences become U+FFFD and are counted
(:data:`REPLACE_ERRORS`, :func:`replacements`); the reader says how many in one issue.
"""

from __future__ import annotations

import codecs
import re
import threading

from evtxmpio.ingest.base import IngestIssue

_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def detect_encoding(head: bytes) -> str:
    """Encoding of an XML file from its BOM, its NUL pattern or its declaration."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:512]
    if len(sample) >= 2:  # no BOM: UTF-16 text of ASCII markup has NUL in every other byte
        odd_nuls = sample[1::2].count(0) / len(sample[1::2])
        even_nuls = sample[0::2].count(0) / len(sample[0::2])
        if odd_nuls > 0.6 and even_nuls < 0.2:
            return "utf-16-le"
        if even_nuls > 0.6 and odd_nuls < 0.2:
            return "utf-16-be"
    declared = _ENCODING.search(head[:200])
    if declared and not declared.group(1).lower().startswith(b"utf-16"):
        try:
            name = codecs.lookup(declared.group(1).decode("ascii")).name
        except LookupError:
            return "utf-8"
        # Only single- and multi-byte text codecs that never yield lone surrogates: a log
        # may not pick rot13, zlib, idna, utf-7 or BOM-less utf-32 to decode itself with.
        return name if _TEXT_ENCODING.fullmatch(name) else "utf-8"
    return "utf-8"


_TEXT_ENCODING = re.compile(r"utf-8|ascii|latin-1|iso8859-\d+|cp\d+|mac-[a-z]+|koi8-[a-z]+|"
                            r"shift_jis|euc_[a-z]+|gb2312|gbk|gb18030|big5|big5hkscs")


def head_text(head: bytes) -> str:
    """The first characters of a file as text, whatever its encoding (for sniffers)."""
    return head.decode(detect_encoding(head), errors="ignore").lstrip("\ufeff \t\r\n")


_REPLACED = threading.local()

REPLACE_ERRORS = "evtxmpio-replace"


def _count_replacement(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _REPLACED.total = getattr(_REPLACED, "total", 0) + 1
    return "\ufffd", error.end


codecs.register_error(REPLACE_ERRORS, _count_replacement)


def replacements() -> int:
    """Undecodable byte sequences replaced by U+FFFD in this thread so far (a running count).

    Decode with ``errors=REPLACE_ERRORS`` and compare two readings to count one file's.
    """
    return getattr(_REPLACED, "total", 0)


def undecodable_issue(name: str, count: int) -> IngestIssue:
    """The issue saying how many byte sequences of a file did not decode."""
    return IngestIssue(name, None, "text.undecodable",
                       f"{count} byte sequence(s) invalid in the file's encoding (e.g. a lone "
                       "UTF-16 surrogate) shown as U+FFFD")
