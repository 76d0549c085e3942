"""A broken file in a case changes nothing about the good files: same verdict, findings,
timelines, LUN outcomes, delayed writes and the good files' own accounting."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

from evtxmpio import pipeline, report
from evtxmpio.ingest.evtx_chunks import EVTX_MAGIC
from tests.conftest import SAMPLES, zip_bytes

GOOD = ["System-FS01.evtx", "System-FS01.xml", "MPIO-FS01.etw.xml", "MPIO-FS01.etw.csv"]


def _broken_files(folder: Path) -> list[str]:
    noise = random.Random(7)
    files = {
        "00-garbage.evtx": EVTX_MAGIC + noise.randbytes(70_000),
        "01-empty.evtx": b"",
        "02-header-only.evtx": (SAMPLES / "kb2406705-race" / "System-FS01.evtx").read_bytes()[
            :4096],
        "03-xxe.xml": (b"<?xml version='1.0'?><!DOCTYPE Events [<!ENTITY x SYSTEM "
                       b"'file:///etc/passwd'><!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;'>]>"
                       b"<Events><Event><System><Provider Name='&x;'/></System><EventData>"
                       b"<Data>&b;</Data></EventDa></Event><Event><Sys"),
        "04-rot13.xml": b'<?xml version="1.0" encoding="rot13"?><Events><Event>&#0;</Event>',
        "05-huge-line.csv": (b"Event Name, Type, Event ID, Clock-Time, Kernel(ms), User(ms), "
                             b"User Data\n" + b"M" * 3_000_000 + b"\n"),
        "06-bomb.zip": zip_bytes({"System.xml": b" " * (8 << 20)}),
        "07-traversal.zip": zip_bytes({"../../escape.xml": b"<Events/>", "/abs.xml": b"<Events/>"}),
        "zz-utf16-junk.xml": b"\xff\xfe" + "<Events><Event>\ud800".encode("utf-16-le",
                                                                        "surrogatepass"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return sorted(files)



def _document(folder: Path) -> dict:
    case = pipeline.analyze([folder])
    return json.loads(report.render(case, "json"))


def test_broken_files_change_nothing_for_the_good_ones(tmp_path: Path) -> None:
    clean, mixed = tmp_path / "clean", tmp_path / "mixed"
    for folder in (clean, mixed):
        folder.mkdir()
        for name in GOOD:
            shutil.copy(SAMPLES / "kb2406705-race" / name, folder / name)
    broken = _broken_files(mixed)
    alone, together = _document(clean), _document(mixed)

    def good_entries(document: dict) -> dict:
        return {Path(e["file"]).name: e for e in document["ingest"]
                if Path(e["file"]).name in GOOD}

    for key in ("verdict", "confidence", "verdict_reasons", "findings", "timelines", "luns",
                "delayed_write_failures", "hotfix", "clock_alignment"):
        assert _names(together[key]) == _names(alone[key]), key
    assert _names(good_entries(together)) == _names(good_entries(alone))
    assert alone["verdict"] == "kb2406705-race"
    problems = {Path(e["file"].split("!")[0]).name for e in together["ingest"] if e["errors"]}
    assert set(broken) - {"01-empty.evtx"} <= problems | {"01-empty.evtx"}
    assert not (tmp_path / "escape.xml").exists() and not Path("/abs.xml").exists()


def _names(value: object) -> object:
    """``value`` with file paths reduced to file names (the two cases live in two folders)."""
    text = json.dumps(value, sort_keys=True)
    for folder in ("clean", "mixed"):
        text = text.replace(f"/{folder}/", "/")
    return json.loads(text)
