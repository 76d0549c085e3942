"""Every output format of ``replay``: parses, matches the domain reference, is deterministic."""

from __future__ import annotations

import struct
from pathlib import Path

import evtx as evtx_rs
import Evtx.Evtx as python_evtx
import pytest
from lxml import etree

from evtxmpio.catalog import trace_events
from evtxmpio.replay import FORMATS, replay
from evtxmpio.replay.etw_writer import CSV_HEADER
from evtxmpio.replay.stream import read_stream
from evtxmpio.replay.workload import WorkloadError

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
RACE = SAMPLES / "kb2406705-race" / "workload.yaml"
NS = {"e": "http://schemas.microsoft.com/win/2004/08/events/event"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@pytest.fixture(scope="module")
def race(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("race")
    return replay(RACE, model="buggy", out_dir=out, formats=FORMATS)


def _system_xml(path: Path) -> etree._Element:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("<?xml"):
        text = f"<Events>{text}</Events>"  # wevtutil style: no root
    return etree.fromstring(text.encode("utf-8"), PARSER)


def test_wevtutil_style(race) -> None:
    text = (race.out_dir / "System-FS01.xml").read_text(encoding="utf-8")
    assert text.startswith("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>")
    assert '"' not in text.split("<EventData>")[0]  # single-quoted attributes
    events = _system_xml(race.out_dir / "System-FS01.xml").findall("e:Event", NS)
    ids = [int(e.findtext("e:System/e:EventRecordID", namespaces=NS)) for e in events]
    assert ids == list(range(48120, 48120 + len(ids)))
    assert len(ids) == race.system_records["FS01.contoso.local"]


def test_mpio_events_match_the_reference(race) -> None:
    root = _system_xml(race.out_dir / "System-FS01.xml")
    seen = set()
    for event in root.findall("e:Event", NS):
        system = event.find("e:System", NS)
        if system.find("e:Provider", NS).get("Name") != "mpio":
            continue
        event_id = int(system.findtext("e:EventID", namespaces=NS))
        qualifiers = int(system.find("e:EventID", NS).get("Qualifiers"))
        assert system.find("e:Provider", NS).get("Guid") is None
        assert system.findtext("e:Keywords", namespaces=NS) == "0x80000000000000"
        data = [d.text for d in event.findall("e:EventData/e:Data", NS)]
        assert data[0].startswith("\\Device\\MPIODisk")
        assert data[1:] == (["Microsoft DSM"] if event_id == 32 else [])
        binary = bytes.fromhex(event.findtext("e:EventData/e:Binary", namespaces=NS))
        dump_size, strings = struct.unpack_from("<HH", binary, 2)
        assert struct.unpack_from("<I", binary, 0x0C)[0] == (qualifiers << 16) | event_id
        assert strings == len(data) and len(binary) == 0x28 + dump_size
        if event_id in (16, 25):
            assert dump_size == 8
        if event_id == 16:
            assert struct.unpack_from("<I", binary, 0x14)[0] == 0xC000009D
        seen.add(event_id)
    assert {1, 2, 16, 17, 22, 25, 32} <= seen


def test_boot_and_data_loss_records(race) -> None:
    root = _system_xml(race.out_dir / "System-FS01.xml")
    by_key: dict[tuple[str, int], list] = {}
    for event in root.findall("e:Event", NS):
        key = (event.find("e:System/e:Provider", NS).get("Name"),
               int(event.findtext("e:System/e:EventID", namespaces=NS)))
        by_key.setdefault(key, []).append([d.text for d in event.findall("e:EventData/e:Data", NS)])
    assert by_key[("EventLog", 6009)] == [["6.01.", "7601", "Service Pack 1",
                                           "Multiprocessor Free", "17514"]]
    files = [data[1] for data in by_key[("Ntfs", 50)]]
    assert files and all(f.startswith("\\Device\\HarddiskVolume5\\") for f in files)
    popups = by_key[("Application Popup", 26)]
    assert [p[0] for p in popups] == ["Windows - Delayed Write Failed"] * len(files)
    assert all(f in p[1] for f, p in zip(files, popups, strict=True))


def test_event_viewer_style(race) -> None:
    root = _system_xml(race.out_dir / "System-FS01.eventviewer.xml")
    events = root.findall("e:Event", NS)
    assert len(events) == race.system_records["FS01.contoso.local"]
    messages = [e.findtext("e:RenderingInfo/e:Message", namespaces=NS) for e in events]
    assert "A fail-over on \\Device\\MPIODisk2 occurred." in messages
    assert "Microsoft DSM failed to return a Path to \\Device\\MPIODisk2." in messages


def test_tracerpt_xml(race) -> None:
    root = etree.parse(str(race.out_dir / "MPIO-FS01.etw.xml"), PARSER).getroot()
    events = root.findall("e:Event", NS)
    header = events[0].find("e:System/e:Provider", NS)
    assert header.get("Guid") == "{68fdd900-4a3e-11d1-84f4-0000f80464e3}"
    assert len(events) - 1 == race.trace_events["FS01.contoso.local"]
    for event in events[1:]:
        assert event.find("e:System/e:TimeCreated", NS).get("SystemTime").endswith("+02:00")
        name = event.findtext("e:RenderingInfo/e:Task", namespaces=NS)
        fields = [d.get("Name") for d in event.findall("e:EventData/e:Data", NS)]
        assert tuple(fields) == trace_events()[name].fields


def test_tracerpt_csv(race) -> None:
    lines = (race.out_dir / "MPIO-FS01.etw.csv").read_bytes().decode("utf-8").split("\r\n")
    assert lines[0] == CSV_HEADER
    assert lines[1].startswith("EventTrace, Header, 0, 2, ")
    rows = [line.split(", ") for line in lines[2:] if line]
    assert len(rows) == race.trace_events["FS01.contoso.local"]
    clocks = [int(row[16]) for row in rows]
    assert clocks == sorted(clocks) and all(c > 129_000_000_000_000_000 for c in clocks)
    for row in rows:
        assert row[0] in ("MPIO", "MSDSM") and row[9] == "0x00000004"
        assert len(row) == 19 + len(trace_events()[row[1]].fields)


def test_evtx_read_by_both_readers(race) -> None:
    path = str(race.out_dir / "System-FS01.evtx")
    with python_evtx.Evtx(path) as log:
        ids_py = [record.record_num() for record in log.records()]
    records = list(evtx_rs.PyEvtxParser(path).records())
    assert not [r for r in records if isinstance(r, Exception)]
    assert [r["event_record_id"] for r in records] == ids_py
    assert len(ids_py) == race.system_records["FS01.contoso.local"]


def test_same_workload_same_bytes(race, tmp_path: Path) -> None:
    again = replay(RACE, model="buggy", out_dir=tmp_path, formats=FORMATS)
    for first, second in zip(race.files, again.files, strict=True):
        assert first.name == second.name
        assert first.read_bytes() == second.read_bytes(), first.name


def test_counterfactual_fixed_replay_of_race_stream(race, tmp_path: Path) -> None:
    fixed = replay(RACE, model="fixed", out_dir=tmp_path, stream=race.out_dir / "stream.csv")
    assert fixed.ground_truth["verdict"] == "healthy-failover"
    assert not fixed.ground_truth["data_loss"]
    assert not fixed.ground_truth["duplicated_path_ids"]
    assert (tmp_path / "stream.csv").read_bytes() == (race.out_dir / "stream.csv").read_bytes()


def test_parquet_stream_round_trip(race, tmp_path: Path) -> None:
    result = replay(RACE, model="buggy", out_dir=tmp_path, formats=("xml",),
                    stream_format="parquet")
    rows_parquet = list(read_stream(tmp_path / "stream.parquet"))
    assert rows_parquet == list(read_stream(race.out_dir / "stream.csv"))
    again = replay(RACE, model="buggy", out_dir=tmp_path / "again", formats=("xml",),
                   stream=tmp_path / "stream.parquet")
    assert again.ground_truth == result.ground_truth


def test_bad_stream_and_format_are_errors(tmp_path: Path) -> None:
    from evtxmpio.errors import Error

    bad = tmp_path / "bad.csv"
    bad.write_text("issue_time,nope\n", encoding="utf-8")
    with pytest.raises(Error, match=r"bad\.csv:1"):
        replay(RACE, out_dir=tmp_path / "o", stream=bad)
    with pytest.raises(WorkloadError, match="pdf"):
        replay(RACE, out_dir=tmp_path / "o", formats=("pdf",))


def test_a_replay_into_its_own_recorded_stream_reads_it_whole(race, tmp_path: Path) -> None:
    """The stream copy is written beside the stream being replayed, then takes its place."""
    recorded = tmp_path / "stream.csv"
    recorded.write_bytes((race.out_dir / "stream.csv").read_bytes())
    again = replay(RACE, model="buggy", out_dir=tmp_path, formats=("xml",), stream=recorded)
    assert again.ground_truth == race.ground_truth
    assert recorded.read_bytes() == (race.out_dir / "stream.csv").read_bytes()


@pytest.mark.parametrize("failing", ["evtx", "etw-csv"])
def test_a_replay_that_fails_part_way_leaves_the_earlier_files(
        race, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    from evtxmpio.replay import etw_writer, evtx_writer

    first = replay(RACE, model="buggy", out_dir=tmp_path, formats=FORMATS)
    before = {path.name: path.read_bytes() for path in first.files}
    writer = {"evtx": evtx_writer.EvtxWriter, "etw-csv": etw_writer.TraceCsvWriter}[failing]
    written = 0
    real_write = writer.write

    def write_then_fail(self, event) -> None:  # a full disk, part-way through the file
        nonlocal written
        written += 1
        if written > 5:
            raise OSError(28, "No space left on device")
        real_write(self, event)

    monkeypatch.setattr(writer, "write", write_then_fail)
    with pytest.raises(OSError):
        replay(RACE, model="fixed", out_dir=tmp_path, formats=FORMATS)
    assert {path.name: path.read_bytes() for path in first.files} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before)  # no partial file left


def test_a_partial_file_of_a_killed_replay_is_removed_by_the_next(race, tmp_path: Path) -> None:
    left = tmp_path / ".System-FS01.x1y2.partial.evtx"
    left.write_bytes(b"ElfFile\x00")
    replay(RACE, model="buggy", out_dir=tmp_path, formats=("evtx",))
    assert not left.exists()
