"""Chunks decided from their records' binary values (ingest/evtx_binfacts.py): the same items
as rendering every chunk with ``evtx``, the same facts as the rendered text, and no record that
may name a fix decided away unseen.

The references are independent of the code under test: ``evtx``'s own rendering of the same
records (facts read from the XML text with plain string operations here), and the reader with
binary decisions turned off.
"""

from __future__ import annotations

import io
import re
import struct
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from evtx import PyEvtxParser

from evtxmpio.catalog.relevance import KEEP_ALL, EventRule, Relevance, relevance
from evtxmpio.ingest import evtx_rust
from evtxmpio.ingest.base import ReadOptions, SkippedRecords, Source, path_source
from evtxmpio.ingest.evtx_binfacts import KEEP, ChunkDecider
from evtxmpio.ingest.evtx_chunks import (
    CHUNK_SIZE,
    FILE_HEADER_SIZE,
    build_file,
    iter_chunks,
    record_headers,
)
from evtxmpio.ingest.evtx_naming import NamingCheck
from evtxmpio.ingest.evtx_templates import TemplateCache, _template, _tokens
from evtxmpio.ingest.evtx_values import ChunkRecords
from evtxmpio.ingest.runs import flat_items
from evtxmpio.model import RawRecord
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.evtx_writer import write_evtx
from tests.ingest.conftest import corpus_files
from tests.ingest.mutate import fix_checksums

