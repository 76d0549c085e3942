"""Tests for the binary .evtx writer, with python-evtx and evtx (Rust) as the oracles.

Every generated file is read by both readers; each record's XML is parsed with lxml into a
normalized dict and compared with the event written and with the other reader.
"""

from __future__ import annotations

import base64
import io
import random
import re
import struct
import tempfile
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import evtx as rust_evtx
import Evtx.Evtx as python_evtx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from evtxmpio.catalog import ns_to_filetime
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.evtx_writer import (
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    EvtxWriter,
    write_evtx,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

MPIO_16_BINARY = bytes.fromhex(
    "000008000100300000000000100008C0120000009D0000C02D0000000000000000000000000000000100037700000000"
)
POPUP_GUID = "{47bfa2b7-bd54-4fac-b70b-29021084ca8f}"
T0 = 1_308_037_630_402_113_200  # 2011-06-14T07:47:10.4021132Z

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def mpio_16(record_id: int, time_ns: int = T0, disk: int = 1) -> SystemEvent:
    """mpio 16 exactly as domain reference section 1.5."""
    return SystemEvent(
        time_ns=time_ns,
        record_id=record_id,
        provider="mpio",
        event_id=16,
        level=2,
        computer="FS01.contoso.local",
        qualifiers=49160,
        data=(f"\\Device\\MPIODisk{disk}",),
        binary=MPIO_16_BINARY,
    )


def popup_26(record_id: int, time_ns: int = T0, message: str = "The drive is gone") -> SystemEvent:
    return SystemEvent(
        time_ns=time_ns,
        record_id=record_id,
        provider="Application Popup",
        event_id=26,
        level=4,
        computer="FS01.contoso.local",
        provider_guid=POPUP_GUID,
        version=0,
        opcode=0,
        keywords=0x8000000000000000,
        data=("Windows - Delayed Write Failed", message),
        data_names=("Caption", "Message"),
        process_id=4,
        thread_id=1234,
    )


def eventlog_6009(record_id: int, time_ns: int = T0, computer: str = "FS01") -> SystemEvent:
    return SystemEvent(
        time_ns=time_ns,
        record_id=record_id,
        provider="EventLog",
        event_id=6009,
        level=4,
        computer=computer,
        qualifiers=32768,
        data=("6.01.", "7601", "Service Pack 1", "", "Multiprocessor Free"),
    )


def scm_7036(record_id: int, time_ns: int = T0) -> SystemEvent:
    return SystemEvent(
        time_ns=time_ns,
        record_id=record_id,
        provider="Service Control Manager",
        event_id=7036,
        level=4,
        computer="FS01.contoso.local",
        qualifiers=16384,
        provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
        event_source_name="Service Control Manager",
        version=0,
        opcode=0,
        keywords=0x8080000000000000,
        data=("Windows Update", "running", "770075006100750073007600630000000000"),
        data_names=("param1", "param2", "Binary"),
        process_id=520,
        thread_id=7044,
    )


def mixed_events(count: int, seed: int = 7, first_id: int = 1) -> Iterator[SystemEvent]:
    """Yield ``count`` reproducible events of several shapes, ids and times increasing."""
    rng = random.Random(seed)
    time_ns = T0
    for record_id in range(first_id, first_id + count):
        time_ns += rng.randrange(1, 50_000_000) * 100
        kind = rng.randrange(5)
        if kind == 0:
            yield mpio_16(record_id, time_ns, disk=rng.randrange(1, 64))
        elif kind == 1:
            yield popup_26(
                record_id, time_ns, f"{{Delayed Write Failed}} file E:\\f{record_id}.dat"
            )
        elif kind == 2:
            yield eventlog_6009(record_id, time_ns, computer=rng.choice(["FS01", "Сервер-02"]))
        elif kind == 3:
            yield scm_7036(record_id, time_ns)
        else:
            yield SystemEvent(
                time_ns,
                record_id,
                "disk",
                153,
                3,
                "FS01",
                qualifiers=32772,
                data=(
                    f"\\Device\\Harddisk{rng.randrange(9)}\\DR0",
                    "0x416e32",
                    "0",
                    "\\Device\\00000024",
                ),
                binary=bytes(rng.randrange(256) for _ in range(44)),
            )


# --- normalization -------------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _time_us(text: str) -> int:
    """Microseconds since the Unix epoch of either reader's SystemTime rendering."""
    moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
    return (moment - EPOCH) // timedelta(microseconds=1)


def _optional_int(text: str | None) -> int | None:
    return None if text is None else int(text, 0)


def normalize_xml(xml: str | bytes, binary_decoder) -> dict:
    """Reduce one reader's record XML to comparable plain values."""
    if isinstance(xml, str):
        xml = xml.encode("utf-8")
    root = etree.fromstring(xml, _PARSER)
    system = {_local(child.tag): child for child in root[0]}
    provider = system["Provider"]
    execution = system.get("Execution")
    guid = provider.get("Guid")
    event_data = next(child for child in root if _local(child.tag) == "EventData")
    data = [(d.get("Name"), d.text or "") for d in event_data if _local(d.tag) == "Data"]
    binary = [d.text or "" for d in event_data if _local(d.tag) == "Binary"]
    return {
        "record_id": int(system["EventRecordID"].text),
        "provider": provider.get("Name"),
        "guid": None if guid is None else guid.strip("{}").lower(),
        "source_name": provider.get("EventSourceName"),
        "event_id": int(system["EventID"].text),
        "qualifiers": _optional_int(system["EventID"].get("Qualifiers")),
        "version": _optional_int(getattr(system.get("Version"), "text", None)),
        "level": int(system["Level"].text),
        "task": int(system["Task"].text),
        "opcode": _optional_int(getattr(system.get("Opcode"), "text", None)),
        "keywords": int(system["Keywords"].text, 16),
        "time_us": _time_us(system["TimeCreated"].get("SystemTime")),
        "process_id": _optional_int(None if execution is None else execution.get("ProcessID")),
        "thread_id": _optional_int(None if execution is None else execution.get("ThreadID")),
        "channel": system["Channel"].text or "",
        "computer": system["Computer"].text or "",
        "data": data,
        "binary": binary_decoder(binary[0]) if binary else None,
    }


def expected(event: SystemEvent) -> dict:
    """The normalized dict a correct reader must give for ``event``."""
    names = event.data_names or (None,) * len(event.data)
    return {
        "record_id": event.record_id,
        "provider": event.provider,
        "guid": None if event.provider_guid is None else event.provider_guid.strip("{}").lower(),
        "source_name": event.event_source_name,
        "event_id": event.event_id,
        "qualifiers": event.qualifiers,
        "version": event.version,
        "level": event.level,
        "task": event.task,
        "opcode": event.opcode,
        "keywords": event.keywords,
        "time_us": event.time_ns // 1000,
        "process_id": event.process_id,
        "thread_id": event.thread_id,
        "channel": event.channel,
        "computer": event.computer,
        "data": list(zip(names, event.data, strict=True)),
        "binary": event.binary,
    }


def read_python_evtx(path: Path) -> list[dict]:
    with python_evtx.Evtx(str(path)) as log:
        return [normalize_xml(record.xml(), base64.b64decode) for record in log.records()]


def _rust_time_ns(text: str) -> int:
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?", text)
    whole = datetime.fromisoformat(match.group(1) + "+00:00")
    fraction = (match.group(2) or "0").ljust(9, "0")
    return (whole - EPOCH) // timedelta(seconds=1) * 1_000_000_000 + int(fraction)


def read_rust_evtx(path: Path) -> list[tuple[int, dict]]:
    """Return (record header time in ns, normalized dict) per record."""
    parser = rust_evtx.PyEvtxParser(str(path))
    return [
        (_rust_time_ns(record["timestamp"]), normalize_xml(record["data"], bytes.fromhex))
        for record in parser.records()
    ]


def assert_round_trip(path: Path, events: list[SystemEvent]) -> None:
    """Both readers give every record, equal to what was written and to each other."""
    want = [expected(event) for event in events]
    from_python = read_python_evtx(path)
    from_rust = read_rust_evtx(path)
    assert len(from_python) == len(events)
    assert len(from_rust) == len(events)
    assert [times for times, _ in from_rust] == [event.time_ns for event in events]
    assert [record for _, record in from_rust] == want
    # python-evtx converts FILETIME through a float (``qword * 1e-7``), off by up to a few
    # microseconds; expect exactly what that conversion gives for the FILETIME written.
    for record, wanted, event in zip(from_python, want, events, strict=True):
        assert record == _as_python_evtx_reads(wanted) | {
            "time_us": _python_evtx_time_us(event.time_ns)}


def _as_python_evtx_reads(wanted: dict) -> dict:
    """python-evtx decodes UTF-16 strings with Python's ``utf16`` codec, which takes a leading
    U+FEFF for a byte order mark and drops it: a text that starts with one loses it."""
    def text(value: str | None) -> str | None:
        return value[1:] if value is not None and value.startswith("\ufeff") else value

    return wanted | {key: text(wanted[key]) for key in ("provider", "source_name", "channel",
                                                         "computer")} | {
        "data": [(name, text(value)) for name, value in wanted["data"]]}


def _python_evtx_time_us(time_ns: int) -> int:
    seconds = float(ns_to_filetime(time_ns)) * 1e-7 - 11644473600
    return _time_us(datetime.fromtimestamp(seconds, UTC).isoformat())


# --- independent structure checks ----------------------------------------------------------------


def check_structure(blob: bytes, events: list[SystemEvent]) -> int:
    """Verify header, chunk headers and CRC32s without the writer's code; return chunk count."""
    assert blob[:8] == b"ElfFile\x00"
    first, last, next_id, size, minor, major, block, chunks = struct.unpack_from(
        "<QQQIHHHH", blob, 8
    )
    flags, checksum = struct.unpack_from("<II", blob, 120)
    assert (first, size, minor, major, block, flags) == (0, 128, 1, 3, 4096, 0)
    assert checksum == zlib.crc32(blob[:120])
    assert len(blob) == FILE_HEADER_SIZE + chunks * CHUNK_SIZE
    assert last == max(chunks - 1, 0)
    assert next_id == (events[-1].record_id + 1 if events else 1)
    ids: list[int] = []
    for index in range(chunks):
        chunk = blob[FILE_HEADER_SIZE + index * CHUNK_SIZE :][:CHUNK_SIZE]
        ids += _check_chunk(chunk)
    assert ids == [event.record_id for event in events]
    return chunks


def _check_chunk(chunk: bytes) -> list[int]:
    assert chunk[:8] == b"ElfChnk\x00"
    first_number, last_number, first_id, last_id = struct.unpack_from("<QQQQ", chunk, 8)
    header_size, last_offset, free_offset, data_crc = struct.unpack_from("<IIII", chunk, 40)
    assert header_size == 128
    assert data_crc == zlib.crc32(chunk[512:free_offset])
    header_crc = struct.unpack_from("<I", chunk, 124)[0]
    assert header_crc == zlib.crc32(chunk[:120] + chunk[128:512])
    assert chunk[free_offset:] == bytes(CHUNK_SIZE - free_offset)
    ids, offset, record_offset = [], 512, 0
    while offset < free_offset:
        magic, size, record_id = struct.unpack_from("<IIQ", chunk, offset)
        assert magic == 0x00002A2A
        assert struct.unpack_from("<I", chunk, offset + size - 4)[0] == size
        ids.append(record_id)
        record_offset, offset = offset, offset + size
    assert offset == free_offset
    assert (last_offset, first_number, last_number) == (record_offset, ids[0], ids[-1])
    assert (first_id, last_id) == (ids[0], ids[-1])
    return ids


# --- tests ---------------------------------------------------------------------------------------


def hand_built_events() -> list[SystemEvent]:
    special = "<script>&\"'"
    return [
        mpio_16(48211),
        popup_26(48212),
        eventlog_6009(48213),
        scm_7036(48214),
        eventlog_6009(48215, computer="Sérveur-Ölçü-東京"),
        popup_26(48216, message=special),
        SystemEvent(
            T0,
            48217,
            "Ntfs",
            55,
            2,
            "FS01",
            qualifiers=49156,
            task=2,
            data=("", "", special, "ünïcödé 😀"),
            binary=b"",
        ),
        SystemEvent(T0 + 100, 48218, "EventLog", 6005, 4, "FS01", qualifiers=32768),
        mpio_16(48219, T0 + 200, disk=2),
    ]


def test_hand_built_events_read_back_identically(tmp_path: Path) -> None:
    events = hand_built_events()
    path = tmp_path / "System.evtx"
    assert write_evtx(path, events) == len(events)
    assert_round_trip(path, events)
    check_structure(path.read_bytes(), events)


def test_mpio_16_binary_matches_domain_reference(tmp_path: Path) -> None:
    path = tmp_path / "mpio.evtx"
    write_evtx(path, [mpio_16(48211)])
    ((_, record),) = read_rust_evtx(path)
    assert record["binary"].hex().upper() == MPIO_16_BINARY.hex().upper()
    assert record["data"] == [(None, "\\Device\\MPIODisk1")]
    assert (record["event_id"], record["qualifiers"], record["keywords"]) == (16, 49160, 1 << 55)


def test_many_chunks_round_trip_and_checksums(tmp_path: Path) -> None:
    events = list(mixed_events(5000))
    path = tmp_path / "big.evtx"
    assert write_evtx(path, events) == 5000
    chunks = check_structure(path.read_bytes(), events)
    assert chunks >= 5
    assert_round_trip(path, events)
    with python_evtx.Evtx(str(path)) as log:
        header = log.get_file_header()
        assert header.verify() and not header.is_dirty()
        assert all(chunk.verify() for chunk in log.chunks())


def test_templates_are_defined_once_per_chunk_and_names_shared(tmp_path: Path) -> None:
    path = tmp_path / "templates.evtx"
    write_evtx(path, mixed_events(3000))
    with python_evtx.Evtx(str(path)) as log:
        for chunk in log.chunks():
            assert 1 <= len(chunk.templates()) <= 5  # one per shape in mixed_events
            chunk._load_strings()
            names = [node.string() for node in chunk.strings().values()]
            assert len(names) == len(set(names))
            assert {"Event", "System", "Data", "EventData", "Provider"} <= set(names)


def test_same_events_give_identical_bytes() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    write_evtx(first, mixed_events(1500))
    write_evtx(second, mixed_events(1500))
    assert first.getvalue() == second.getvalue()
    assert len(first.getvalue()) > FILE_HEADER_SIZE + CHUNK_SIZE


def test_file_object_target_and_context_manager(tmp_path: Path) -> None:
    events = hand_built_events()
    sink = io.BytesIO()
    with EvtxWriter(sink) as writer:
        for event in events:
            writer.write(event)
        assert struct.unpack_from("<I", sink.getvalue(), 120)[0] == 1  # dirty until closed
    assert writer.records_written == len(events)
    path = tmp_path / "from_bytes.evtx"
    path.write_bytes(sink.getvalue())
    assert_round_trip(path, events)


def test_empty_log_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "empty.evtx"
    assert write_evtx(path, []) == 0
    assert check_structure(path.read_bytes(), []) == 0
    assert read_python_evtx(path) == [] and read_rust_evtx(path) == []


def test_record_ids_must_increase() -> None:
    with EvtxWriter(io.BytesIO()) as writer:
        writer.write(mpio_16(10))
        with pytest.raises(ValueError, match="ids must increase"):
            writer.write(mpio_16(10))


@pytest.mark.parametrize(
    "bad",
    [
        SystemEvent(T0, 1, "p", 70000, 4, "c"),
        SystemEvent(T0, 1, "p", 1, 4, "c", data=("x" * 40000,)),
        SystemEvent(T0, 1, "p", 1, 4, "c", data=("a", "b"), data_names=("A",)),
    ],
    ids=["event-id-range", "oversized-value", "names-mismatch"],
)
def test_bad_events_raise_value_error(bad: SystemEvent) -> None:
    with EvtxWriter(io.BytesIO()) as writer, pytest.raises(ValueError):
        writer.write(bad)


def test_memory_stays_flat_while_streaming(tmp_path: Path) -> None:
    path = tmp_path / "stream.evtx"
    tracemalloc.start()
    try:
        write_evtx(path, mixed_events(30_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert path.stat().st_size > 40 * CHUNK_SIZE
    assert peak < 2 * 1024 * 1024  # the current chunk plus compiled templates, not the log


# --- property test -------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
    | st.sampled_from("\t\n<>&\"' "),
    max_size=40,
)
# Attribute values: python-evtx writes them unescaped inside double quotes (so no '"'), evtx
# (Rust) omits an attribute whose value is empty (so at least one character), and XML
# attribute-value normalization turns a raw tab or newline into a space (so none of those).
_ATTRIBUTE_TEXT = _TEXT.filter(lambda text: text and not set(text) & set('"\t\n'))
_NAME = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
_U8, _U16 = st.integers(0, 0xFF), st.integers(0, 0xFFFF)
_U32, _U64 = st.integers(0, 0xFFFFFFFF), st.integers(0, 2**64 - 1)


@st.composite
def system_events(draw) -> list[SystemEvent]:
    events, record_id = [], draw(st.integers(1, 2**40))
    for _ in range(draw(st.integers(1, 6))):
        record_id += draw(st.integers(1, 1000))
        data = tuple(draw(st.lists(_TEXT, max_size=6)))
        named = draw(st.booleans())
        events.append(
            SystemEvent(
                time_ns=draw(st.integers(315_532_800, 4_102_444_800)) * 10**9
                + draw(st.integers(0, 9_999_999)) * 100,
                record_id=record_id,
                provider=draw(_ATTRIBUTE_TEXT),
                event_id=draw(_U16),
                level=draw(_U8),
                computer=draw(_TEXT),
                qualifiers=draw(st.none() | _U16),
                provider_guid=draw(st.none() | st.uuids().map(lambda u: f"{{{u}}}")),
                event_source_name=draw(st.none() | _ATTRIBUTE_TEXT),
                version=draw(st.none() | _U8),
                task=draw(_U16),
                opcode=draw(st.none() | _U8),
                keywords=draw(_U64),
                channel=draw(_TEXT),
                data=data,
                data_names=tuple(draw(_NAME) for _ in data) if named else None,
                binary=draw(st.none() | st.binary(max_size=64)),
                process_id=draw(st.none() | _U32),
                thread_id=draw(st.none() | _U32),
            )
        )
    return events


_BOM_EVENT = SystemEvent(time_ns=315_532_800_000_000_000, record_id=2, provider="\ufeff",
                         event_id=0, level=0, computer="\ufeffFS01", qualifiers=None,
                         provider_guid=None, event_source_name="\ufeffx", version=None, task=0,
                         opcode=None, keywords=0, channel="\ufeffSystem",
                         data=("\ufeff", "a\ufeff", "\ufeff\ufeffb"), data_names=None,
                         binary=None, process_id=None, thread_id=None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=system_events())
@example(events=[_BOM_EVENT])  # a text that starts with U+FEFF, in every string field
def test_random_events_round_trip(events: list[SystemEvent]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "random.evtx"
        write_evtx(path, events)
        assert_round_trip(path, events)
        check_structure(path.read_bytes(), events)
