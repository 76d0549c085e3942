"""``read_event_xml`` (a rendered ``<Event>`` read by regular expressions when it is in the Rust
layout) gives what the lxml path gives, ``event_to_record(parse_event_xml(text))``: the same
record, or the same refusal, on every record of the corpus and the samples and on edited
records."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from evtxmpio.ingest.event_element import (
    event_to_record,
    parse_event_xml,
    read_event_xml,
)
from evtxmpio.ingest.event_text import rendered_record
from tests.conftest import SAMPLES, evtx_rendered


def _read(text: str, read) -> object:
    try:
        return read(text)
    except etree.XMLSyntaxError:
        return "refused"


def _same(text: str, header_ns: int | None = None) -> bool:
    """Both paths agree on ``text``; True when the fast one read it."""
    general = _read(text, lambda t: event_to_record(
        parse_event_xml(t), "f.evtx", "evtx-rs", "system:evtx:event", 7,
        header_time_ns=header_ns))
    fast = _read(text, lambda t: read_event_xml(t, "f.evtx", "evtx-rs", "system:evtx:event", 7,
                                                 header_time_ns=header_ns))
    assert fast == general, text
    return rendered_record(text, "f.evtx", "evtx-rs", "system:evtx:event", 7,
                           header_ns) is not None


def _rendered(paths: list[Path]) -> list[str]:
    return [text for path in paths for text in evtx_rendered(path)]


def test_every_corpus_record_reads_the_same(corpus: Path) -> None:
    texts = _rendered(sorted(corpus.rglob("*.evtx")))
    fast = sum(_same(text) for text in texts)
    assert len(texts) > 40_000 and fast > len(texts) // 2  # both paths well exercised
    assert fast < len(texts)


def test_every_sample_record_reads_the_same() -> None:
    texts = _rendered(sorted(SAMPLES.rglob("*.evtx")))
    # the header time refines SystemTime only within its microsecond
    fast = sum(_same(text, 1_308_009_630_068_372_100) for text in texts)
    assert fast == len(texts) > 500


DISK_153 = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">\n'
    '  <System>\n'
    '    <Provider Name="disk">\n    </Provider>\n'
    '    <EventID Qualifiers="32772">153</EventID>\n'
    '    <Level>3</Level>\n    <Task>0</Task>\n    <Keywords>0x80000000000000</Keywords>\n'
    '    <TimeCreated SystemTime="2011-06-14T00:00:30.068372Z">\n    </TimeCreated>\n'
    '    <EventRecordID>27</EventRecordID>\n    <Channel>System</Channel>\n'
    '    <Computer>FS01.contoso.local</Computer>\n    <Security>\n    </Security>\n'
    '  </System>\n'
    '  <EventData>\n'
    '    <Data>\\Device\\Harddisk2\\DR2</Data>\n    <Data>0x43157193</Data>\n'
    '    <Data>2</Data>\n'
    '    <Binary>0F00040003002C000000000099000480000000000000000000000000000000000000000000'
    '00000000000000</Binary>\n'
    '  </EventData>\n'
    '</Event>\n')


def test_the_layout_is_read_fast() -> None:
    assert _same(DISK_153)
    record = read_event_xml(DISK_153, "f.evtx", "evtx-rs", "system:evtx:event")
    assert (record.provider, record.event_id, record.qualifiers, record.level,
            record.record_id) == ("disk", 153, 32772, 3, 27)
    assert record.data == ((None, "\\Device\\Harddisk2\\DR2"), (None, "0x43157193"),
                           (None, "2"))
    assert record.time_ns == 1_308_009_630_068_372_000 and len(record.binary) == 44


@pytest.mark.parametrize(("value", "fast"), [
    ("]", True), ("a]b", True), ("a]]b", True), ("a]>b", True), ("a]]", True), ("]]]", True),
    ("a]]>b", False), ("a]]]>b", False), ("]]>", False), ("a]&amp;]>", True)])
def test_brackets_in_a_text_read_the_same(value: str, fast: bool) -> None:
    """``]]>`` (which XML forbids in a text) leaves the fast path; any other ``]`` stays."""
    assert _same(_edit("0x43157193", value)) is fast
    assert _same(_edit(">0</Task>", f">{value}</Task>")) is fast


def _edit(old: str, new: str) -> str:
    assert old in DISK_153
    return DISK_153.replace(old, new, 1)


EDITS = st.lists(st.tuples(st.integers(0, len(DISK_153)), st.integers(0, 3),
                           st.text(alphabet='<>/"= \n\t\r&;#x0aAbDtN{}:-_\x00\x01]\ufffe\u2028é',
                                   max_size=4)), min_size=1, max_size=3)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
@example([])
@example([(0, 0, "")])
@example([(DISK_153.index("<Level>") + 7, 1, "&#51;")])  # a character reference
@example([(DISK_153.index("<Level>") + 8, 0, "\r")])  # a carriage return
@example([(DISK_153.index("<Level>") + 8, 0, "\x01")])  # a character XML forbids
@example([(DISK_153.index("0x43"), 0, "]]>")])
def test_edited_records_read_the_same(edits: list[tuple[int, int, str]]) -> None:
    text = DISK_153
    for at, cut, insert in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + cut:]
    _same(text)


def test_edited_markup_reads_the_same() -> None:
    """What only markup shows: repeated or namespaced attributes, odd tags, missing parts."""
    for old, new in [
        ('<Provider Name="disk">', '<Provider Name="disk" Name="x">'),
        ('<Provider Name="disk">', '<Provider Name="disk" Guid="a" Name="x">'),
        ('<Provider Name="disk">', '<Provider Name="mpio" Guid="{B87C1C1C-0001}">'),
        ('<Provider Name="disk">', '<Provider Guid="a>b" Name="disk">'),
        ('<Provider Name="disk">', '<Provider xmlns="urn:x" Name="disk">'),
        ("<Level>3</Level>", "<Level>3</Levl>"),
        ("<Level>3</Level>", "<Level>3</Level>\n<Level>4</Level>"),
        ("<Level>3</Level>", "<Level> 0x10 </Level>"),
        ("<Level>3</Level>", "<Level/>"),
        ('<EventID Qualifiers="32772">', '<EventID Qualifiers="1" Qualifiers="2">'),
        ('<EventID Qualifiers="32772">', "<EventID>"),
        ("<Data>2</Data>", '<Data Name="">2</Data>'),
        ("<Data>2</Data>", '<Data Name="a" Name="b">2</Data>'),
        ("<Data>2</Data>", "<Data>2 > 1</Data>"),
        ("<Data>2</Data>", "<Data>4F1C2A6B-0000-0000-0000-000000000000</Data>"),
        ("<Data>2</Data>", "<Data>\n   </Data>"),
        ("<Data>2</Data>", "<Data><string>a</string></Data>"),
        ("<Binary>0F", "<Binary>zz"),
        ("<Binary>0F", "<Binary>\n0F"),
        ("  <EventData>\n", "  <EventData>\n  <Data>1</Data>\n  </EventData>\n  <EventData>\n"),
        ("  <EventData>\n", "  <UserData>\n"),
        ('SystemTime="', 'SystemTime="x'),
        ("<Channel>System</Channel>", "<Channel></Channel>"),
        ("<Channel>System</Channel>", ""),
        ("<Computer>FS01.contoso.local</Computer>", "<Computer>FS01\u2028é\t</Computer>"),
        ("<Security>", '<Security UserID="S-1-5-18" >'),
        ("</Event>\n", "</Event>\n\n"),
        ("</Event>\n", "</Event>"),
    ]:
        _same(_edit(old, new))


def _int_as_written(text: str | None) -> int | None:
    """What a number field holds: decimal or 0x hex text, blanks around it allowed."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def _binary_as_written(text: str | None) -> bytes | None:
    """Hex digits in pairs, blanks anywhere (wevtutil, Rust evtx), or base64 (python-evtx)."""
    import base64
    import binascii
    import re

    if text is None:
        return None
    bare = "".join(text.split())
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})*", bare):
        return bytes.fromhex(bare)
    try:
        return base64.b64decode(bare, validate=True)
    except (binascii.Error, ValueError):
        return None


