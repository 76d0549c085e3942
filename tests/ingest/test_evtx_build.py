"""Kept records built from their binary values (ingest/evtx_build.py, evtx_kept.py) are the
records the reader makes of ``evtx``'s rendering of the same chunk.

The truth is ``evtx``'s own rendering: every log is read twice, with the build on and off
(``evtx_rust.BUILD_KEPT``), and the items (records, skipped runs, issues) must be equal. The
tests also check that the build was taken where it should be (else they would pass vacuously)
and refused where a value is one an XML parser would change.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest

from evtxmpio.catalog.relevance import relevance
from evtxmpio.ingest import evtx_rust
from evtxmpio.ingest.base import ReadOptions, path_source
from evtxmpio.ingest.evtx_binfacts import ChunkDecider
from evtxmpio.ingest.runs import flat_items
from evtxmpio.model import RawRecord
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.evtx_writer import write_evtx
from tests.ingest import mutate as m
from tests.ingest.mutate import fix_checksums

SYSTEM_LOGS = ("michkoll__fakenevtx/System.evtx", "log2timeline__plaso/System.evtx",
               "omerbenamram__evtx/system.evtx", "williballenthin__python-evtx/system.evtx",
               "omerbenamram__evtx/2-vss_7-System.evtx")
START = 1_300_000_000_000_000_000


def _read(path: Path, build: bool, monkeypatch: pytest.MonkeyPatch) -> list:
    monkeypatch.setattr(evtx_rust, "BUILD_KEPT", build)
    options = ReadOptions(backend="rust", relevance=relevance(), chunk_prefilter=False)
    return list(flat_items(evtx_rust.read_evtx_rust(path_source(path), options)))


def _built_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts, as the reader runs, the chunks whose kept records were built."""
    built: list[int] = []
    kept = ChunkDecider._kept

    def counting(self: ChunkDecider, *args: object) -> dict:
        found = kept(self, *args)
        built.append(len(found))
        return found

    monkeypatch.setattr(ChunkDecider, "_kept", counting)
    return built


def _service(record_id: int, second: int) -> SystemEvent:
    return SystemEvent(
        time_ns=START + second * 1_000_000_000 + 4_500, record_id=record_id,
        provider="Service Control Manager", event_id=7036, level=4,
        computer="FS01.example.test", qualifiers=0x4000,
        provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
        event_source_name="Service Control Manager", version=0,
        data=("Windows Update", "running"))


def _disk(record_id: int, second: int, data: tuple[str, ...],
          names: tuple[str, ...] | None = None, computer: str = "FS01.example.test"
          ) -> SystemEvent:
    return SystemEvent(
        time_ns=START + second * 1_000_000_000 + 1_234_500, record_id=record_id,
        provider="disk", event_id=153, level=3, computer=computer, qualifiers=0x8004,
        data=data, data_names=names, binary=bytes(range(40)))


def _log(tmp_path: Path, kept: list[SystemEvent]) -> Path:
    """Three service records, the ``kept`` ones, three more service records."""
    events = [_service(100 + k, k) for k in range(3)]
    events += kept
    events += [_service(200 + k, 100 + k) for k in range(3)]
    out = io.BytesIO()
    write_evtx(out, events)
    path = tmp_path / "System.evtx"
    path.write_bytes(out.getvalue())
    return path


