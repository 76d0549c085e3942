"""De-duplication across overlapping exports and formats."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evtxmpio.ingest import ingest_paths
from evtxmpio.ingest.dedupe import dedupe_key
from tests.ingest.conftest import DATA


def test_same_evtx_twice(corpus_dir: Path, tmp_path: Path) -> None:
    source = corpus_dir / "evtx" / "omerbenamram__evtx" / "system.evtx"
    copy = tmp_path / "copy.evtx"
    shutil.copyfile(source, copy)
    result = ingest_paths([source, copy])
    first, second = result.accounts
    assert first.duplicates_removed == 0
    assert second.duplicates_removed == second.records_read == first.records_used
    assert second.skip_reasons["duplicate"] == second.records_read
    assert len(result.records) == first.records_used


def _export_as_xml(path: Path, target: Path) -> None:
    """What wevtutil qe /f:xml would give, rendered by evtx (no root, back to back)."""
    import evtx

    parts = []
    for record in evtx.PyEvtxParser(str(path)).records():
        parts.append(record["data"].split("?>", 1)[1])
    target.write_text("".join(parts), encoding="utf-8")


@pytest.mark.parametrize("backend", ["python", "rust"])
def test_evtx_and_its_xml_export_dedupe(corpus_dir: Path, tmp_path: Path, backend: str) -> None:
    source = corpus_dir / "evtx" / "3gstudent__Eventlogedit-evtx--Evolution" / "System.evtx"
    xml = tmp_path / "System.xml"
    _export_as_xml(source, xml)
    result = ingest_paths([xml, source], backend=backend)
    exported, binary = result.accounts
    assert exported.format == "event-xml" and exported.records_used == 4
    assert binary.duplicates_removed == binary.records_read == 4
    assert exported.records_read == exported.records_used + exported.records_skipped


def test_key_ignores_rendering_differences() -> None:
    from evtxmpio.model import RawRecord

    a = RawRecord("system:evtx:event", 1_000_123_400, "Disk", 153, "a", "python-evtx",
                  record_id=7, channel="System", computer="HOST", data=((None, "x"),))
    b = RawRecord("system:xml:event", 1_000_123_000, "disk", 153, "b", "event-xml",
                  record_id=7, channel="System", computer="host", data=(("Name", "x"),))
    assert dedupe_key(a) == dedupe_key(b)
    c = RawRecord("system:xml:event", 1_000_124_000, "disk", 153, "b", "event-xml",
                  record_id=7, channel="System", computer="host", data=(("Name", "x"),))
    assert dedupe_key(a) != dedupe_key(c)


def test_event_viewer_csv_exported_twice() -> None:
    result = ingest_paths([DATA / "eventviewer.csv", DATA / "eventviewer.csv"])
    assert result.accounts[1].duplicates_removed == 3
