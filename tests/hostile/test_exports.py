"""Damaged, cut and hostile Event XML, tracerpt and CSV exports (issue: hostile input).

The property for every mutation: the reader raises nothing, the accounting holds
(read = used + skipped) and every record whose text no damage touched is still read.
XML is read event by event, so damage costs only the events it hits; a CSV row is read
line by line, so damage costs its row (and, for a stray quote, the rows a quoted field
swallows: the CSV property is the prefix one, plus the row-local one for tracerpt CSV).
"""

from __future__ import annotations

import codecs
import csv
import io
import socket
import threading
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from evtxmpio.ingest import ReadOptions, ingest_paths
from evtxmpio.ingest.limits import Limits
from tests.conftest import SAMPLES
from tests.hostile.exports import Unit, csv_units, identity, read_bytes, untouched, xml_units

RACE = SAMPLES / "kb2406705-race"
NOISE = SAMPLES / "four-luns-race-noise" / "System-FS01.eventviewer.xml"
INTERESTING = [ord(c) for c in "<>&\"'/=! \n"] + [0, 0xFF, 0xC3, 0x80]


@cache
def xml_input(name: str) -> tuple[str, str, tuple[Unit, ...]]:
    """(format, text, units) of one of the XML inputs."""
    if name == "system":
        text, fmt = (RACE / "System-FS01.xml").read_text(encoding="utf-8"), "event-xml"
    elif name == "trace":
        text, fmt = (RACE / "MPIO-FS01.etw.xml").read_text(encoding="utf-8"), "tracerpt-xml"
    else:  # Event Viewer "Save as XML": the first 40 events, the root closed again
        full = NOISE.read_text(encoding="utf-8")
        end = xml_units(full, "event-xml")[39].end
        text, fmt = full[:end] + "\n</Events>\n", "event-xml"
    assert text.isascii()
    return fmt, text, tuple(xml_units(text, fmt))


XML_NAMES = ["system", "trace", "viewer"]


@pytest.mark.parametrize("name", XML_NAMES)
def test_undamaged_xml_gives_every_event(name: str) -> None:
    fmt, text, units = xml_input(name)
    read = read_bytes(text.encode(), fmt)
    assert read.identities() == {u.record for u in units if u.record is not None}
    assert not read.account.errors


@pytest.mark.parametrize("name", XML_NAMES)
def test_cut_at_every_event_boundary_keeps_every_event_before(name: str) -> None:
    fmt, text, units = xml_input(name)
    data = text.encode()
    cuts = sorted({edge + delta for unit in units for edge in (unit.start, unit.end)
                   for delta in (-1, 0, 1)})
    opened, closed = data.find(b"<Events"), data.rfind(b"</Events>") + len(b"</Events>")
    for cut in cuts:
        read = read_bytes(data[:cut], fmt)
        assert untouched(units, [], cut) <= read.identities(), cut
        inside = any(u.start < cut < u.end for u in units)
        # a file with an <Events> root is cut short wherever it ends before its </Events>
        unclosed = 0 <= opened < cut < closed
        assert any(getattr(i, "truncated", False) for i in read.raw_items) == \
            (inside or unclosed), cut


