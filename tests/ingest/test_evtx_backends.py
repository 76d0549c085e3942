"""Both .evtx backends on the real corpus: same records, and at least what plain evtx reads.

The Rust backend's counts are checked on every file. The python backend (python-evtx) runs at
some 400 records/s, so the files are split up front, by content, not skipped at run time:

- every System-channel file (what evtxmpio is for) and every file under 100 KB: both
  backends read the whole file and every field of every record is compared;
- the other files (large logs of other channels: 28 files, some 30,000 records; a full
  comparison would add minutes to the suite): their first and last written chunks, each cut
  out as a one-chunk file, are read by both backends and the record ids and event ids are
  compared. The field-level rendering they would add is already exercised by the System files
  and the small files of the same channels (Security, Sysmon, PowerShell ...).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from evtxmpio.ingest.base import IngestIssue, ReadOptions, Source, path_source
from evtxmpio.ingest.evtx_chunks import FILE_HEADER_SIZE, build_file, iter_chunks
from evtxmpio.ingest.evtx_python import read_evtx_python
from evtxmpio.ingest.evtx_rust import read_evtx_rust
from evtxmpio.model import RawRecord
from tests.ingest.conftest import corpus_files, corpus_key

FIELDS = ("record_id", "event_id", "time_ns", "provider", "data", "binary", "qualifiers",
          "level", "channel", "computer", "kind", "corrupted")
CORPUS = corpus_files()
SMALL = 100_000


def _channel(path: Path) -> str:
    """The channel of the file's first record Rust ``evtx`` decodes ("" if none)."""
    import evtx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for record in evtx.PyEvtxParser(str(path), skip_errors=True).records():
                text = record["data"]
                start = text.find("<Channel>")
                return text[start + 9:text.find("</Channel>", start)] if start >= 0 else ""
        except Exception:  # a file evtx cannot open at all: not a System log
            return ""
    return ""


SYSTEM = [path for path in CORPUS if _channel(path) == "System"]
COMPARED = [path for path in CORPUS if path in SYSTEM or path.stat().st_size < SMALL]
SAMPLED = [path for path in CORPUS if path not in COMPARED]


def _read(reader, path: Path | Source) -> tuple[dict[int, RawRecord], list[IngestIssue]]:
    records: dict[int, RawRecord] = {}
    issues: list[IngestIssue] = []
    source = path if isinstance(path, Source) else path_source(path)
    for item in reader(source, ReadOptions()):
        if isinstance(item, RawRecord):
            records[item.source_offset] = item
        else:
            issues.append(item)
    return records, issues


