"""The python backend renders through python-evtx's node API and changes nothing of it."""

from __future__ import annotations

import base64
import re
import threading
from pathlib import Path

from Evtx import BinaryParser, Evtx, Nodes
from Evtx.Evtx import Evtx as EvtxFile

from evtxmpio.ingest import ingest_paths
from evtxmpio.ingest.evtx_chunks import CHUNK_SIZE, FILE_HEADER_SIZE
from evtxmpio.ingest.evtx_pyrender import chunk_records, record_xml

BINARY = re.compile(r"<Binary>([^<]+)</Binary>")


def _plain_xml(path: Path, limit: int = 200) -> list[str]:
    with EvtxFile(str(path)) as log:
        return [record.xml() for record, _ in zip(log.records(), range(limit), strict=False)]


def _system_log(corpus_dir: Path) -> Path:
    folder = corpus_dir / "evtx" / "sbousseaden__EVTX-ATTACK-SAMPLES"
    return folder / "DE_WinEventLogSvc_Crash_System_7036.evtx"  # small, with <Binary>


def _class_state() -> dict[str, dict[str, object]]:
    modules = (BinaryParser, Evtx, Nodes)
    return {f"{module.__name__}.{name}": dict(vars(cls)) for module in modules
            for name, cls in vars(module).items() if isinstance(cls, type)}


def test_python_evtx_rendering_unchanged_after_ingest(corpus_dir: Path) -> None:
    path = _system_log(corpus_dir)
    before = _plain_xml(path)
    result = ingest_paths([path], backend="python", dedupe=False)
    assert result.accounts[0].records_used > 0
    after = _plain_xml(path)
    assert after == before
    binaries = [m.group(1) for xml in after for m in BINARY.finditer(xml)]
    assert binaries, "the sample needs records with <Binary>"
    for text in binaries:  # python-evtx's own rendering: base64, not our upper-case hex
        base64.b64decode(text, validate=True)
    assert any(not re.fullmatch(r"[0-9A-F]+", text) for text in binaries)


def test_no_python_evtx_class_changes_while_rendering(corpus_dir: Path) -> None:
    """Mid-rendering (a generator suspended), python-evtx's classes are as imported."""
    data = _system_log(corpus_dir).read_bytes()[FILE_HEADER_SIZE:FILE_HEADER_SIZE + CHUNK_SIZE]
    before = _class_state()
    records = chunk_records(data)
    first = record_xml(next(records))
    assert _class_state() == before
    assert "<Binary>" in first or any("<Binary>" in record_xml(r) for r in records)
    assert _class_state() == before


def test_rendering_in_threads_is_independent(corpus_dir: Path) -> None:
    """Our rendering in one thread, python-evtx's own in another: neither sees the other."""
    path = _system_log(corpus_dir)
    data = path.read_bytes()[FILE_HEADER_SIZE:FILE_HEADER_SIZE + CHUNK_SIZE]
    ours = [record_xml(r) for r in chunk_records(data)]
    plain = _plain_xml(path, limit=len(ours))
    results: dict[str, list[str]] = {}

    def run(name: str) -> None:
        for _ in range(5):
            got = ([record_xml(r) for r in chunk_records(data)] if name == "ours"
                   else _plain_xml(path, limit=len(ours)))
            results.setdefault(name, []).extend(got)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("ours", "plain")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results["ours"] == ours * 5 and results["plain"] == plain * 5
    assert ours != plain  # the two renderings differ (Binary, GUIDs, times)