@st.composite
def xml_damage(draw: st.DrawFn) -> tuple[str, bytes, set[int], int | None]:
    name = draw(st.sampled_from(XML_NAMES))
    _, text, _ = xml_input(name)
    data = bytearray(text.encode())
    damaged: set[int] = set()
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        data[position] = draw(st.one_of(st.sampled_from(INTERESTING),
                                        st.integers(min_value=0, max_value=255)))
        damaged.add(position)
    if draw(st.booleans()):  # a run of bytes lost (a sector of zeros or a short read)
        start = draw(st.integers(min_value=0, max_value=len(data) - 1))
        length = draw(st.integers(min_value=1, max_value=600))
        if draw(st.booleans()):
            data[start:start + length] = bytes(len(data[start:start + length]))
            damaged.update(range(start, min(start + length, len(data))))
    cut = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=len(data))))
    return name, bytes(data if cut is None else data[:cut]), damaged, cut


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=xml_damage())
@example(case=("system", b"", set(), 0))
def test_damaged_xml_keeps_every_untouched_event(case) -> None:
    name, data, damaged, cut = case
    fmt, _, units = xml_input(name)
    read = read_bytes(data, fmt)
    assert untouched(units, damaged, cut) <= read.identities()


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(XML_NAMES), data=st.data())
def test_spliced_xml_keeps_events_outside_the_splice(name: str, data: st.DataObject) -> None:
    """A range deleted or a range duplicated elsewhere (a bad copy): only the events it
    cuts through are lost."""
    fmt, text, units = xml_input(name)
    raw = text.encode()
    start = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    end = data.draw(st.integers(min_value=start + 1, max_value=len(raw)))
    if data.draw(st.booleans()):
        mutated, hit = raw[:start] + raw[end:], range(start, end)
        expected = {u.record for u in units if u.record is not None
                    and (u.end <= start or u.start >= end)}
    else:
        at = data.draw(st.integers(min_value=0, max_value=len(raw)))
        mutated, hit = raw[:at] + raw[start:end] + raw[at:], [at]
        expected = untouched(units, hit)
    read = read_bytes(mutated, fmt)
    assert expected <= read.identities()


def _utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


@settings(max_examples=40, deadline=None)
@given(picks=st.lists(st.integers(min_value=0), min_size=1, max_size=4))
def test_invalid_utf16_costs_nothing_but_its_characters(picks: list[int]) -> None:
    """Lone surrogates in a UTF-16 export become U+FFFD; every event is still read."""
    fmt, text, units = xml_input("system")
    data = bytearray(_utf16(text))
    inside_values = [i for i, c in enumerate(text) if c.isdigit()]  # in values, not markup
    positions = {inside_values[p % len(inside_values)] for p in picks}
    for position in positions:
        data[2 + 2 * position:4 + 2 * position] = b"\x00\xd8"  # U+D800 alone
    read = read_bytes(bytes(data), fmt)
    touched = {u.record for u in units if any(u.start <= p < u.end for p in positions)}
    assert untouched(units, positions) <= read.identities()
    assert len(read.result.records) == len([u for u in units if u.record is not None])
    assert any(e.startswith("text.undecodable") for e in read.account.errors)
    assert touched  # the lone surrogates did land in events


def test_an_event_over_the_size_limit_is_skipped_and_reading_goes_on() -> None:
    fmt, text, units = xml_input("system")
    big = units[3]
    padding = "x" * 5000
    at = text.index("</EventData>", big.start)
    data = (text[:at] + f"<Data>{padding}</Data>" + text[at:]).encode()
    read = read_bytes(data, fmt, ReadOptions(xml_event_chars=4000))
    assert read.identities() == {u.record for u in units if u is not big and u.record}
    assert any(e.startswith("xml.event-too-large") for e in read.account.errors)
    assert read.account.skip_reasons["undecodable"] == 1


# -- XML attacks: nothing is expanded, read or fetched ----------------------------------------

SECRET = "TOPSECRET-4f9c"


