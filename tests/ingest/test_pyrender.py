"""The python backend's rendering patch is scoped: python-evtx renders its own way outside it."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from Evtx import Nodes
from Evtx.Evtx import Evtx

from evtxmpio.ingest import ingest_paths
from evtxmpio.ingest.evtx_pyrender import rendering

BINARY = re.compile(r"<Binary>([^<]+)</Binary>")


def _plain_xml(path: Path, limit: int = 200) -> list[str]:
    with Evtx(str(path)) as log:
        return [record.xml() for record, _ in zip(log.records(), range(limit), strict=False)]


def _system_log(corpus_dir: Path) -> Path:
    folder = corpus_dir / "evtx" / "sbousseaden__EVTX-ATTACK-SAMPLES"
    return folder / "DE_WinEventLogSvc_Crash_System_7036.evtx"  # small, with <Binary>


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


def test_rendering_restores_originals_on_exception() -> None:
    original = Nodes.BinaryTypeNode.__dict__.get("string")
    with pytest.raises(RuntimeError), rendering():
        assert Nodes.BinaryTypeNode.__dict__.get("string") is not original
        raise RuntimeError("boom")
    assert Nodes.BinaryTypeNode.__dict__.get("string") is original


def test_rendering_is_reentrant() -> None:
    original = Nodes.GuidTypeNode.__dict__.get("string")
    with rendering():
        with rendering():
            pass
        assert Nodes.GuidTypeNode.__dict__.get("string") is not original
    assert Nodes.GuidTypeNode.__dict__.get("string") is original
