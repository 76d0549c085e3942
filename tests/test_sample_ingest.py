"""Foundation ingest: both Event XML conventions and real .evtx files from the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio.ingest import ingest_paths
from evtxmpio.normalize import normalize_records
from tests.conftest import RACE_XML_CASE

NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def _events_text() -> str:
    return (RACE_XML_CASE / "System.xml").read_text(encoding="utf-8")


def _as_event_viewer_document(text: str) -> str:
    """The same events the way Event Viewer's "Save as XML" writes them."""
    body = text.replace("<Event xmlns='", "\n<Event xmlns='")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Events>{body}\n</Events>\n'


@pytest.mark.parametrize("shape", ["wevtutil", "events-root", "utf16-bom-wevtutil"])
def test_both_xml_conventions_give_the_same_records(tmp_path: Path, shape: str) -> None:
    text = _events_text()
    target = tmp_path / "export.dat"  # the name says nothing: formats are sniffed by content
    if shape == "wevtutil":
        target.write_text(text, encoding="utf-8")
    elif shape == "events-root":
        target.write_text(_as_event_viewer_document(text), encoding="utf-8")
    else:
        target.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    result = ingest_paths([target])
    reference = ingest_paths([RACE_XML_CASE / "System.xml"])
    assert result.accounts[0].format == "event-xml"
    assert len(result.records) == 19
    strip = [r.__class__(**{**_fields(r), "source_path": ""}) for r in result.records]
    expected = [r.__class__(**{**_fields(r), "source_path": ""}) for r in reference.records]
    assert strip == expected


def _fields(record: object) -> dict:
    return {name: getattr(record, name) for name in record.__slots__}


def test_mpio_fields_normalized() -> None:
    frame = normalize_records(ingest_paths([RACE_XML_CASE]).records)
    sixteens = frame.loc[frame["event_id"] == 16]
    assert list(sixteens["mpio_disk"]) == [1, 2]
    assert list(sixteens["path_id"]) == [0x77030001, 0x77030001]
    assert list(sixteens["error_code"]) == [0xC0080010, 0xC0080010]
    thirty_two = frame.loc[frame["event_id"] == 32].iloc[0]
    assert thirty_two["dsm"] == "Microsoft DSM"
    assert thirty_two["message"] == r"Microsoft DSM failed to return a Path to \Device\MPIODisk1."
    counts = frame.loc[frame["event_id"] == 2, "path_count"]
    assert list(counts) == [1, 2, 1, 2]
    resubmit = frame.loc[frame["event_id"] == 25].iloc[0]
    assert resubmit["path_id"] == 0x77030002


def test_truncated_xml_keeps_complete_events(tmp_path: Path) -> None:
    text = _events_text()
    cut = text.index("<EventRecordID>48215")
    target = tmp_path / "cut.xml"
    target.write_text(text[:cut], encoding="utf-8")
    result = ingest_paths([target])
    assert [r.record_id for r in result.records][-1] == 48214
    assert len(result.records) == 12
    assert any(issue.code == "xml.truncated" for issue in result.issues)


def test_doctype_is_skipped_and_entities_are_not_resolved(tmp_path: Path) -> None:
    hostile = ('<?xml version="1.0"?><!DOCTYPE Events [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               "<Events><Event><System><Provider Name='&x;'/></System></Event></Events>")
    target = tmp_path / "xxe.xml"
    target.write_text(hostile, encoding="utf-8")
    result = ingest_paths([target])
    assert [r.provider for r in result.records] == ["&x;"]
    assert [issue.code for issue in result.issues] == ["xml.doctype-ignored",
                                                        "xml.entity-not-expanded"]


SYSTEM_FILES = [
    "williballenthin__python-evtx/system.evtx",
    "3gstudent__Eventlogedit-evtx--Evolution/System.evtx",
    "sbousseaden__EVTX-ATTACK-SAMPLES/DE_WinEventLogSvc_Crash_System_7036.evtx",
    "omerbenamram__evtx/2-vss_7-System.evtx",
]


@pytest.mark.parametrize("name", SYSTEM_FILES)
def test_corpus_system_logs_read_fully(corpus: Path, reference_counts: dict, name: str) -> None:
    """Record counts equal what python-evtx itself reports when it walks every chunk."""
    result = ingest_paths([corpus / "evtx" / name])
    account = result.accounts[0]
    expected = reference_counts[f"evtx/{name}"]["readers"]["python-evtx-all"]["records"]
    assert account.format == "evtx"
    assert account.records_read == expected
    assert account.records_read == account.records_used + account.records_skipped
    assert all(r.channel == "System" for r in result.records)
