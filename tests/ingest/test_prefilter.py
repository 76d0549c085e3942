"""The chunk pre-filter loses no relevant event compared with a full decode (issue 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio.ingest import ingest_paths
from evtxmpio.ingest.evtx_chunks import ProviderMatcher, iter_chunks, provider_pattern
from evtxmpio.normalize.providers import RELEVANT_PROVIDERS, is_relevant
from tests.ingest.conftest import corpus_files

CORPUS = corpus_files()
REPLAYED = sorted((Path(__file__).resolve().parents[2] / "samples").glob("*/*.evtx"))


def _relevant(path: Path, backend: str, prefilter: bool):
    return ingest_paths([path], keep=is_relevant, backend=backend, dedupe=False,
                        prefilter_providers=RELEVANT_PROVIDERS if prefilter else None)


def _key(record):
    return (record.source_offset, record.record_id, record.provider, record.event_id,
            record.time_ns, record.data, record.binary)


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_prefilter_is_lossless_rust(path: Path, corpus_dir: Path) -> None:
    full = _relevant(path, "rust", prefilter=False)
    filtered = _relevant(path, "rust", prefilter=True)
    assert [_key(r) for r in filtered.records] == [_key(r) for r in full.records]
    [account_full], [account] = full.accounts, filtered.accounts
    # skipped chunks are counted from their headers: the totals are the same
    assert account.records_read == account_full.records_read
    assert account.records_read == account.records_used + account.records_skipped
    assert account.records_used == account_full.records_used


def test_prefilter_skips_chunks_on_a_system_log(corpus_dir: Path) -> None:
    path = corpus_dir / "evtx" / "log2timeline__plaso" / "System.evtx"
    [account] = _relevant(path, "rust", prefilter=True).accounts
    assert account.skip_reasons["prefiltered"] > 0
    assert account.health.chunks_prefiltered > 0


def test_prefilter_is_lossless_python(corpus_dir: Path) -> None:
    path = corpus_dir / "evtx" / "omerbenamram__evtx" / "system.evtx"
    full = _relevant(path, "python", prefilter=False)
    filtered = _relevant(path, "python", prefilter=True)
    assert [_key(r) for r in filtered.records] == [_key(r) for r in full.records]
    assert filtered.accounts[0].records_read == full.accounts[0].records_read


def _hyperscan_matcher(names):
    pytest.importorskip("hyperscan", reason="hyperscan is not installed on this machine")
    return ProviderMatcher(names, engine="hyperscan")


@pytest.mark.parametrize("make", [provider_pattern, lambda names: ProviderMatcher(names, "python"),
                                  _hyperscan_matcher], ids=["regex", "python", "hyperscan"])
def test_provider_matching_is_case_insensitive_utf16(make) -> None:
    pattern = make(["mpio", "Application Popup", "Überwachung"])
    assert pattern.search("xx MPIO yy".encode("utf-16-le"))
    assert pattern.search("application POPUP".encode("utf-16-le"))
    assert pattern.search("ÜBERWACHUNG".encode("utf-16-le"))
    assert not pattern.search(b"mpio")
    assert not pattern.search("disk".encode("utf-16-le"))


def test_every_record_provider_is_in_its_chunk(corpus_dir: Path) -> None:
    """The measured fact the pre-filter rests on, on the System logs of the corpus."""
    from evtxmpio.ingest.base import ReadOptions, path_source
    from evtxmpio.ingest.evtx_rust import read_evtx_rust
    from evtxmpio.model import RawRecord

    for path in CORPUS:
        data = path.read_bytes()
        chunks = {info.offset: chunk for info, chunk in iter_chunks(data)}
        for record in read_evtx_rust(path_source(path), ReadOptions()):
            if not isinstance(record, RawRecord) or record.channel != "System":
                continue
            chunk = chunks[(record.source_offset - 4096) // 65536 * 65536 + 4096]
            assert provider_pattern([record.provider]).search(chunk), record


def _matching_chunks(matcher: ProviderMatcher, data: bytes) -> list[int]:
    return [info.index for info, chunk in iter_chunks(data) if matcher.search(chunk)]


def test_matcher_engines_pick_the_same_chunks(corpus_dir: Path) -> None:
    """Hyperscan and the pure-Python matcher: identical chunk sets, corpus and replayed logs."""
    fast = _hyperscan_matcher(RELEVANT_PROVIDERS)
    slow = ProviderMatcher(RELEVANT_PROVIDERS, engine="python")
    assert REPLAYED
    matched = 0
    for path in CORPUS + REPLAYED:
        data = path.read_bytes()
        chunks = _matching_chunks(slow, data)
        assert _matching_chunks(fast, data) == chunks, path
        matched += len(chunks)
    assert matched > 0


@pytest.mark.parametrize("path", REPLAYED, ids=[p.parent.name for p in REPLAYED])
def test_prefilter_is_lossless_on_replayed_logs(path: Path) -> None:
    full = _relevant(path, "rust", prefilter=False)
    filtered = _relevant(path, "rust", prefilter=True)
    assert [_key(r) for r in filtered.records] == [_key(r) for r in full.records]
    assert filtered.accounts[0].records_read == full.accounts[0].records_read
