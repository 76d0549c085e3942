"""Seed inputs for the fuzz harnesses, written into a folder at run time.

Seeds come from the hand-written ingest samples (``tests/ingest/data``), the generated sample
cases (``samples/*/``) and the shared corpus of real .evtx files (``../shared/corpus``); none is
copied into the project. Hostile seeds (entities, XInclude, odd encodings, crafted archives)
are built here. ``python tests/fuzz/seeds.py HARNESS DEST [--small]`` writes one harness's seeds.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import io
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
ROOT = FUZZ_DIR.parents[1]
DATA = ROOT / "tests" / "ingest" / "data"
SAMPLES = ROOT / "samples"
CORPUS_EVTX = Path(os.environ.get("EVTXMPIO_CORPUS") or ROOT.parent / "shared" / "corpus") / "evtx"
CANARY_URL = (FUZZ_DIR / "canary.txt").as_uri()
EVTX_MAX_SEED = 4096 + 2 * 65536  # a header and two chunks
XML_MAX_SEED = 64 << 10

# First byte of an evtx harness input (see fuzz_evtx.py): backend, pre-filter, checksum fix-up.
EVTX_SELECTORS = (0b0000, 0b0001, 0b1011, 0b1110)

HOSTILE_XML = (
    f'<?xml version="1.0"?>\n<!DOCTYPE Events [<!ENTITY c SYSTEM "{CANARY_URL}">]>\n'
    "<Events><Event><System><Provider Name='mpio'/><EventID>16</EventID></System>"
    "<EventData><Data>&c;</Data></EventData></Event></Events>\n",
    "<Events xmlns:xi='http://www.w3.org/2001/XInclude'><Event><System><Provider Name='mpio'/>"
    f"<EventID>16</EventID></System><EventData><Data><xi:include href='{CANARY_URL}' "
    "parse='text'/></Data></EventData></Event></Events>\n",
    '<!DOCTYPE Event [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<Event><System><Provider Name="mpio"/>'
    "<EventID>16</EventID></System><EventData><Data>&c;</Data></EventData></Event>\n",
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Events><Event><System>'
    "<Provider Name='disk'/><EventID>153</EventID><Computer>H\xf6st</Computer></System>"
    "<EventData><Data Name='x'>\xe9</Data><Binary>0F0A</Binary></EventData></Event></Events>\n",
    "<Event><System><Provider Name='mpio'/><EventID Qualifiers='-1'>99999999999999999999"
    "</EventID><TimeCreated SystemTime='9999-99-99T99:99:99Z'/><EventRecordID>-5"
    "</EventRecordID></System><EventData><Binary>XYZ</Binary></EventData></Event>"
    "<Event><System>" + "<Data>" * 300 + "\n",
)


def _files(folder: Path, pattern: str, max_size: int | None = None) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern)
                  if p.is_file() and (max_size is None or p.stat().st_size <= max_size))


def _xml_seeds(pattern: str, data_files: list[str], small: bool) -> Iterator[tuple[str, bytes]]:
    for name in data_files:
        yield name, (DATA / name).read_bytes()
    found = _files(SAMPLES, pattern, XML_MAX_SEED)
    for path in found[:2] if small else found:
        yield f"{path.parent.name}-{path.name}", path.read_bytes()
    for number, text in enumerate(HOSTILE_XML):
        yield f"hostile-{number}.xml", text.encode("latin-1" if "ISO-8859" in text else "utf-8")
    first = (DATA / data_files[0]).read_bytes() if data_files else HOSTILE_XML[1].encode()
    yield "utf16.xml", codecs.BOM_UTF16_LE + first.decode("utf-8").encode("utf-16-le")
    yield "cut.xml", first[: len(first) * 2 // 3]


def evtx_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """Real .evtx files of at most two chunks, each behind a few selector bytes."""
    files = _files(CORPUS_EVTX, "*/*.evtx", EVTX_MAX_SEED) + _files(
        SAMPLES, "*/*.evtx", EVTX_MAX_SEED)
    if small:
        files = files[:2] + files[-1:]
    for path in files:
        data = path.read_bytes()
        for selector in EVTX_SELECTORS[:2] if small else EVTX_SELECTORS:
            yield f"{path.parent.name}-{path.stem}-{selector:x}.bin", bytes([selector]) + data
    if files:
        data = files[0].read_bytes()
        yield "cut.bin", bytes([0b1000]) + data[: 4096 + 30_000]
        yield "header-only.bin", bytes([0b0001]) + data[:4096]


def event_xml_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """Event Viewer and wevtutil XML exports, plus hostile documents."""
    yield from _xml_seeds("*/System-*.xml", [], small)
    case = SAMPLES / "kb2406705-race-xml" / "case" / "System.xml"
    if case.is_file():
        yield "race-case.xml", case.read_bytes()


def tracerpt_xml_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """tracerpt XML exports, plus hostile documents."""
    yield from _xml_seeds("*/MPIO-*.etw.xml", ["tracerpt.xml"], small)


def tracerpt_csv_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """tracerpt CSV exports (UTF-8 and UTF-16)."""
    for name in ("tracerpt.csv", "tracerpt-unicode.csv"):
        yield name, (DATA / name).read_bytes()
    found = _files(SAMPLES, "*/MPIO-*.etw.csv")
    for path in found[:1] if small else found:
        yield f"{path.parent.name}-{path.name}", path.read_bytes()


def csv_export_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """Event Viewer and Export-Csv exports, also as UTF-16 and with a German header."""
    for name in ("eventviewer.csv", "getwinevent.csv"):
        data = (DATA / name).read_bytes()
        yield name, data
        yield f"utf16-{name}", codecs.BOM_UTF16_LE + data.decode("utf-8").encode("utf-16-le")
    german = ("Ebene,Datum und Uhrzeit,Quelle,Ereignis-ID,Aufgabenkategorie\n"
              "Fehler,14.06.2011 09:47:10,mpio,16,Keine,Ein Failover ist aufgetreten.\n")
    yield "german.csv", german.encode("utf-8")


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def archive_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """Zip and gzip archives (nested, crafted names, a small bomb) of the ingest samples."""
    trace = (DATA / "tracerpt.csv").read_bytes()
    viewer = (DATA / "eventviewer.csv").read_bytes()
    xml = (DATA / "tracerpt.xml").read_bytes()
    inner = _zip({"trace.csv": trace, "viewer.csv.gz": gzip.compress(viewer)})
    yield "flat.zip", _zip({"trace.csv": trace, "events.xml": xml})
    yield "nested.zip", _zip({"inner.zip": inner, "x.gz": gzip.compress(xml)})
    yield "viewer.csv.gz", gzip.compress(viewer)
    yield "nested.gz", gzip.compress(gzip.compress(trace))
    yield "names.zip", _zip({"../up.csv": trace, "/abs.csv": viewer, "a/../../b.xml": xml})
    yield "bomb.zip", _zip({"zeros.csv": viewer + b"\x00" * (4 << 20)})
    evtx = _files(CORPUS_EVTX, "*/*.evtx", 4096 + 65536)
    if evtx:
        yield "evtx.zip", _zip({"System.evtx": evtx[0].read_bytes(), "inner.zip": inner})


def report_seeds(small: bool = False) -> Iterator[tuple[str, bytes]]:
    """Fields separated by ``0xff``: host, file, message, data value, source file, detail."""
    payloads = (
        ["FS01", "C:\\Data\\orders.mdb", "A fail-over occurred.", "1", "System.evtx", "x"],
        ["FS01<img src=x onerror=alert(1)>", "C:\\<script>alert(1)</script>.mdb",
         "<svg onload=alert(1)></svg> javascript:alert(1) \"'&", "</textarea><script>",
         "javascript:alert(1)", "<a href='javascript:alert(1)'>x</a>"],
        ["{{ 7*7 }}", "{% raw %}", "${7*7}", "\x00\x01\u202e\ud7ff", "]]><!--", "&amp;&#x3c;"],
    )
    for number, fields in enumerate(payloads):
        yield f"report-{number}.bin", b"\xff".join(f.encode("utf-8") for f in fields)


SEEDERS = {
    "fuzz_evtx": evtx_seeds,
    "fuzz_event_xml": event_xml_seeds,
    "fuzz_tracerpt_xml": tracerpt_xml_seeds,
    "fuzz_tracerpt_csv": tracerpt_csv_seeds,
    "fuzz_csv_export": csv_export_seeds,
    "fuzz_archive": archive_seeds,
    "fuzz_report": report_seeds,
}


def write_seeds(harness: str, dest: Path, small: bool = False) -> list[Path]:
    """Write the seeds of ``harness`` (a key of :data:`SEEDERS`) into ``dest``.

    Args:
        harness: harness module name, e.g. ``fuzz_evtx``.
        dest: folder to write into (created).
        small: only a few seeds, for short CI runs.

    Returns:
        The files written.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in SEEDERS[harness](small):
        path = dest / name
        path.write_bytes(data)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: write one harness's seeds into a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("harness", choices=sorted(SEEDERS))
    parser.add_argument("dest", type=Path)
    parser.add_argument("--small", action="store_true", help="only the few seeds CI uses")
    args = parser.parse_args(argv)
    written = write_seeds(args.harness, args.dest, small=args.small)
    print(f"{len(written)} seeds written to {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