def _plain_evtx_count(path: Path) -> int:
    import evtx

    parser = evtx.PyEvtxParser(io.BytesIO(path.read_bytes()), skip_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sum(1 for _ in parser.records())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_rust_recovers_at_least_plain_evtx(path: Path, references: dict) -> None:
    records, issues = _read(read_evtx_rust, path)
    reference = references[corpus_key(path)]
    assert len(records) >= _plain_evtx_count(path)
    assert len(records) >= reference["readers"]["rs-xml"]["records"]
    assert len(records) >= reference["reference_records"] - sum(i.records_failed for i in issues)


@pytest.mark.parametrize("path", COMPARED, ids=[p.name for p in COMPARED])
def test_backends_give_the_same_records(path: Path, corpus_dir: Path) -> None:
    rust, _ = _read(read_evtx_rust, path)
    python, python_issues = _read(read_evtx_python, path)
    damaged = {i.offset for i in python_issues if i.chunk_damaged}
    for offset, record in python.items():
        other = rust.get(offset)
        if other is None:
            # python-evtx decoded a record of a damaged chunk that evtx gives up on
            chunk = (offset - 4096) // 65536 * 65536 + 4096
            assert chunk in damaged, f"record at {offset} only read by python-evtx"
            continue
        for name in FIELDS:
            assert getattr(record, name) == getattr(other, name), (offset, name)
    # whatever python-evtx fails on, evtx reads; never the other way round on sound chunks
    assert len(rust) >= len(python) - len(damaged)


def _sample_chunks(path: Path) -> list[Source]:
    """The first and last written chunks of ``path``, each as a one-chunk file in memory."""
    data = path.read_bytes()
    written = [chunk for info, chunk in iter_chunks(data) if info.magic_ok]
    picked = written[:1] + written[-1:] if len(written) > 1 else written
    files = [build_file(data[:FILE_HEADER_SIZE], [chunk]) for chunk in picked]
    return [Source(f"{path.name}#{n}", lambda b=blob: io.BytesIO(b), len(blob))
            for n, blob in enumerate(files)]


def _ids(reader, source: Source) -> tuple[dict[int, int | None], bool]:
    records, issues = _read(reader, source)
    return ({r.record_id: r.event_id for r in records.values()},
            any(issue.chunk_damaged for issue in issues))


@pytest.mark.parametrize("path", SAMPLED, ids=[p.name for p in SAMPLED])
def test_backends_agree_on_sampled_chunks(path: Path, corpus_dir: Path) -> None:
    sources = _sample_chunks(path)
    assert sources, "a large file with no written chunk"
    for source in sources:
        rust, _ = _ids(read_evtx_rust, source)
        python, damaged = _ids(read_evtx_python, source)
        assert rust or python, source.name
        if damaged:  # python-evtx may read records of a damaged chunk that evtx gives up on
            python = {k: v for k, v in python.items() if k in rust}
        assert {k: rust.get(k) for k in python} == python, source.name
        assert len(rust) >= len(python), source.name


def test_file_selection(corpus_dir: Path) -> None:
    assert len(SYSTEM) >= 20
    assert set(SYSTEM) <= set(COMPARED)
    assert len(COMPARED) + len(SAMPLED) == len(CORPUS)


def test_chunks_filled_to_their_end_are_sound_for_both_backends(tmp_path: Path) -> None:
    """Chunks whose records end less than a record header before 64 KiB (a replayed storm
    has several): python-evtx read the next header past the chunk's end, and the python
    backend called the chunk damaged. Both backends now read them whole and say nothing."""
    import struct

    from evtxmpio.ingest import ingest_paths
    from tests.test_relevance import _replayed

    _replayed(tmp_path, {"scm-7036": 80, "disk-153": 20}, 3000)
    path = tmp_path / "System-FS01.evtx"
    data = path.read_bytes()
    frees = [struct.unpack_from("<I", data, FILE_HEADER_SIZE + k * 65536 + 48)[0]
             for k in range((len(data) - FILE_HEADER_SIZE) // 65536)]
    assert any(free > 65536 - 24 for free in frees)  # the case under test is there
    results = {backend: ingest_paths([path], backend=backend, dedupe=False)
               for backend in ("python", "rust")}
    for result in results.values():
        (account,) = result.accounts
        assert not account.errors and not result.issues and not account.chunks_damaged
        assert account.records_recovered == 0
    assert [r.record_id for r in results["python"].records] == \
        [r.record_id for r in results["rust"].records]


@pytest.mark.parametrize("layout", ["flat", "windows"])
def test_values_shaped_like_python_evtx_blobs_and_string_arrays_read_alike(
        layout: str, tmp_path: Path) -> None:
    """A value whose own text looks like python-evtx's rendering of a string array is read as
    written, and a real string array (the windows layout's classic events) as one item per
    string, empty ones included, by both backends: the python backend renders an array as
    evtx does, one <Data> per string, not as python-evtx's blob."""
    from evtxmpio.ingest import ingest_paths
    from evtxmpio.replay.events import SystemEvent
    from evtxmpio.replay.evtx_writer import write_evtx

    values = [("<string>x</string>",), ("<string>a</string>\n<string>b</string>\n", "c"),
              ("", "", "tail"), ("one",), ()]
    events = [SystemEvent(time_ns=1_300_000_000_000_000_000 + k * 10**9, record_id=k + 1,
                          provider="disk", event_id=153, level=3, computer="FS01",
                          qualifiers=0x8004, data=data, binary=b"\x01\x02")
              for k, data in enumerate(values)]
    path = tmp_path / "System.evtx"
    write_evtx(path, events, layout=layout)
    for backend in ("python", "rust"):
        result = ingest_paths([path], backend=backend, dedupe=False)
        assert not result.issues
        found = [tuple(value for _, value in record.data) for record in result.records]
        # the windows layout holds no strings as one empty <Data>; flat as no <Data> at all
        assert found == [*values[:4], ("",) if layout == "windows" else ()], backend
