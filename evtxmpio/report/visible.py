"""Show invisible characters from logs visibly in the HTML report and the terminal summary.

Log text may hold characters that change how *other* text looks rather than showing
themselves: C0/C1 controls (a NUL that HTML drops, an ESC that starts a terminal escape
sequence), DEL, bidirectional overrides and isolates that reverse a file name
(``invoice<U+202E>xcod.exe`` reads ``invoicedocx.exe``), and lone surrogates that no UTF-8
file can hold. The engineer must see them: C0 controls and DEL become their Unicode Control
Pictures (``␀``, ``␛``, the form the .evtx readers already use), the others ``⟨U+202E⟩``.
JSON, CSV and Timesketch outputs keep the exact text.
"""

from __future__ import annotations

import re

from markupsafe import Markup

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_HTML_HIDDEN = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")
_TERMINAL_HIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}\ud800-\udfff]")
_LINE_HIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}\u2028\u2029\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\u27e8U+{code:04X}\u27e9"


def show_hidden(text: str) -> str:
    """``text`` with controls, bidi formatting and lone surrogates made visible (HTML: tab,
    line feed and carriage return stay)."""
    return _HTML_HIDDEN.sub(_picture, text)


def show_hidden_terminal(text: str) -> str:
    """As :func:`show_hidden` for a terminal: only tab and line feed stay."""
    return _TERMINAL_HIDDEN.sub(_picture, text)


def show_hidden_line(text: str) -> str:
    """As :func:`show_hidden` for a value that must stay on one line (a case or file name in
    a log line or a table cell): tab, line feed and carriage return are shown too (``␉``,
    ``␊``, ``␍``), so a name cannot forge a line of its own."""
    return _LINE_HIDDEN.sub(_picture, text)


def finalize_line(value: object) -> object:
    """Jinja2 ``finalize`` hook that shows every string with :func:`show_hidden_line`."""
    return show_hidden_line(value) if isinstance(value, str) else value


def finalize(value: object) -> object:
    """Jinja2 ``finalize`` hook: every string a template prints goes through
    :func:`show_hidden` before it is escaped."""
    if isinstance(value, Markup):  # a macro's output: already finalized and escaped
        return value
    return show_hidden(value) if isinstance(value, str) else value