class _Listener:
    """A TCP listener on loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


def _attacks(secret: Path, port: int) -> dict[str, str]:
    url = f"http://127.0.0.1:{port}/evil"
    laughs = "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
    return {
        "local-file": f"<!DOCTYPE Events [<!ENTITY xxe SYSTEM 'file://{secret}'>]>",
        "url": f"<!DOCTYPE Events [<!ENTITY xxe SYSTEM '{url}'>]>",
        "external-dtd": f"<!DOCTYPE Events SYSTEM '{url}.dtd'>",
        "parameter-entity": f"<!DOCTYPE Events [<!ENTITY % p SYSTEM '{url}'> %p; "
                            "<!ENTITY xxe 'x'>]>",
        "billion-laughs": f"<!DOCTYPE Events [<!ENTITY l0 'lol'>{laughs}"
                          "<!ENTITY xxe '&l9;'>]>",
    }


def _event(body_data: str, trace: bool) -> str:
    provider = ("<Provider Name='MPIO' Guid='{8E9AC05F-13FD-4507-85CD-B47ADC105FF6}'/>"
                if trace else "<Provider Name='mpio'/>")
    extra = "<Execution KernelTime='0' UserTime='0'/>" if trace else ""
    return ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            f"{provider}<EventID>16</EventID><TimeCreated SystemTime="
            f"'2011-06-14T07:47:10.4021132Z'/>{extra}<EventRecordID>7</EventRecordID>"
            f"<Computer>FS01</Computer></System><EventData><Data Name='a'>{body_data}</Data>"
            "</EventData></Event>")


@pytest.mark.parametrize("trace", [False, True], ids=["event-xml", "tracerpt-xml"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("attack", ["local-file", "url", "external-dtd", "parameter-entity",
                                    "billion-laughs"])
def test_xml_attacks_are_neither_resolved_nor_fetched(tmp_path: Path, trace: bool,
                                                      encoding: str, attack: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    listener = _Listener()
    try:
        doctype = _attacks(secret, listener.port)[attack]
        xinclude = (f"<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' "
                    f"href='file://{secret}' parse='text'/>")
        text = (f"<?xml version='1.0' encoding='{encoding}'?>{doctype}<Events>"
                + _event("&xxe;", trace) + _event(f"ok{xinclude}", trace) + "</Events>")
        target = tmp_path / "export.xml"
        target.write_bytes(text.encode(encoding))
        result = ingest_paths([target])
    finally:
        listener.close()
    account = result.accounts[0]
    assert account.format == ("tracerpt-xml" if trace else "event-xml")
    assert listener.connections == 0
    assert [r.data for r in result.records] == [(("a", "&xxe;"),), (("a", "ok"),)]
    everything = repr(result.records) + repr(result.issues)
    assert SECRET not in everything and "lollol" not in everything
    codes = [issue.code for issue in result.issues]
    assert codes == ["xml.doctype-ignored", "xml.entity-not-expanded"]
    assert account.records_read == account.records_used == 2


def test_unclosed_doctype_does_not_hide_the_file_forever(tmp_path: Path) -> None:
    fmt, text, _ = xml_input("system")
    data = ("<!DOCTYPE Events [<!ENTITY x '" + "y" * 3000).encode() + text.encode()
    read = read_bytes(data, fmt, ReadOptions(xml_event_chars=2000))
    assert any(e.startswith("xml.unclosed-markup") for e in read.account.errors)


# -- CSV exports ---------------------------------------------------------------------------

TRACE_CSV = RACE / "MPIO-FS01.etw.csv"
LEVELS = ["Error", "Warning", "Information"]


@cache
def csv_input(name: str) -> tuple[str, str, tuple[Unit, ...]]:
    """(format, text, units): the tracerpt CSV sample, or generated Event Viewer /
    Export-Csv exports whose messages span lines and hold quotes and commas."""
    if name == "tracerpt":
        text = TRACE_CSV.read_text(encoding="utf-8")
        return "tracerpt-csv", text, tuple(csv_units(text, "tracerpt-csv"))
    header, units, rows = _csv_header(name), [], []
    start = len(header)
    for k in range(30):
        message = f'Disk {k} "degraded", paths: {k % 3}' + ("\nsecond line" if k % 4 else "")
        row = _csv_row(name, k, message)
        rows.append(row)
        units.append((start, start + len(row)))
        start += len(row)
    text = header + "".join(rows)
    fmt = "eventviewer-csv" if name == "viewer" else "powershell-csv"
    from tests.hostile.exports import reader_records

    built = [identity(reader_records((header + row).encode(), fmt)[0]) for row in rows]
    return fmt, text, tuple(Unit(s, e, r) for (s, e), r in zip(units, built, strict=True))


def _csv_header(name: str) -> str:
    if name == "viewer":
        return "Level,Date and Time,Source,Event ID,Task Category\n"
    return ("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\n"
            '"Message","Id","Level","RecordId","ProviderName","LogName","MachineName",'
            '"TimeCreated"\n')


def _csv_row(name: str, k: int, message: str) -> str:
    out = io.StringIO()
    when = f"6/14/2011 9:{k:02d}:10 AM"
    if name == "viewer":
        csv.writer(out, lineterminator="\n").writerow(
            [LEVELS[k % 3], when, "mpio", 16 + k % 3, "None", message])
    else:
        csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerow(
            [message, 16 + k % 3, 2, 48000 + k, "mpio", "System", "FS01", when])
    return out.getvalue()


CSV_NAMES = ["tracerpt", "viewer", "powershell"]


@pytest.mark.parametrize("name", CSV_NAMES)
def test_undamaged_csv_gives_every_row_and_every_cut_keeps_the_rows_before(name: str) -> None:
    fmt, text, units = csv_input(name)
    data = text.encode()
    assert read_bytes(data, fmt).identities() == {u.record for u in units if u.record}
    for cut in sorted({u.end + d for u in units for d in (-2, -1, 0, 1)}):
        assert untouched(units, [], cut) <= read_bytes(data[:cut], fmt).identities(), cut


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(CSV_NAMES), data=st.data())
def test_damaged_csv_keeps_the_rows_before_the_damage(name: str, data: st.DataObject) -> None:
    fmt, text, units = csv_input(name)
    raw = bytearray(text.encode())
    hits = data.draw(st.lists(st.tuples(st.integers(min_value=0, max_value=len(raw) - 1),
                                        st.sampled_from([*INTERESTING, ord(",")])),
                              min_size=1, max_size=5))
    for position, value in hits:
        raw[position] = value
    first = min(position for position, _ in hits)
    read = read_bytes(bytes(raw), fmt)
    assert untouched(units, [], cut=first) <= read.identities()
    header_end = units[0].start  # a damaged header line loses its columns: no row-local claim
    if name == "tracerpt" and first >= header_end and not any(v in b'"\n\r' for _, v in hits):
        # a line end overwritten joins its row to the next one: both are damaged
        hit = [p for p, _ in hits] + [p + 1 for p, _ in hits if text[p] == "\n"]
        assert untouched(units, hit) <= read.identities()


@pytest.mark.parametrize("name", CSV_NAMES)
def test_a_huge_field_or_line_is_skipped_and_the_rows_after_are_kept(name: str) -> None:
    fmt, text, units = csv_input(name)
    victim = units[len(units) // 2]
    for junk in ('"' + "A" * 9000 + '"', "B" * 9000):  # one quoted field, one bare line
        data = (text[:victim.start] + junk + text[victim.start:]).encode()
        read = read_bytes(data, fmt, ReadOptions(csv_field_chars=4096))
        assert untouched(units, [victim.start]) <= read.identities()
        assert any(e.startswith("csv.bad-row") for e in read.account.errors)


def test_impossible_times_in_exports_are_kept_without_a_time(tmp_path: Path) -> None:
    _, text, _ = csv_input("tracerpt")
    lines = text.splitlines(keepends=True)
    fields = lines[2].split(", ")
    fields[16] = str(2**64 - 1)
    lines[2] = ", ".join(fields)
    trace = tmp_path / "trace.csv"
    trace.write_text("".join(lines), encoding="utf-8")
    xml = tmp_path / "system.xml"
    xml.write_text(_event("x", False).replace("2011-06-14T07:47:10.4021132Z",
                                              "1601-01-01T00:00:00Z"), encoding="utf-8")
    result = ingest_paths([trace, xml], limits=Limits())
    untimed = [r for r in result.records if r.time_ns is None]
    assert len(untimed) == 2 and all(r.corrupted for r in untimed)
    assert sorted(i.code for i in result.issues) == ["record.time-impossible"] * 2
