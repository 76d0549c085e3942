"""A .evtx read in parts on several processes gives exactly the sequential read (issue 13)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evtxmpio.catalog.relevance import relevance
from evtxmpio.ingest import evtx_parts, ingest_paths
from evtxmpio.ingest.evtx_parts import plan_parts
from evtxmpio.normalize.providers import is_relevant
from tests.ingest.conftest import corpus_files

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*/*.evtx"))
FILES = corpus_files() + SAMPLES


def _read(path: Path, jobs: int, pick: bool):
    result = ingest_paths([path], keep=is_relevant if pick else None, backend="rust",
                          relevance=relevance() if pick else None, dedupe=False, jobs=jobs)
    return result.records, result.issues, [
        (a.records_read, a.records_used, a.records_skipped, dict(a.skip_reasons), a.errors,
         a.truncated, a.health) for a in result.accounts]


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of one chunk slot, so that every corpus file is cut at every part boundary."""
    monkeypatch.setattr(evtx_parts, "MIN_PART_CHUNKS", 1)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
@pytest.mark.parametrize("pick", [True, False], ids=["relevant", "all-events"])
def test_parts_read_what_one_read_reads(path: Path, pick: bool, small_parts: None) -> None:
    assert _read(path, 3, pick) == _read(path, 1, pick)


def test_a_helper_that_dies_costs_nothing(small_parts: None, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    path = next(p for p in SAMPLES if p.stat().st_size > 3 * 65536)
    expected = _read(path, 1, True)

    def dying(*_args) -> None:
        os._exit(9)

    monkeypatch.setattr(evtx_parts, "_read_part", dying)
    assert _read(path, 2, True) == expected


def test_no_helper_process_costs_nothing(small_parts: None, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    path = next(p for p in SAMPLES if p.stat().st_size > 3 * 65536)
    expected = _read(path, 1, True)
    monkeypatch.setattr(evtx_parts.multiprocessing, "current_process",
                        lambda: type("Daemon", (), {"daemon": True})())
    assert _read(path, 2, True) == expected


@pytest.mark.parametrize(("size", "jobs", "parts"), [
    (4096, 2, [(0, None)]),
    (4096 + 64 * 65536, 2, [(0, None)]),
    (4096 + 128 * 65536, 2, [(0, 64), (64, None)]),
    (4096 + 129 * 65536 - 100, 2, [(0, 64), (64, None)]),
    (4096 + 1000 * 65536, 3, [(0, 333), (333, 666), (666, None)]),
    (None, 2, [(0, None)]),
])
def test_parts_cover_every_slot_once(size, jobs, parts) -> None:
    assert plan_parts(size, jobs) == parts


def test_helpers_really_read_parts(small_parts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above are not vacuous: parts are read by other processes."""
    path = next(p for p in SAMPLES if p.stat().st_size > 3 * 65536)
    received: list[int] = []
    collect = evtx_parts._collect

    def spy(helper):
        items = collect(helper)
        received.append(os.getpid() if items is None else len(items))
        return items

    monkeypatch.setattr(evtx_parts, "_collect", spy)
    _read(path, 3, False)
    assert len(received) == 2 and all(count > 0 and count != os.getpid() for count in received)