CORPUS = corpus_files()
SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*/*.evtx"))
SYSTEM_LOGS = ("michkoll__fakenevtx/System.evtx", "log2timeline__plaso/System.evtx",
               "omerbenamram__evtx/system.evtx", "williballenthin__python-evtx/system.evtx",
               "omerbenamram__evtx/2-vss_7-System.evtx")


def _items(source: Source, options: ReadOptions, binary: bool,
           monkeypatch: pytest.MonkeyPatch) -> list:
    monkeypatch.setattr(evtx_rust, "BINARY_DECISIONS", binary)
    return list(flat_items(evtx_rust.read_evtx_rust(source, options)))


def _decided(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts, as the reader runs, the chunks decided without ``evtx``."""
    decided: list[int] = []
    decide = ChunkDecider.decide

    def counting(self: ChunkDecider, chunks: list[ChunkRecords], *args: object) -> list:
        found = decide(self, chunks, *args)
        decided.append(sum(chunk is not None for chunk in found))
        return found

    monkeypatch.setattr(ChunkDecider, "decide", counting)
    return decided


@pytest.mark.parametrize("prefilter", [False, True], ids=["every-chunk", "prefilter"])
@pytest.mark.parametrize("path", CORPUS + SAMPLES, ids=[p.name for p in CORPUS + SAMPLES])
def test_binary_decisions_change_no_item(path: Path, prefilter: bool,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Records, issues and skipped runs (ids, times, offsets, counts) are those of rendering
    every chunk with ``evtx``, with the shipped relevance table and with a provider-only one."""
    for table in (relevance(), Relevance(dict.fromkeys(
            {"service control manager", "mpio", "eventlog"}, KEEP_ALL))):
        options = ReadOptions(backend="rust", relevance=table, chunk_prefilter=prefilter)
        rendered = _items(path_source(path), options, False, monkeypatch)
        assert _items(path_source(path), options, True, monkeypatch) == rendered


def test_real_system_logs_are_decided_unrendered(corpus_dir: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The path is taken on real System logs (the test above would pass if it never was): on
    the plaso log most chunks, on all five together a third of their chunks."""
    options = ReadOptions(backend="rust", relevance=relevance(), chunk_prefilter=False)
    share = {}
    for name in SYSTEM_LOGS:
        decided = _decided(monkeypatch)
        items = _items(path_source(corpus_dir / "evtx" / name), options, True, monkeypatch)
        chunks = len(iter_chunks_of(corpus_dir / "evtx" / name))
        share[name] = (sum(decided), chunks)
        assert sum(decided) == 0 or any(isinstance(item, SkippedRecords) for item in items)
    assert share["log2timeline__plaso/System.evtx"][0] * 2 > share[
        "log2timeline__plaso/System.evtx"][1], share
    assert sum(d for d, _ in share.values()) * 3 > sum(c for _, c in share.values()), share


def iter_chunks_of(path: Path) -> list:
    return [info for info, _ in iter_chunks(path.read_bytes()) if not info.empty]


def _chunk_renders(path: Path) -> list[tuple[bytes, list[str], ChunkRecords]]:
    """Per sound chunk: its bytes, ``evtx``'s XML of each record (header order), its records."""
    data = path.read_bytes()
    out = []
    for info, chunk in iter_chunks(data):
        if not info.intact:
            continue
        headers = record_headers(chunk)
        (free,) = struct.unpack_from("<I", chunk, 48)
        active = sum(offset < free for offset in headers.offsets)
        try:
            rendered = {r["event_record_id"]: r["data"] for r in PyEvtxParser(
                io.BytesIO(build_file(data[:FILE_HEADER_SIZE], [chunk]))).records()}
        except (RuntimeError, OSError):
            continue
        xmls = [rendered.get(number, "") for number in headers.numbers[:active]]
        out.append((chunk, xmls, ChunkRecords(chunk, headers.offsets[:active],
                                              headers.sizes[:active],
                                              headers.filetimes[:active])))
    return out


def _between(xml: str, start: str, end: str) -> str:
    at = xml.find(start)
    return xml[at + len(start):xml.find(end, at + len(start))] if at >= 0 else ""


@pytest.mark.parametrize("path", CORPUS + SAMPLES, ids=[p.name for p in CORPUS + SAMPLES])
def test_binary_facts_are_those_of_the_rendered_text(path: Path) -> None:
    """Where a record is understood, its provider, event id, level, ``EventRecordID`` and
    ``SystemTime`` (to the rendered microsecond) are what ``evtx`` renders."""
    decider = ChunkDecider(relevance())
    checked = total = 0
    for _, xmls, records in _chunk_renders(path):
        total += len(xmls)
        facts = decider.facts([records])
        for k, xml in enumerate(xmls):
            if not facts.fine[k] or not xml:
                continue
            assert decider.provider_name(int(facts.providers[k])) == \
                _between(xml, '<Provider Name="', '"').replace("&amp;", "&")
            event_id = xml[xml.find(">", xml.find("<EventID")) + 1:].split("<", 1)[0]
            assert int(facts.event_ids[k]) == int(event_id)
            level = _between(xml, "<Level>", "<")
            assert int(facts.levels[k]) == (int(level) if level else -1)
            assert int(facts.record_ids[k]) == int(_between(xml, "<EventRecordID>", "<"))
            when = datetime(1601, 1, 1) + timedelta(microseconds=int(facts.filetimes[k]) // 10)
            assert _between(xml, 'SystemTime="', '"') == when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            checked += 1
    if path.name.lower() == "system.evtx" and total > 100:
        assert checked > total // 2  # understood: most records of a real System log


@pytest.mark.parametrize("path", CORPUS + SAMPLES, ids=[p.name for p in CORPUS + SAMPLES])
def test_a_remembered_template_is_the_one_read_afresh(path: Path) -> None:
    """The cache (shared by every file here, so that definitions meet across chunks and files)
    gives what reading each definition afresh gives."""
    for _, _, records in _chunk_renders(path):
        for offset in records.offsets:
            chunk = records.data
            if chunk[offset + 24:offset + 29] != b"\x0f\x01\x01\x00\x0c":
                continue
            (defoff,) = struct.unpack_from("<I", chunk, offset + 34)
            read = _tokens(chunk, defoff)
            assert SHARED.get(chunk, defoff) == (_template(read.events) if read else None)


SHARED = TemplateCache()


def test_a_template_whose_outside_name_changed_is_read_again(corpus_dir: Path) -> None:
    """The same definition bytes in a chunk where a name they point to reads otherwise: the
    cache must not answer with the first chunk's template."""
    data = (corpus_dir / "evtx/log2timeline__plaso/System.evtx").read_bytes()
    chunk = data[FILE_HEADER_SIZE:FILE_HEADER_SIZE + CHUNK_SIZE]
    name = "EventID".encode("utf-16le")
    first = chunk.find(name)
    later = [m.start() for m in re.finditer(re.escape(name), chunk)]
    assert first > 0 and len(later) == 1  # one name structure, shared by every template
    changed = bytearray(data[:FILE_HEADER_SIZE + CHUNK_SIZE])
    at = FILE_HEADER_SIZE + first
    changed[at:at + len(name)] = "EventIX".encode("utf-16le")
    fix_checksums(changed, FILE_HEADER_SIZE)
    other = bytes(changed[FILE_HEADER_SIZE:])
    cache = TemplateCache()
    headers = record_headers(chunk)
    seen = 0
    for offset in headers.offsets:
        (defoff,) = struct.unpack_from("<I", chunk, offset + 34)
        if defoff < first:  # defined before the name: it does not use it
            continue
        original, edited = cache.get(chunk, defoff), cache.get(other, defoff)
        if original is not None and original.system is not None:
            assert edited is not None and edited.system is None
            seen += 1
    assert seen


def _digit_runs(xml: str) -> list[str]:
    return [run[:7] for run in re.findall(r"[0-9]{7,}", xml.lower())]


@pytest.mark.parametrize("path", CORPUS + SAMPLES, ids=[p.name for p in CORPUS + SAMPLES])
def test_no_record_whose_text_holds_the_number_is_said_not_to(path: Path) -> None:
    """For every run of seven digits in a record's rendered XML (record ids, SIDs, GUIDs, hex
    keywords, times' neighbours, numbers in EventData), taken as the fix number, the content
    test says "maybe": it never decides away a record that names the number."""
    checks = 0
    for chunk, xmls, records in _chunk_renders(path):
        for k, xml in enumerate(xmls):
            start = records.offsets[k]
            for run in sorted(set(_digit_runs(xml)))[:4]:
                table = Relevance({"any": EventRule(naming=(run,))})
                check = NamingCheck(table, TemplateCache())
                assert check.may_name(chunk, start, start + records.sizes[k]), (k, run)
                checks += 1
    if path.name.lower() == "system.evtx" and len(path.read_bytes()) > 1 << 20:
        assert checks > 100


@pytest.mark.parametrize("path", CORPUS + SAMPLES, ids=[p.name for p in CORPUS + SAMPLES])
def test_no_record_whose_text_holds_the_number_is_decided_away(path: Path) -> None:
    """The same on whole chunks, as the reader decides them (numbers read by numpy, the rest
    asked one record at a time): with every provider of the chunk kept when it names the
    number, each record whose rendered XML holds it is kept."""
    checks = 0
    for _, xmls, records in _chunk_renders(path):
        providers = {_between(xml, '<Provider Name="', '"').lower() for xml in xmls if xml}
        # every run but those of record ids (one of those is enough), a dozen per chunk
        runs = sorted({run for xml in xmls for run in _digit_runs(
            re.sub(r"<EventRecordID>[0-9]*<", "", xml))})
        runs = runs[::max(1, len(runs) // 12)] + _digit_runs(xmls[-1])[:1]
        for run in runs:
            table = Relevance({provider: EventRule(naming=(run,)) for provider in providers})
            read = ChunkDecider(table).decided_records([records])
            for k, xml in enumerate(xmls):
                if xml and read.fine[k] and run in xml.lower():
                    assert read.decision[k] == KEEP, (k, run)
                    checks += 1
    if path.name.lower() == "system.evtx" and len(path.read_bytes()) > 1 << 20:
        assert checks > 100


def _update_event(record_id: int, event_id: int, title: str, second: int,
                  guid: str = "{945a8954-c147-4acd-923f-40c45405a658}") -> SystemEvent:
    return SystemEvent(
        time_ns=1_300_000_000_000_000_000 + second * 1_000_000_000 + 1_234_500,
        record_id=record_id, provider="Microsoft-Windows-WindowsUpdateClient",
        event_id=event_id, level=4, computer="FS01.example.test", qualifiers=None,
        provider_guid=guid, version=1,
        data=(title, "{0F25B3C1-5B9A-4F48-A98E-1F41D73C5C76}", "101"),
        data_names=("updateTitle", "updateGuid", "updateRevisionNumber"))


def _service_event(record_id: int, second: int) -> SystemEvent:
    return SystemEvent(
        time_ns=1_300_000_000_000_000_000 + second * 1_000_000_000 + 4_500,
        record_id=record_id, provider="Service Control Manager", event_id=7036, level=4,
        computer="FS01.example.test", qualifiers=0x4000,
        provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}", version=0,
        data=("Windows Update", "running"))


OTHER = "Security Update for Windows Server 2008 R2 x64 Edition (KB2479943)"
GUID = "{945a8954-c147-4acd-923f-40c45405a658}"


@pytest.mark.parametrize("title, record_id, guid, kept", [
    ("Hotfix for Windows Server 2008 R2 x64 Edition (KB2406705)", 100, GUID, True),
    (OTHER, 100, GUID, False),
    # the number only in the record id or a GUID: the rendered text names it, so it is kept
    (OTHER, 2_406_705, GUID, True),
    (OTHER, 12_406_705_1, GUID, True),
    (OTHER, 100, "{12406705-c147-4acd-923f-40c45405a658}", True),
    (OTHER, 100, "{945a8954-c147-4acd-923f-40c452406705}", True),
    (OTHER, 100, "{945a8954-c147-4acd-923f-40c4540a2406}", False),
    # the digits across a dash: not in the text, but the content test reads GUIDs without
    # their dashes, so the chunk is rendered to tell (a "maybe", never a wrong "no")
    (OTHER, 100, "{945a8954-c147-4acd-9240-6705a5a5a658}", None),
])
def test_update_records_are_decided_on_their_binary_text(
        title: str, record_id: int, guid: str, kept: bool | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An update record among service records, in a chunk decided unrendered when it cannot
    name the fix: kept exactly when its rendered text holds the number."""
    events = [_service_event(record_id - 3 + k, k) for k in range(3)]
    events.append(_update_event(record_id, 19, title, 3, guid))
    events += [_service_event(record_id + 1 + k, 4 + k) for k in range(3)]
    out = io.BytesIO()
    write_evtx(out, events)
    path = tmp_path / "System.evtx"
    path.write_bytes(out.getvalue())
    decided = _decided(monkeypatch)
    options = ReadOptions(backend="rust", relevance=relevance(), chunk_prefilter=False)
    items = _items(path_source(path), options, True, monkeypatch)
    assert [i.event_id for i in items if isinstance(i, RawRecord)] == ([19] if kept else [])
    assert sum(decided) == (0 if kept in (True, None) else 1)
    assert items == _items(path_source(path), options, False, monkeypatch)


def test_templates_of_one_system_layout_keep_their_own_text_flag() -> None:
    """Two templates with the same System substitutions, one whose values meet in the text:
    each keeps its own row (the content test of the second must not be skipped)."""
    from evtxmpio.ingest.evtx_templates import Template

    system = (7, 5, 0, 3, 4)
    apart = Template(system, None, True, "event<system<data", False, ())
    meeting = Template(system, None, True, "event<system<data", True, ())
    decider = ChunkDecider(relevance())
    assert decider.template_row(apart)[7] == 0
    assert decider.template_row(meeting)[7] == 1
    assert decider.template_row(apart)[7] == 0


def test_a_decider_that_forgets_its_provider_names_decides_the_same(
        corpus_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past its bound of provider names a decider starts afresh; the decisions stay."""
    from evtxmpio.ingest import evtx_binfacts

    chunks = [records for path in CORPUS if path.name.lower() == "system.evtx"
              for _, _, records in _chunk_renders(path)]
    fresh = [ChunkDecider(relevance()).decide([records]) for records in chunks]
    monkeypatch.setattr(evtx_binfacts, "MAX_PROVIDERS", 2)
    forgetful = ChunkDecider(relevance())
    assert [forgetful.decide([records]) for records in chunks] == fresh
    assert len(forgetful._names) <= 2 + 16  # forgotten again and again