@given(st.one_of(st.none(), st.text(alphabet="0123456789abcdefxX +-_ \n\u0663\u00b2gQ=",
                                    max_size=12)))
@example("0F00")
@example("0f0")
@example("QUJD")
@example(" 12 ")
@example("\u0663")  # ARABIC-INDIC DIGIT THREE: int() reads it
@example("\u00b2")  # SUPERSCRIPT TWO: a digit int() refuses
@example("0x1F")
@example("")
@example("0F 0F")  # blanks bytes.fromhex skips: not the hex-digits-only case
@example("\n0F")
@example("0F\n")
@example("\uff10F")  # FULLWIDTH DIGIT ZERO: not a hex digit
def test_numbers_and_binary_read_as_written(text: str | None) -> None:
    from evtxmpio.catalog import field_int
    from evtxmpio.ingest.event_element import decode_binary

    assert field_int(text) == _int_as_written(text)
    assert decode_binary(text) == _binary_as_written(text)


def test_remembered_heads_change_nothing(corpus: Path, monkeypatch) -> None:
    """A ``<System>`` head read once and remembered gives the record a fresh reading gives, for
    each kind it is read as, also once the memory is full."""
    from evtxmpio.ingest import event_text

    texts = [text for text in _rendered(sorted(corpus.rglob("*.evtx"))[:20])
             if rendered_record(text, "f", "evtx-rs", "system:evtx:event", 1, None)]
    kinds = ("system:evtx:event", "system:xml:event")

    def read_all() -> list[object]:
        return [rendered_record(text, "f", "evtx-rs", kind, 1, None)
                for text in texts for kind in kinds]

    monkeypatch.setattr(event_text, "_HEADS", {})
    first = read_all()  # fills the memory
    assert 0 < len(event_text._HEADS) < len(texts)
    assert read_all() == first  # read from the memory
    monkeypatch.setattr(event_text, "_HEADS", {})
    monkeypatch.setattr(event_text, "HEADS_KEPT", 0)
    assert read_all() == first  # nothing remembered
    assert {record.kind for record in first} >= set(kinds)
