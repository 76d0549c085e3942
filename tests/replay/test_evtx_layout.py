"""``evtx_layout: windows``: each record's ``<EventData>`` a nested BinXml template, as Windows
writes System logs.

Truth is never this project's reader: the shape is compared with records of the corpus System
logs (what Windows wrote), as python-evtx sees them; the values are what the events hold, as
python-evtx and the Rust ``evtx`` package read them, and the same events written ``flat``; the
analysis is that of the same workload written ``flat``. The structure (definition inline once
per chunk, then referenced) is checked from the raw bytes.
"""

from __future__ import annotations

import io
import json
import re
import struct
import tempfile
from dataclasses import replace
from pathlib import Path

import evtx as rust_evtx
import Evtx.Evtx as python_evtx
import pytest
from Evtx.Views import evtx_template_readable_view
from hypothesis import HealthCheck, example, given, settings
from lxml import etree

from evtxmpio import pipeline
from evtxmpio.model import RawRecord
from evtxmpio.replay import records, replay, system_log
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.evtx_writer import CHUNK_SIZE, FILE_HEADER_SIZE, write_evtx
from evtxmpio.replay.model import FailoverModel
from evtxmpio.replay.stream import generate_stream
from evtxmpio.replay.workload import WorkloadError, load_workload
from evtxmpio.report.jsonout import case_dict
from tests.replay.test_evtx_writer import normalize_xml, system_events
from tests.test_relevance import MIXES

CORPUS_LOG = "evtx/log2timeline__plaso/System.evtx"
T0 = 1_308_009_600_000_000_000  # 2011-06-14T00:00:00Z
HOST = "FS01.contoso.local"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)
_BXML_LAST = re.compile(r"\[Conditional Substitution\(index=\d+, type=33\)\]</Event>\s*$")


def workload(mix: dict[str, int], per_hour: int, layout: str = "flat") -> dict:
    """One host, an hour of noise ``mix`` around a KB 2406705 race (tests/test_relevance.py)."""
    return {
        "name": "mix", "seed": 8, "start": "2011-06-14T00:00:00Z", "duration_s": 3600,
        "io_start_s": 30,
        "hosts": [{"name": HOST, "utc_offset_minutes": 120, "paths": [0x77030001, 0x77030002],
                   "luns": [{"lun": 0, "mpio_disk": 1, "volume": "\\Device\\HarddiskVolume4",
                             "iops": 1, "write_fraction": 0.5, "files": ["\\Data\\orders.db"]},
                            {"lun": 1, "mpio_disk": 2, "volume": "\\Device\\HarddiskVolume5",
                             "iops": 1, "write_fraction": 1.0, "files": ["\\Data\\ledger.dat"]}]}],
        "faults": [{"type": "surprise-removal", "host": HOST, "path": 0x77030001, "at_s": 600},
                   {"type": "path-restore", "host": HOST, "path": 0x77030001, "at_s": 660}],
        "noise": {"per_hour": per_hour, "mix": mix},
        "evtx_layout": layout,
    }


def _event_key(xml: str) -> tuple[str, int]:
    root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    system = root[0]
    provider = next(e for e in system if e.tag.endswith("}Provider")).get("Name")
    event_id = next(e for e in system if e.tag.endswith("}EventID")).text
    return provider, int(event_id)


def shape_facts(path: Path, provider: str, event_id: int) -> dict:
    """What python-evtx sees of the first record of ``provider``/``event_id`` in ``path``."""
    with python_evtx.Evtx(str(path)) as log:
        for record in log.records():
            try:
                found = _event_key(record.xml()) == (provider, event_id)
            except Exception:  # python-evtx fails on some corpus records
                continue
            if found:
                root = record.root()
                outer = root.substitutions()
                nested = outer[-1].root()
                return {"outer_last": type(outer[-1]).__name__,
                        "bxml_last_in_event": bool(_BXML_LAST.search(
                            evtx_template_readable_view(root))),
                        "nested": [type(s).__name__ for s in nested.substitutions()],
                        "template": evtx_template_readable_view(nested)}
    raise AssertionError(f"no {provider} {event_id} in {path}")


