"""File names that are not UTF-8: shown escaped, hashed by their own bytes."""

from __future__ import annotations

import os

from evtxmpio.pathtext import name_bytes, path_text


def test_undecodable_bytes_show_as_hex_escapes_and_utf8_names_do_not_change() -> None:
    raw = b"/cases/Sys\xfftem-\xe9t\xc3\xa9.evtx"
    name = os.fsdecode(raw)
    assert path_text(name) == "/cases/Sys\\xfftem-\\xe9t\u00e9.evtx"
    assert path_text("/cases/\u00e9t\u00e9\u202e.evtx") == "/cases/\u00e9t\u00e9\u202e.evtx"
    assert path_text("lone\ud800") == "lone\\ud800"
    assert name_bytes(name) == raw
    assert name_bytes("\u00e9") == "\u00e9".encode()
    assert path_text(name).encode("utf-8")  # always valid UTF-8