@pytest.mark.parametrize("value, built", [
    ("plain text", True),
    ("", True),
    ("   ", True),
    ("  \n  ", True),  # white space with a line break: empty from every reader
    ("two\nlines", True),
    ("tab\there", True),
    ("945A8954-C147-4ACD-923F-40C45405A658", True),  # a bare GUID: braced as Windows writes it
    ("945a8954-c147-4acd-923f-40c45405a658", True),
    ("<string>one</string><string>two</string>", False),  # python-evtx's blob: left to lxml
    ("a & b < c > d \" ' ;", True),
    ("emoji \U0001F600 and \u202e bidi", True),
    ("ends with ]]>", False),
    ("carriage\r\nreturn", False),  # an XML parser makes it a line feed
    ("control \x01 character", False),  # XML forbids it: shown as a control picture
    ("NUL\x00inside", True),  # evtx reads a string up to its first NUL
])
def test_data_values_built_as_rendered(value: str, built: bool, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _log(tmp_path, [_disk(103 + k, 10 + k, ("\\Device\\Harddisk1\\DR1", value,
                                                   f"0x{k:x}")) for k in range(3)])
    counts = _built_chunks(monkeypatch)
    items = _read(path, True, monkeypatch)
    assert items == _read(path, False, monkeypatch)
    assert sum(counts) == int(built)
    assert [i.event_id for i in items if isinstance(i, RawRecord)] == [153] * 3


def test_named_data_and_hostile_computer_built_as_rendered(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = [_disk(103, 10, ("a", "b"), ("First", "Second"), "HOST-\u202eEVIL.example"),
            _disk(104, 11, ("c", "d"), ("First", "Second"), "HOST-\u202eEVIL.example")]
    path = _log(tmp_path, kept)
    counts = _built_chunks(monkeypatch)
    items = _read(path, True, monkeypatch)
    assert items == _read(path, False, monkeypatch)
    assert sum(counts) == 1
    records = [i for i in items if isinstance(i, RawRecord)]
    assert records[0].data == (("First", "a"), ("Second", "b"))
    assert records[0].computer == "HOST-\u202eEVIL.example"


def test_values_cut_short_are_not_built(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A string value's size set to 0 (checksums fixed): the values then end before the
    end-of-fragment token and ``evtx`` fails the record; it is not built from its values."""
    path = _log(tmp_path, [_disk(103, 10, ("\\Device\\Harddisk1\\DR1", "value", "0x1"))])
    base = m.Base.from_bytes("built", path.read_bytes())
    span = base.spans[3]  # the fourth record: the disk record
    value = [v for v in m.substitution_values(base.data, span, base.slot(span.chunk))
             if v.type == 1 and v.size > 2][-1]
    data = bytearray(base.data)
    struct.pack_into("<H", data, value.descriptor, 0)
    fix_checksums(data, base.slot(span.chunk))
    path.write_bytes(bytes(data))
    items = _read(path, True, monkeypatch)
    assert items == _read(path, False, monkeypatch)
    assert not any(isinstance(i, RawRecord) and i.event_id == 153 for i in items)


def test_real_system_logs_build_their_kept_records(corpus_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On the five real System logs (nested EventData, string arrays, FILETIME and named
    values, null qualifiers) the chunks holding kept records are built, and the items are
    those of rendering them."""
    total = 0
    for name in SYSTEM_LOGS:
        path = corpus_dir / "evtx" / name
        counts = _built_chunks(monkeypatch)
        items = _read(path, True, monkeypatch)
        assert items == _read(path, False, monkeypatch), name
        total += sum(counts)
    assert total >= 40  # 44 when written: every chunk of kept records in these logs


@pytest.mark.parametrize("value_type, text, built", [
    (0x05, "\uff85", True),  # Int16: negative
    (0x06, "a", True),  # UInt16
    (0x07, "\uffff\uffff", True),  # Int32: -1
    (0x08, "ab", True),  # UInt32
    (0x09, "\uffff\uffff\uffff\uffff", True),  # Int64: -1
    (0x0A, "abcd", True),  # UInt64
    (0x14, "ab", True),  # HexInt32
    (0x15, "abcd", True),  # HexInt64
    (0x0F, "abcdefgh", True),  # GUID
    (0x11, "abcd", True),  # FILETIME (1689)
    (0x0D, "ab", False),  # Bool: not rendered here
])
def test_data_value_types_rendered_as_evtx_renders_them(
        value_type: int, text: str, built: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Data value turned into another type (its descriptor's type byte set, its bytes kept,
    checksums fixed): the record built from it is the one evtx renders."""
    path = _log(tmp_path, [_disk(103, 10, ("\\Device\\Harddisk1\\DR1", text, "end"))])
    base = m.Base.from_bytes("typed", path.read_bytes())
    span = base.spans[3]
    values = m.substitution_values(base.data, span, base.slot(span.chunk))
    value = next(v for v in values if v.type == 1
                 and base.data[v.offset:v.offset + v.size] == text.encode("utf-16-le"))
    data = bytearray(base.data)
    data[value.descriptor + 2] = value_type
    fix_checksums(data, base.slot(span.chunk))
    path.write_bytes(bytes(data))
    counts = _built_chunks(monkeypatch)
    items = _read(path, True, monkeypatch)
    assert items == _read(path, False, monkeypatch)
    assert sum(counts) == int(built)
    assert [i.event_id for i in items if isinstance(i, RawRecord)] == [153]


FILETIME_1970 = 116_444_736_000_000_000


@pytest.mark.parametrize("filetime, header", [
    (FILETIME_1970 + 12_345_678, FILETIME_1970 + 12_345_678),  # the same: the header's
    (FILETIME_1970 + 12_345_670, FILETIME_1970 + 12_345_679),  # same microsecond
    (FILETIME_1970 + 12_345_679, FILETIME_1970 + 12_345_680),  # the next microsecond
    (FILETIME_1970 - 12_345_671, FILETIME_1970 - 12_345_679),  # before 1970, same microsecond
    (FILETIME_1970 - 12_345_671, FILETIME_1970 - 12_345_681),  # before 1970, the one before
    (FILETIME_1970, 2**64 - 1),  # a header holding anything
    (FILETIME_1970, 2**63),
    (FILETIME_1970 + 5, 0),
])
def test_refined_times_as_the_rendered_reader_gives_them(filetime: int, header: int) -> None:
    """A record's time is its ``SystemTime`` to the rendered microsecond, or the record
    header's FILETIME when that falls in the same microsecond (Python integers here)."""
    from evtxmpio.catalog import filetime_to_ns
    from evtxmpio.ingest.evtx_binruns import refined_times

    micro = (filetime - FILETIME_1970) // 10
    header_ns = filetime_to_ns(header)
    expected = header_ns if header_ns // 1000 == micro else micro * 1000
    found = refined_times(np.array([filetime], np.uint64), [header])
    assert found.tolist() == [expected]


@pytest.mark.parametrize("devices, built", [
    (("\\Device\\Harddisk1\\DR1", "\\Device\\Harddisk2\\DR2"), True),
    (("\\Device\\Harddisk1\\DR1", "\\Device\\Harddisk\r\\DR2"), False),  # one refused
    (("\\Device\\Harddisk1\\DR1", "\\Device\\Harddisk1\\DR1\x00x"), True),  # NUL: cut there
])
def test_repeated_columns_built_as_rendered(devices: tuple[str, str], built: bool,
                                            tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Forty kept records whose device, computer and binary take few values (a storm): those
    columns are told apart by numpy (the path is taken), the block address is not (every
    record its own), and the records are the ones evtx renders."""
    from evtxmpio.ingest import evtx_kept

    found: list[bool] = []
    repeated = evtx_kept._Group.repeated

    def counting(self: evtx_kept._Group, index: int) -> object:
        result = repeated(self, index)
        found.append(result is not None)
        return result

    monkeypatch.setattr(evtx_kept._Group, "repeated", counting)
    kept = [_disk(103 + k, 10 + k, (devices[k % 2], f"0x{k * 7919:x}", str(k % 2 + 1)))
            for k in range(40)]
    path = _log(tmp_path, kept)
    counts = _built_chunks(monkeypatch)
    items = _read(path, True, monkeypatch)
    assert items == _read(path, False, monkeypatch)
    assert sum(counts) == int(built)
    assert True in found and False in found
    assert [i.event_id for i in items if isinstance(i, RawRecord)] == [153] * 40


def _update(record_id: int, second: int, revision: str) -> SystemEvent:
    return SystemEvent(
        time_ns=START + second * 1_000_000_000 + 2_500, record_id=record_id,
        provider="Microsoft-Windows-WindowsUpdateClient", event_id=19, level=4,
        computer="FS01.example.test", provider_guid="{945a8954-c147-4acd-923f-40c45405a658}",
        version=1, task=1, opcode=13, keywords=0x8000000000000018,
        data=("Security Update for Windows (KB9999999)", "{1a2b3c4d-0000-4000-8000-00000000000a}",
              revision), data_names=("updateTitle", "updateGuid", "updateRevisionNumber"))


@pytest.mark.parametrize("value_type, number, kept, rendered", [
    (0x08, 2406705, True, True),  # UInt32: rendered as the fix's number
    (0x08, 2406704, False, False),  # surely not: the chunk is not rendered
    (0x07, -2406705, True, True),  # Int32: "-2406705" holds it
    (0x14, 0x2406705, True, True),  # HexInt32: rendered "0x2406705"
    (0x14, 2406705, False, True),  # rendered "0x24b931"; the content test's "maybe" (it reads
                                   # a hex value in decimal too) has the chunk rendered
])
def test_update_in_windows_layout_decided_by_its_nested_values(
        value_type: int, number: int, kept: bool, rendered: bool, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An update record written as Windows writes it (EventData a nested BinXML value) whose
    revision number is a typed value (its descriptor's type byte set, checksums fixed): the
    chunk decided from its binary values, nested values read a batch at a time, gives what
    rendering every chunk gives; no record is asked about one by one, and a record that
    surely does not name the fix leaves its chunk unrendered."""
    from evtxmpio.ingest.evtx_naming import NamingCheck

    events = [_service(100 + k, k) for k in range(3)] + [_update(103, 10, "abcd")]
    events += [_service(200 + k, 100 + k) for k in range(3)]
    out = io.BytesIO()
    write_evtx(out, events, layout="windows")
    base = m.Base.from_bytes("update", out.getvalue())
    span = base.spans[3]
    start = base.data.index("abcd".encode("utf-16-le"), span.offset)
    descriptor = base.data.rindex(struct.pack("<HBB", 8, 1, 0), span.offset, start)
    data = bytearray(base.data)
    data[descriptor + 2] = value_type
    data[start:start + 4] = struct.pack("<i" if number < 0 else "<I", number)
    data[start + 4:start + 8] = b"\x00" * 4  # the rest of the old text: padding, not read
    data[descriptor:descriptor + 2] = struct.pack("<H", 4)
    fix_checksums(data, base.slot(span.chunk))
    path = tmp_path / "System.evtx"
    path.write_bytes(bytes(data))
    asked: list[int] = []
    may_name = NamingCheck.may_name
    monkeypatch.setattr(NamingCheck, "may_name",
                        lambda self, *args: asked.append(1) or may_name(self, *args))
    chunks: list[int] = []
    decode = evtx_rust._decode_chunk
    monkeypatch.setattr(evtx_rust, "_decode_chunk",
                        lambda *args: chunks.append(1) or decode(*args))
    decided = _read(path, True, monkeypatch)
    assert len(chunks) == int(rendered)
    monkeypatch.setattr(evtx_rust, "BINARY_DECISIONS", False)
    assert decided == list(flat_items(evtx_rust.read_evtx_rust(path_source(path), ReadOptions(
        backend="rust", relevance=relevance(), chunk_prefilter=False))))
    assert [i.event_id for i in decided if isinstance(i, RawRecord)] == ([19] if kept else [])
    assert not asked


@pytest.mark.parametrize("text", ["<string>x</string>", "<string>a</string>\n<string>b</string>\n"])
def test_a_value_shaped_like_python_evtx_blob_is_read_as_written_by_evtx(
        text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Data value whose own text looks like python-evtx's rendering of a string array: the
    Rust backend renders a real array as one <Data> per string, so from it the text is the
    value itself (customer text: a value must not be split or changed)."""
    path = _log(tmp_path, [_disk(103, 10, ("\\Device\\Harddisk1\\DR1", text, "end"))])
    for build in (True, False):
        (record,) = [i for i in _read(path, build, monkeypatch) if isinstance(i, RawRecord)]
        assert record.data == ((None, "\\Device\\Harddisk1\\DR1"), (None, text), (None, "end"))
