"""CSV exports, tracerpt exports, truncated .evtx and XML, health ledger."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio.errors import Error
from evtxmpio.ingest import ingest_paths, sniff_format
from evtxmpio.ingest.csv_export import parse_local_ns
from evtxmpio.ingest.timefmt import parse_iso_ns
from tests.ingest.conftest import DATA


def _one(path: Path, **options):
    result = ingest_paths([path], **options)
    [account] = result.accounts
    assert account.records_read == account.records_used + account.records_skipped
    return result, account


@pytest.mark.parametrize(("name", "fmt"), [
    ("eventviewer.csv", "eventviewer-csv"), ("getwinevent.csv", "powershell-csv"),
    ("tracerpt.xml", "tracerpt-xml"), ("tracerpt.csv", "tracerpt-csv"),
    ("tracerpt-unicode.csv", "tracerpt-csv"),
])
def test_formats_are_sniffed_by_content(name: str, fmt: str) -> None:
    head = (DATA / name).read_bytes()[:4096]
    assert sniff_format(head).name == fmt


def test_event_viewer_csv_local_time_with_zone() -> None:
    result, account = _one(DATA / "eventviewer.csv", tz="Europe/Berlin")
    assert account.time_zone_assumed == "Europe/Berlin"
    first, second, third = result.records
    assert (first.provider, first.event_id, first.level) == ("mpio", 16, 2)
    assert first.time_ns == parse_iso_ns("2011-06-14T07:47:10Z")  # CEST = UTC+2
    assert "\n" in second.message  # quoted multi-line message kept
    assert third.time_ns == parse_iso_ns("2011-06-14T19:40:00Z")  # 9:40 PM


def test_csv_defaults_to_utc_and_says_so() -> None:
    result, account = _one(DATA / "eventviewer.csv")
    assert account.time_zone_assumed == "UTC"
    assert result.records[0].time_ns == parse_iso_ns("2011-06-14T09:47:10Z")


def test_unknown_time_zone_is_an_error() -> None:
    with pytest.raises(Error, match="--tz"):
        ingest_paths([DATA / "eventviewer.csv"], tz="Mars/Olympus")


def test_get_winevent_csv_fields() -> None:
    result, account = _one(DATA / "getwinevent.csv", tz="Europe/Berlin")
    first = result.records[0]
    assert (first.record_id, first.qualifiers, first.computer, first.channel) == (
        48211, 49160, "FS01.contoso.local", "System")
    assert first.message.startswith("A fail-over on \\Device\\MPIODisk1")
    assert account.health.record_id_gaps == 1
    assert account.health.record_id_gap_ranges == [(48212, 48213)]


@pytest.mark.parametrize("text", ["14.06.2011 09:47:10", "14/06/2011 09:47:10",
                                  "6/14/2011 9:47:10 AM", "2011-06-14 09:47:10"])
def test_local_time_forms(text: str) -> None:
    assert parse_local_ns(text, "UTC") == parse_iso_ns("2011-06-14T09:47:10Z")


@pytest.mark.parametrize("name", ["tracerpt.xml", "tracerpt.csv", "tracerpt-unicode.csv"])
def test_tracerpt_exports(name: str) -> None:
    result, account = _one(DATA / name)
    assert account.skip_reasons == {"trace-header": 1}
    start, get_path = result.records
    assert start.kind == "etw:mpio:trace"
    assert (start.provider, start.event_id) == ("MPIO", 1)
    assert dict(start.data)["PathId"] == "0x77030001"
    assert dict(start.data)["RequestId"] == "0x1A2F"
    assert dict(get_path.data) == {"DsmId": "0x2A", "MpioDisk": "1", "ReturnedPathId": "0x0",
                                   "ValidPathCount": "1"}
    # 09:47:10.4012034+02:00 in XML == FILETIME 129525112304012034 in CSV
    assert start.time_ns == parse_iso_ns("2011-06-14T07:47:10.4012034Z")


def test_tracerpt_xml_and_csv_of_one_trace_dedupe() -> None:
    result = ingest_paths([DATA / "tracerpt.xml", DATA / "tracerpt.csv"])
    assert len(result.records) == 2
    assert result.accounts[1].duplicates_removed == 2
    assert result.accounts[1].skip_reasons["duplicate"] == 2


def test_truncated_evtx_keeps_records_before_the_cut(corpus_dir: Path, tmp_path: Path) -> None:
    source = corpus_dir / "evtx" / "log2timeline__plaso" / "System.evtx"
    full, _ = _one(source)
    cut = tmp_path / "cut.evtx"
    cut.write_bytes(source.read_bytes()[:4096 + 65536 * 2 + 30_000])
    result, account = _one(cut)
    assert account.truncated
    ids = [r.record_id for r in result.records]
    assert ids == [r.record_id for r in full.records][:len(ids)]
    in_full_chunks = sum(1 for r in full.records if r.source_offset < 4096 + 65536 * 2)
    assert len(ids) > in_full_chunks  # complete records of the cut chunk are kept


def test_truncated_xml_keeps_complete_events(tmp_path: Path) -> None:
    text = (DATA / "tracerpt.xml").read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: text.rindex("<Data Name=\"DsmId\">")], encoding="utf-8")
    result, account = _one(cut)
    assert account.truncated
    assert [r.event_id for r in result.records] == [1]


def test_health_of_a_dirty_log(corpus_dir: Path) -> None:
    _, account = _one(corpus_dir / "evtx" / "omerbenamram__evtx" / "system.evtx")
    health = account.to_dict()["health"]
    assert health["dirty"] is True
    assert health["first_time"] < health["last_time"]
    assert health["first_time"].endswith("Z")
    assert account.records_read == 1881


def test_damaged_chunks_are_reported(corpus_dir: Path) -> None:
    _, account = _one(corpus_dir / "evtx" / "omerbenamram__evtx" / "sysmon.evtx")
    assert account.chunks_damaged >= 7
    assert account.records_read == 358


def test_unknown_file_gets_a_reason(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello", encoding="utf-8")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    result = ingest_paths([junk, empty])
    assert [a.format for a in result.accounts] == ["unknown", "unknown"]
    assert all(len(a.errors) == 1 for a in result.accounts)


@pytest.mark.parametrize("name", ["eventviewer.csv", "getwinevent.csv", "tracerpt.csv"])
def test_csv_damage_that_costs_records_is_said(name: str, tmp_path: Path) -> None:
    """A line end overwritten joins two rows; a cut inside a line leaves it without an end."""
    data = (DATA / name).read_bytes()
    _, account = _one(DATA / name)
    complete = account.records_used
    end = data.rindex(b"\n", 0, len(data) - 1)  # the line end before the last row
    start = end - 1 if data[end - 1:end] == b"\r" else end
    joined = tmp_path / f"joined-{name}"
    joined.write_bytes(data[:start] + b"x" * (end + 1 - start) + data[end + 1:])
    _, account = _one(joined)
    assert account.records_used < complete
    assert any(error.startswith("csv.bad-row") for error in account.errors), account.errors
    cut = tmp_path / f"cut-{name}"
    cut.write_bytes(data[:len(data) - 3])
    _, account = _one(cut)
    assert account.truncated and account.records_used >= complete - 1
