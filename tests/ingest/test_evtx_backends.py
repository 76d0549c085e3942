"""Both .evtx backends on the real corpus: same records, and at least what plain evtx reads.

The python backend runs at ~400 records/s, so the equality test covers every System-channel
file of the corpus plus every file under 100 KB (the rest differ only in being big); the Rust
backend's counts are checked on every file.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

from evtxmpio.ingest.base import IngestIssue, ReadOptions, path_source
from evtxmpio.ingest.evtx import read_evtx_python
from evtxmpio.ingest.evtx_rust import read_evtx_rust
from evtxmpio.model import RawRecord
from tests.ingest.conftest import corpus_files, corpus_key

FIELDS = ("record_id", "event_id", "time_ns", "provider", "data", "binary", "qualifiers",
          "level", "channel", "computer", "kind", "corrupted")
CORPUS = corpus_files()


def _read(reader, path: Path) -> tuple[dict[int, RawRecord], list[IngestIssue]]:
    records: dict[int, RawRecord] = {}
    issues: list[IngestIssue] = []
    for item in reader(path_source(path), ReadOptions()):
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


def _is_system(path: Path) -> bool:
    records, _ = _read(read_evtx_rust, path)
    return any(record.channel == "System" for record in records.values())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_rust_recovers_at_least_plain_evtx(path: Path, references: dict) -> None:
    records, issues = _read(read_evtx_rust, path)
    reference = references[corpus_key(path)]
    assert len(records) >= _plain_evtx_count(path)
    assert len(records) >= reference["readers"]["rs-xml"]["records"]
    assert len(records) >= reference["reference_records"] - sum(i.records_failed for i in issues)


def _comparable(path: Path) -> bool:
    return path.stat().st_size < 100_000 or _is_system(path)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_backends_give_the_same_records(path: Path, corpus_dir: Path) -> None:
    if not _comparable(path):
        pytest.skip("large non-System file: python-evtx too slow for the suite (see module)")
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


def test_system_files_are_compared(corpus_dir: Path) -> None:
    systems = [path for path in CORPUS if _is_system(path)]
    assert len(systems) >= 20