def _ours(tmp_path: Path, event: SystemEvent) -> Path:
    path = tmp_path / "ours.evtx"
    write_evtx(path, [replace(event, record_id=1)], layout="windows")
    return path


SHAPES = {
    # corpus (provider, event id) -> our event of the same kind; True: same template text too
    "classic-binary": (("Disk", 34), records.disk_retry_event(T0, HOST, 1, 0x416E32), True),
    "classic-mpio": (("Disk", 34), records.mpio_event(T0, HOST, 16, 1, dump=b"\0" * 8), True),
    "classic-no-binary": (("EventLog", 6009),
                          records.eventlog_event(T0, HOST, 6009, records.OS_PRODUCT), True),
    "named-binary": (("Service Control Manager", 7036), records.scm_event(
        T0, HOST, 7036, ("Windows Update", "running"), "wuauserv", 7), True),
    # the corpus's Time-Service EventData carries a Name attribute ours does not: types only
    "named": (("Microsoft-Windows-Time-Service", 37),
              records.time_service_event(T0, HOST, "time.windows.com,0x9", 7), False),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_shape_is_the_corpus_shape(kind: str, corpus: Path, tmp_path: Path) -> None:
    (provider, event_id), event, same_template = SHAPES[kind]
    theirs = shape_facts(corpus / CORPUS_LOG, provider, event_id)
    ours = shape_facts(_ours(tmp_path, event), event.provider, event.event_id)
    assert theirs["outer_last"] == ours["outer_last"] == "BXmlTypeNode"
    assert theirs["bxml_last_in_event"] and ours["bxml_last_in_event"]
    assert ours["nested"] == theirs["nested"]
    if same_template:
        assert ours["template"] == theirs["template"]


def test_corpus_shapes_are_as_measured(corpus: Path) -> None:
    """The facts the layout copies (so a changed corpus does not silently change the test)."""
    log = corpus / CORPUS_LOG
    assert shape_facts(log, "Disk", 34)["nested"] == [
        "WstringArrayTypeNode", "UnsignedDwordTypeNode", "BinaryTypeNode"]
    assert shape_facts(log, "EventLog", 6009)["nested"] == [
        "WstringArrayTypeNode", "UnsignedDwordTypeNode", "NullTypeNode"]
    assert shape_facts(log, "EventLog", 6005)["nested"] == [  # no strings: Null, one <Data>
        "NullTypeNode", "UnsignedDwordTypeNode", "BinaryTypeNode"]
    assert shape_facts(log, "Service Control Manager", 7036)["nested"] == [
        "WstringTypeNode", "WstringTypeNode", "UnsignedDwordTypeNode", "BinaryTypeNode"]
    assert shape_facts(log, "Service Control Manager", 7040)["nested"] == ["WstringTypeNode"] * 4


# --- values, read by both readers ---------------------------------------------------------------


def _classic(record_id: int, data: tuple[str, ...], binary: bytes | None = b"\x01\x02"
             ) -> SystemEvent:
    return SystemEvent(time_ns=T0 + 7200 * 10**9 + record_id * 10**7, record_id=record_id,
                       provider="disk", event_id=153, level=3, computer=HOST,
                       qualifiers=32772, data=data, binary=binary)


def _named(record_id: int, data: tuple[str, ...], binary: bytes | None = None) -> SystemEvent:
    names = tuple(f"param{k + 1}" for k in range(len(data)))
    return replace(_classic(record_id, data, binary), provider="Service Control Manager",
                   event_id=7036, qualifiers=16384, data_names=names,
                   provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}", version=0)


EDGE_DATA = ((), ("one",), ("a", "", "b"), ("a", ""), ("Müller 日本 Сервер", "smile \U0001F642"),
             ("&<>\"'", "x&amp;y"), ("",))
# python-evtx splits a string array with a regex: it moves a leading empty string to the end,
# cuts a string at a UTF-16 code unit whose low byte is 0 (U+0100, U+1F600's low surrogate) and
# takes "<string>" inside a value for its own separator (or raises). Only the Rust reader is
# asked for these.
PYTHON_EVTX_CANNOT_SPLIT = (("", "a"), ("Ā", "y"), ("grin \U0001F600", "x"),
                            ("<string>x</string>", "z"))


def python_evtx_splits(event: SystemEvent) -> bool:
    """Whether python-evtx's regex splits ``event``'s string array right (see above)."""
    units = "".join(event.data).encode("utf-16-le")[::2]
    leading_empty = len(event.data) > 1 and event.data[0] == "" and any(event.data)
    return event.data_names is not None or not (
        leading_empty or 0 in units or any("<string>" in text for text in event.data))


def edge_events(first_id: int, values: tuple[tuple[str, ...], ...] = EDGE_DATA
                ) -> list[SystemEvent]:
    out = []
    for data in values:
        out.append(_classic(first_id + len(out), data))
        out.append(_classic(first_id + len(out), data, binary=None))
    for data in values:
        out.append(_named(first_id + len(out), data))
        out.append(_named(first_id + len(out), data, binary=b"k\x00/\x00"))
    return out


@pytest.fixture(scope="module")
def realistic_events() -> list[SystemEvent]:
    """A realistic-mix System log around a KB 2406705 race, then the edge values."""
    spec = load_workload(workload(MIXES["realistic"], 1200))
    model = FailoverModel(spec, "buggy").run(generate_stream(spec))
    events = list(system_log(spec, spec.hosts[0], model))
    assert {e.provider for e in events} >= {"mpio", "Ntfs", "Application Popup", "EventLog"}
    return events + edge_events(events[-1].record_id + 1)


def expected_data(event: SystemEvent, layout: str) -> list[tuple[str | None, str]]:
    """The ``<Data>`` items a reader must show: one per value; in the windows layout an event
    without unnamed strings has one empty ``<Data>`` (EventLog 6005 in the corpus)."""
    if layout == "windows" and event.data_names is None and not event.data:
        return [(None, "")]
    return list(zip(event.data_names or (None,) * len(event.data), event.data, strict=True))


def rust_json_data(path: Path) -> dict[int, tuple[list, str]]:
    """Record id -> (Data items, Binary hex) from ``records_json``."""
    out = {}
    for record in rust_evtx.PyEvtxParser(str(path)).records_json():
        event = json.loads(record["data"])["Event"]
        items = event.get("EventData") or {}
        binary = items.pop("Binary", None) or ""
        unnamed = items.get("Data")
        if isinstance(unnamed, dict) and "#text" in unnamed:
            texts = unnamed["#text"]
            data = [(None, text) for text in (texts if isinstance(texts, list) else [texts])]
        else:
            data = [(name, value) for name, value in items.items()]
        out[record["event_record_id"]] = (data, binary)
    return out


def _xml_data(xml: str, string_blobs: bool) -> tuple[int, list]:
    root = etree.fromstring(xml.encode("utf-8"), _PARSER)
    record_id = int(next(e for e in root[0] if e.tag.endswith("}EventRecordID")).text)
    event_data = next((e for e in root if e.tag.endswith("}EventData")), ())
    data = []
    for item in (e for e in event_data if e.tag.endswith("}Data")):
        name, text = item.get("Name"), item.text or ""
        if string_blobs and name is None and text.startswith("<string>"):
            data += [(None, s) for s in re.findall(r"<string>(.*?)</string>\n", text, re.S)]
        elif name is None and re.fullmatch(r"\n *", text):
            data.append((None, ""))  # evtx renders an empty string of an array as an indent
        else:
            data.append((name, text))
    return record_id, data


def rust_xml_data(path: Path) -> dict[int, list]:
    return dict(_xml_data(r["data"], False) for r in rust_evtx.PyEvtxParser(str(path)).records())


def python_evtx_data(path: Path, string_blobs: bool) -> dict[int, list]:
    """With ``string_blobs``, python-evtx's ``<string>`` blob of a string array split into one
    item per string."""
    with python_evtx.Evtx(str(path)) as log:
        return dict(_xml_data(record.xml(), string_blobs) for record in log.records())


@pytest.fixture(scope="module")
def written(realistic_events: list[SystemEvent], tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("layouts")
    paths = {layout: folder / f"{layout}.evtx" for layout in ("flat", "windows")}
    for layout, path in paths.items():
        assert write_evtx(path, realistic_events, layout=layout) == len(realistic_events)
    return paths


@pytest.mark.parametrize("layout", ["flat", "windows"])
def test_rust_reads_every_record_with_the_written_values(
        layout: str, written: dict[str, Path], realistic_events: list[SystemEvent]) -> None:
    assert not any(re.fullmatch(r"\n *", v) for e in realistic_events for v in e.data)
    from_json, from_xml = rust_json_data(written[layout]), rust_xml_data(written[layout])
    assert list(from_json) == list(from_xml) == [e.record_id for e in realistic_events]
    for event in realistic_events:
        want = expected_data(event, layout)
        assert from_json[event.record_id] == (want, (event.binary or b"").hex().upper())
        assert from_xml[event.record_id] == want


@pytest.mark.parametrize("layout", ["flat", "windows"])
def test_python_evtx_reads_every_record_with_the_written_values(
        layout: str, written: dict[str, Path], realistic_events: list[SystemEvent]) -> None:
    read = python_evtx_data(written[layout], string_blobs=layout == "windows")
    assert list(read) == [e.record_id for e in realistic_events]
    unsplit = set()
    for event in realistic_events:
        if layout == "windows" and not python_evtx_splits(event):
            unsplit.add((event.provider, event.event_id))  # read, but garbled by the regex
            continue
        assert read[event.record_id] == expected_data(event, layout), event
    # EventLog 6013 starts with empty strings, as on Windows 7 / 2008 R2
    assert unsplit == ({("EventLog", 6013)} if layout == "windows" else set())


@pytest.mark.parametrize("layout", ["flat", "windows"])
def test_rust_reads_what_python_evtx_cannot_split(layout: str, tmp_path: Path) -> None:
    events = edge_events(1, PYTHON_EVTX_CANNOT_SPLIT)
    write_evtx(tmp_path / "edge.evtx", events, layout=layout)
    path = tmp_path / "edge.evtx"
    from_json, from_xml = rust_json_data(path), rust_xml_data(path)
    for event in events:
        want = expected_data(event, layout)
        assert from_json[event.record_id] == (want, (event.binary or b"").hex().upper())
        assert from_xml[event.record_id] == want


def test_windows_values_are_the_flat_values(written: dict[str, Path],
                                            realistic_events: list[SystemEvent]) -> None:
    flat, windows = rust_json_data(written["flat"]), rust_json_data(written["windows"])
    differ = [e.record_id for e in realistic_events if flat[e.record_id] != windows[e.record_id]]
    assert differ == [e.record_id for e in realistic_events
                      if e.data_names is None and not e.data]  # the one empty <Data> only


def test_windows_layout_is_reproducible(written: dict[str, Path],
                                       realistic_events: list[SystemEvent]) -> None:
    again = io.BytesIO()
    write_evtx(again, realistic_events, layout="windows")
    assert again.getvalue() == written["windows"].read_bytes()


def test_nested_template_defined_once_per_chunk_then_referenced(written: dict[str, Path]) -> None:
    """From the bytes: each chunk defines each EventData template inline in the first record
    that uses it, at the offset the value lands at; later records point to that definition,
    and the chunk's template table holds it."""
    blob = written["windows"].read_bytes()
    defined: dict[tuple[int, int], int] = {}
    references = 0
    with python_evtx.Evtx(str(written["windows"])) as log:
        for record in log.records():
            value = record.root().substitutions()[-1].offset()
            chunk, at = divmod(value - FILE_HEADER_SIZE, CHUNK_SIZE)
            assert blob[value:value + 5] == b"\x0f\x01\x01\x00\x0c"
            template_id, definition = struct.unpack_from("<II", blob, value + 6)
            if (chunk, template_id) not in defined:
                assert definition == at + 14  # inline, right after the instance
                defined[(chunk, template_id)] = definition
            else:
                assert definition == defined[(chunk, template_id)]
                references += 1
            start = FILE_HEADER_SIZE + chunk * CHUNK_SIZE + definition
            assert blob[start + 4:start + 8] == struct.pack("<I", template_id)  # its GUID
    chunks = {chunk for chunk, _ in defined}
    assert len(chunks) > 3 and references > 5 * len(defined)
    for (chunk, _), definition in defined.items():
        assert definition in _template_table(blob, chunk)


def _template_table(blob: bytes, chunk: int) -> set[int]:
    base = FILE_HEADER_SIZE + chunk * CHUNK_SIZE
    found = set()
    for head in struct.unpack_from("<32I", blob, base + 384):
        while head:
            found.add(head)
            head = struct.unpack_from("<I", blob, base + head)[0]
    return found


# --- the analysis -------------------------------------------------------------------------------


@pytest.mark.parametrize("mix", ["storm", "realistic"])
def test_analysis_is_the_same_in_both_layouts(mix: str, tmp_path: Path) -> None:
    """Written to the same path one after the other, so no fact of the report may differ (it
    shows no file size or offset: evidence is file + record id)."""
    reports = {}
    for layout in ("flat", "windows"):
        replay(workload(MIXES[mix], 3000, layout), "buggy", tmp_path, formats=("evtx",))
        [path] = tmp_path.glob("System-*.evtx")
        reports[layout] = case_dict(pipeline.analyze([path]))
        assert reports[layout]["ingest"][0]["records_read"] > 2500
    assert reports["windows"]["verdict"] == "kb2406705-race"
    assert reports["windows"] == reports["flat"]


@pytest.mark.parametrize(("mix", "backend", "per_hour"), [
    ("realistic", "rust", 3000), ("storm", "rust", 3000), ("eventlog50", "rust", 3000),
    ("realistic", "python", 400)])
def test_relevance_decided_on_windows_layout_as_on_every_event(
        mix: str, backend: str, per_hour: int, tmp_path: Path) -> None:
    """What the relevance decisions keep analyses as every event does (tests/test_relevance.py),
    on the windows layout, whose EventData the fast paths find in a nested template."""
    from tests.test_relevance import _check

    replay(workload(MIXES[mix], per_hour, "windows"), "buggy", tmp_path, formats=("evtx",))
    [path] = tmp_path.glob("System-*.evtx")
    _check(path, backend=backend)


def test_kept_records_built_as_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Rust backend reads a windows-layout storm log the same with its binary decisions
    and kept-record build on or off (the build of nested EventData, taken in every chunk)."""
    from evtxmpio.catalog.relevance import relevance
    from evtxmpio.ingest import evtx_rust
    from evtxmpio.ingest.base import ReadOptions, path_source
    from evtxmpio.ingest.evtx_binfacts import ChunkDecider
    from evtxmpio.ingest.runs import flat_items

    replay(workload(MIXES["storm"], 3000, "windows"), "buggy", tmp_path, formats=("evtx",))
    [path] = tmp_path.glob("System-*.evtx")
    built: list[int] = []
    kept = ChunkDecider._kept

    def counting(self: ChunkDecider, *args: object) -> dict:
        found = kept(self, *args)
        built.append(sum(bool(records) for records in found.values()))
        return found

    monkeypatch.setattr(ChunkDecider, "_kept", counting)

    def read(decisions: bool, build: bool) -> list:
        monkeypatch.setattr(evtx_rust, "BINARY_DECISIONS", decisions)
        monkeypatch.setattr(evtx_rust, "BUILD_KEPT", build)
        options = ReadOptions(backend="rust", relevance=relevance(), chunk_prefilter=False)
        return list(flat_items(evtx_rust.read_evtx_rust(path_source(path), options)))

    rendered = read(False, False)
    assert read(True, True) == rendered
    chunks = (path.stat().st_size - FILE_HEADER_SIZE) // CHUNK_SIZE
    assert sum(built) > chunks // 2  # else the build was not what was compared
    assert read(True, False) == rendered
    assert sum(isinstance(item, RawRecord) and item.event_id == 153 for item in rendered) > 500


# --- the option ---------------------------------------------------------------------------------


def test_layout_option_default_and_validation(tmp_path: Path) -> None:
    assert load_workload(workload(MIXES["storm"], 10, "flat")).evtx_layout == "flat"
    plain = workload(MIXES["storm"], 10)
    del plain["evtx_layout"]
    assert load_workload(plain).evtx_layout == "flat"
    with pytest.raises(WorkloadError, match="evtx_layout: 'Windows' not in"):
        load_workload(workload(MIXES["storm"], 10, "Windows"))
    with pytest.raises(ValueError, match="evtx layout"):
        write_evtx(tmp_path / "x.evtx", [], layout="nested")
    assert not (tmp_path / "x.evtx").exists()


def test_replay_writes_the_layout_asked(tmp_path: Path) -> None:
    replay(workload(MIXES["storm"], 10, "windows"), "buggy", tmp_path, formats=("evtx",))
    [path] = tmp_path.glob("System-*.evtx")
    assert shape_facts(path, "mpio", 16)["nested"] == [
        "WstringArrayTypeNode", "UnsignedDwordTypeNode", "BinaryTypeNode"]


def test_unnamed_nul_cannot_be_written_windows() -> None:
    event = _classic(1, ("a\x00b",))
    with pytest.raises(ValueError, match="record 1: a NUL in unnamed data"):
        write_evtx(io.BytesIO(), [event], layout="windows")
    write_evtx(io.BytesIO(), [event], layout="flat")  # a Wstring value has a length


# --- property ------------------------------------------------------------------------------------

_EDGE_EVENTS = [
    _classic(1, ()), _classic(2, ("",), None), _classic(3, ("", "a")),
    _classic(4, ("grin \U0001F600", "Ā", "<string>x</string>", "&<>\"'")),
    _named(5, ()), _named(6, ("",), b""), _named(7, ("  \n  ", "\t"), b"\x00"),
]


def _rust_system_and_binary(path: Path) -> list[dict]:
    return [normalize_xml(r["data"], bytes.fromhex) | {"data": None, "binary": None}
            for r in rust_evtx.PyEvtxParser(str(path)).records()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=system_events())
@example(events=_EDGE_EVENTS)
def test_random_events_read_back_windows(events: list[SystemEvent]) -> None:
    """Every value as written (unnamed strings from ``records_json``, where evtx renders them
    exactly; named ones from the XML), the System part as in the flat layout."""
    events = [replace(e, data=tuple(t.replace("\x00", "") for t in e.data)) for e in events]
    with tempfile.TemporaryDirectory() as directory:
        flat, windows = Path(directory) / "flat.evtx", Path(directory) / "windows.evtx"
        write_evtx(flat, events)
        write_evtx(windows, events, layout="windows")
        assert _rust_system_and_binary(windows) == _rust_system_and_binary(flat)
        from_json = rust_json_data(windows)
        named = {r["record_id"]: r["data"] for r in (
            normalize_xml(x["data"], bytes.fromhex)
            for x in rust_evtx.PyEvtxParser(str(windows)).records())}
    for event in events:
        want = expected_data(event, "windows")
        if event.data_names is None:
            assert from_json[event.record_id] == (want, (event.binary or b"").hex().upper())
        else:
            assert named[event.record_id] == want
