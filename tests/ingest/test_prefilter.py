"""The chunk pre-filter loses no relevant event compared with a full decode (issue 4)."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evtxmpio.ingest import ingest_paths
from evtxmpio.ingest.base import ReadOptions
from evtxmpio.ingest.evtx_chunks import ProviderMatcher, iter_chunks, provider_pattern
from evtxmpio.ingest.limits import Limits
from evtxmpio.ingest.runs import RecordRun
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
    # A dependency where it has wheels (pyproject's marker): missing there is a failure.
    if not (platform.machine() == "x86_64" and sys.platform == "linux"):
        pytest.importorskip("hyperscan", reason="hyperscan has no wheel for this machine")
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


@pytest.mark.parametrize("path", CORPUS + REPLAYED, ids=[p.name for p in CORPUS + REPLAYED])
def test_record_level_skip_equals_full_build(path: Path) -> None:
    """Decoding every chunk but skipping other providers unbuilt: same records, same account."""
    built = ingest_paths([path], keep=is_relevant, backend="rust", dedupe=False)
    skipped = ingest_paths([path], keep=is_relevant, backend="rust", dedupe=False,
                           prefilter_providers=RELEVANT_PROVIDERS, chunk_prefilter=False)
    assert skipped.records == built.records
    assert skipped.accounts[0].to_dict() == built.accounts[0].to_dict()


def _raw(number: int, second: int, layout: str = "empty") -> dict:
    time = f"2020-01-01T00:00:{second:02d}.000000Z"
    # "empty": one empty element; "evtx": as the evtx package renders it; "id-first": an
    # <EventRecordID> before the time (its value is the record's id); "digits": the id in
    # other decimal digits (int() reads them, the run test does not)
    time_element = {"empty": f'<TimeCreated SystemTime="{time}"/>',
                    "id-first": f'<TimeCreated SystemTime="{time}"/>'}.get(
        layout, f'<TimeCreated SystemTime="{time}">\n    </TimeCreated>')
    number_text = "".join(chr(0x660 + int(d)) for d in str(number)) if layout == "digits" \
        else str(number)
    system = f"<EventRecordID>{number_text}</EventRecordID>"
    system = system + time_element + system if layout == "id-first" \
        else time_element + "\n    " + system
    xml = f'<Event><System><Provider Name="Other"/>{system}</System></Event>'
    return {"event_record_id": number, "timestamp": "", "data": xml}


@pytest.mark.parametrize("layout", ["empty", "evtx", "id-first", "digits"])
@pytest.mark.parametrize(("numbers", "times"), [
    ([5, 6, 7, 8], [10, 20, 21, 30]),   # a clean run: handed on as two items
    ([5, 6, 8, 9], [10, 20, 30, 40]),   # a gap inside
    ([5, 6, 7, 8], [10, 30, 20, 40]),   # time going backwards inside
    ([5, 6, 7, 8], [10, 20, 20, 40]),   # two records in the same microsecond
    ([5, 6, 5, 7], [10, 20, 30, 40]),   # id going backwards inside
])
def test_skipped_runs_keep_the_health_ledger_exact(numbers: list[int], times: list[int],
                                                   layout: str) -> None:
    from evtxmpio.ingest.base import FileAccount
    from evtxmpio.ingest.collect import IngestResult, _Run, _take
    from evtxmpio.ingest.evtx_chunks import RecordHeaders
    from evtxmpio.ingest.evtx_runs import skipped_run
    from evtxmpio.ingest.health import HealthLedger

    raws = [_raw(number, second, layout) for number, second in zip(numbers, times, strict=True)]
    # record headers with other numbers and zero times, as in edited logs: the XML counts
    headers = RecordHeaders([], [], [], [])
    expected = HealthLedger()
    for number, second in zip(numbers, times, strict=True):
        expected.observe(number, (1_577_836_800 + second) * 10**9)
    account = FileAccount("f", "evtx")
    items = list(skipped_run("f", 0, raws, headers))
    assert sum(item.count for item in items) == len(numbers)
    for item in items:
        _take(item, account, IngestResult(), _Run(None, ReadOptions(), None, Limits()))
    assert account.health.to_dict() == expected.to_dict()
    clean = (numbers, times) == ([5, 6, 7, 8], [10, 20, 21, 30]) and layout in ("empty", "evtx")
    assert len(items) == (2 if clean else 4)


@pytest.mark.parametrize("id_text", ["42", " 42 ", "0x2A", "0X2a", "\u0664\u0662", "4_2", "+42",
                                     "\u00b2", "\u00b9\u00b2", "4 2", "x", "", "-1"])
def test_a_skipped_record_has_the_id_its_built_record_has(id_text: str) -> None:
    """The health ledger sees the same EventRecordID whether a record is built or skipped;
    a text ``int`` refuses (superscript digits) is no id, not a failed file."""
    from evtxmpio.ingest.event_element import event_to_record, parse_event_xml
    from evtxmpio.ingest.evtx_walk import event_facts

    xml = ('<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>'
           '<Provider Name="Other"/><EventID>1</EventID><TimeCreated SystemTime='
           f'"2020-01-01T00:00:10.000000Z"/><EventRecordID>{id_text}</EventRecordID>'
           '</System></Event>')
    built = event_to_record(parse_event_xml(xml), "f", "evtx-rs", "system:evtx:event", 0)
    assert event_facts(xml, None)[0] == built.record_id


# Records of a provider found in nearly every chunk of a System log, kept: most chunks then
# hold kept records between skipped ones, which is where skipped runs become counts
# (evtx_runs.counted_runs) or, in chunks that are not in order, runs of their own.
_OFTEN = {"service control manager", "microsoft-windows-kernel-general", "eventlog",
          "microsoft-windows-security-auditing", "microsoft-windows-sysmon"}


def _often(record) -> bool:
    return (record.provider or "").lower() in _OFTEN


@pytest.mark.parametrize("build", [False, True], ids=["rendered", "built"])
@pytest.mark.parametrize("path", CORPUS + REPLAYED, ids=[p.name for p in CORPUS + REPLAYED])
def test_kept_records_among_skipped_ones_keep_the_account_exact(
        path: Path, build: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping unbuilt records between kept ones gives the records and the account (health
    ledger included: gaps, ids and times going backwards, first and last time) of building
    every record; and the counted runs are used on the chunks in order, whether the kept
    records are read from ``evtx``'s rendering or built from their binary values."""
    from evtxmpio.catalog.relevance import KEEP_ALL, Relevance
    from evtxmpio.ingest import evtx_binruns, evtx_rust

    chunks = []
    if build:  # a chunk so handed on is one RecordRun, taken whole by ingest
        built_items = evtx_binruns.built_items

        def counting(*args: object) -> Iterator:
            for item in built_items(*args):
                if isinstance(item, RecordRun) and len(item.records) < item.count:
                    chunks.append(1)
                yield item

        monkeypatch.setattr(evtx_rust, "built_items", counting)
    else:
        counted_runs = evtx_rust.counted_runs
        monkeypatch.setattr(evtx_rust, "counted_runs",
                            lambda *args: chunks.append(1) or counted_runs(*args))
    monkeypatch.setattr(evtx_rust, "BUILD_KEPT", build)
    built = ingest_paths([path], keep=_often, backend="rust", dedupe=False)
    skipped = ingest_paths([path], keep=_often, backend="rust", dedupe=False,
                           relevance=Relevance(dict.fromkeys(_OFTEN, KEEP_ALL)),
                           chunk_prefilter=False)
    assert skipped.records == built.records
    assert skipped.accounts[0].to_dict() == built.accounts[0].to_dict()
    if path.name in ("System.evtx", "system.evtx"):
        assert chunks  # the path under test was taken
