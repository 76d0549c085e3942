"""How ingest takes what a reader yields: records, records skipped unbuilt and problems, with
the same accounts, ledger and records by the quick step and the plain one."""

from __future__ import annotations

import io

import pytest

from evtxmpio.ingest.base import (
    FileAccount,
    IngestIssue,
    ReadOptions,
    SkippedRecords,
    Source,
    skipped_records,
)
from evtxmpio.ingest.collect import IngestResult, _Position, _read_guarded, _Run, _take
from evtxmpio.ingest.dedupe import Deduplicator
from evtxmpio.ingest.limits import Limits
from evtxmpio.ingest.runs import RecordRun, flat_items
from evtxmpio.model import RawRecord

SECOND = 10**9
START = 1_308_009_600 * SECOND  # 2011-06-14T00:00:00Z


def _record(record_id: int | None, second: int | None, provider: str = "Disk",
            value: str = "x") -> RawRecord:
    return RawRecord("system:evtx:event", None if second is None else START + second * SECOND,
                     provider, 153, "f", "evtx-rs", record_id=record_id, channel="System",
                     computer="FS01", data=((None, value),))


def _items() -> list:
    skipped = SkippedRecords
    return [
        _record(1, 0),
        skipped("f", 3, "not-relevant", id_span=3),                    # ids 2-4
        _record(5, 5),
        _record(5, 5),                                                 # duplicate
        _record(6, 4, provider="Other"),                               # not kept; time back
        skipped("f", 1, "not-relevant", record_id=7, time_ns=START + 7 * SECOND),
        skipped("f", 2, "not-relevant", record_id=9, time_ns=START + 9 * SECOND),  # ids 8, 9
        IngestIssue("f", 4096, "evtx.bad-record", "cannot decode", records_failed=2),
        _record(12, 12),                                               # gap 10-11
        skipped("f", 0, "prefiltered", id_span=0),                     # an empty chunk
        skipped("f", 10, "prefiltered", id_span=10),                   # ids 13-22
        _record(23, None),                                             # no time
        _record(24, -(400 * 365 * 86_400)),                            # time impossible
        _record(None, 30, value="y"),
        _record(20, 31, value="z"),                                    # id backwards
        skipped("f", 1, "trace-header"),
        skipped("f", 1, "not-relevant", record_id=21, time_ns=-(2**63)),  # time impossible
    ]


def _keep(record: RawRecord) -> bool:
    return record.provider == "Disk"


def _run(limits: Limits | None = None, progress=None, sink=None) -> _Run:
    return _Run(_keep, ReadOptions(), Deduplicator(), limits or Limits(), progress, sink)


def _take_all(items: list, limits: Limits | None = None
              ) -> tuple[FileAccount, IngestResult]:
    account, result = FileAccount("f", "evtx"), IngestResult()
    _read_guarded(iter(items), account, result, _run(limits))
    return account, result


def _facts(account: FileAccount, result: IngestResult) -> tuple:
    return (account.to_dict(), account.times_impossible, result.records,
            [issue.line() for issue in result.issues])


def test_a_sequence_of_every_kind_of_item_is_counted_exactly() -> None:
    account, result = _take_all(_items())
    assert (account.records_read, account.records_used, account.records_skipped) == (29, 7, 22)
    assert dict(account.skip_reasons) == {"not-relevant": 8, "duplicate": 1, "undecodable": 2,
                                          "prefiltered": 10, "trace-header": 1}
    assert account.duplicates_removed == 1 and account.times_impossible == 1
    assert [r.record_id for r in result.records] == [1, 5, 12, 23, 24, None, 20]
    assert result.records[4].time_ns is None and result.records[4].corrupted
    health = account.health
    assert (health.record_id_gaps, health.record_id_gap_ranges) == (1, [(10, 11)])
    assert (health.record_id_backwards, health.time_backwards) == (2, 1)  # 5 again, 20
    assert (health.first_ns, health.last_ns) == (START, START + 31 * SECOND)
    assert health.chunks_prefiltered == 2


def test_items_taken_one_at_a_time_by_the_plain_step_give_the_same() -> None:
    account, result = FileAccount("f", "evtx"), IngestResult()
    run = _run()
    for item in _items():
        _take(item, account, result, run)
    assert _facts(account, result) == _facts(*_take_all(_items()))


@pytest.mark.parametrize("most", range(8))
def test_the_record_limit_stops_at_the_record_over_it(most: int) -> None:
    account, result = _take_all(_items(), Limits(file_records=most))
    assert len(result.records) == account.records_used == min(most, 7)
    assert account.records_read == account.records_used + account.records_skipped
    assert account.skip_reasons["over-limit"] == (1 if most < 7 else 0)


def test_progress_sees_whole_accounts() -> None:
    seen: list[tuple] = []

    def progress(account: FileAccount, done: int, size: int | None) -> None:
        seen.append((account.records_read, account.records_used, account.records_skipped,
                     sum(account.skip_reasons.values())))

    account, result = FileAccount("f", "evtx"), IngestResult()
    position = _Position(Source("f", open=lambda: io.BytesIO(b""), size=10))
    items = _items() * 5  # the same records again: duplicates
    _read_guarded(iter(items), account, result, _run(progress=progress), position)
    assert len(seen) == 1 + len(items) // 64
    for read, used, skipped, reasons in seen:
        assert read == used + skipped == used + reasons
    # the row without an id is kept each time (one file's identical rows are distinct)
    assert account.records_read == 5 * 29 and account.records_used == 7 + 4
    assert sum(account.skip_reasons.values()) == account.records_skipped


def test_a_reader_that_fails_keeps_the_counts_of_what_came_before() -> None:
    def failing():
        yield from _items()[:6]
        raise OSError("gone")

    account, result = FileAccount("f", "evtx"), IngestResult()
    with pytest.raises(OSError):
        _read_guarded(failing(), account, result, _run())
    assert (account.records_read, account.records_used) == (8, 2)
    assert dict(account.skip_reasons) == {"not-relevant": 5, "duplicate": 1}


def test_the_sink_gets_every_kept_record_once_in_order() -> None:
    batches: list[list[RawRecord]] = []
    records = [_record(n, n) for n in range(200)]
    account, result = FileAccount("f", "evtx"), IngestResult()
    run = _run(sink=batches.append)
    import evtxmpio.ingest.collect as collect

    old = collect.SINK_BATCH
    collect.SINK_BATCH = 50
    try:
        _read_guarded(iter(records), account, result, run)
        collect._hand_on(result, run, 0)
    finally:
        collect.SINK_BATCH = old
    assert [r.record_id for batch in batches for r in batch] == list(range(200))
    assert all(batch for batch in batches) and len({id(batch) for batch in batches}) == len(
        batches)
    assert result.records == []


def _record_run(first_id: int, second: int, count: int, kept: dict[int, tuple[str, str]]
                ) -> RecordRun:
    """A run of ``count`` records, ids from ``first_id``, one a second from ``second``;
    ``kept``: position -> (provider, value) of the records built."""
    def end(k: int) -> SkippedRecords:
        return skipped_records("f", 1, "not-relevant", 100 * k, first_id + k,
                               START + (second + k) * SECOND)

    positions = sorted(kept)
    records = [_record(first_id + k, second + k, *kept[k]) for k in positions]
    return RecordRun(records, positions, count, end(0), end(count - 1), 0,
                     [100 * k for k in range(count)])


def _runs() -> list:
    return [
        _record(1, 50),                                    # later than the next run's start
        _record_run(2, 10, 6, {0: ("Disk", "a"), 3: ("Other", "b"), 5: ("Disk", "c")}),
        _record_run(10, 20, 5, {2: ("Disk", "d")}),        # ids 8-9 missing before it
        _record_run(15, 30, 1, {}),                        # one record, not kept
        _record_run(16, 31, 2, {}),
        _record(2, 10, value="a"),                         # read before, in the first run
        _record_run(20, 40, 4, {1: ("Disk", "e"), 2: ("Disk", "f")}),
        _record_run(20, 40, 4, {1: ("Disk", "e"), 2: ("Disk", "f")}),  # the same run again
        _record_run(30, -(400 * 365 * 86_400), 3, {1: ("Disk", "g")}),  # times impossible
    ]


def test_a_record_run_is_counted_exactly() -> None:
    account, result = _take_all(_runs())
    assert (account.records_read, account.records_used, account.records_skipped) == (27, 7, 20)
    assert dict(account.skip_reasons) == {"not-relevant": 17, "duplicate": 3}
    assert [r.record_id for r in result.records] == [1, 2, 7, 12, 21, 22, 31]
    assert result.records[-1].time_ns is None and account.times_impossible == 1
    health = account.health
    # 8-9 before the second run; 3-19 after record 2 read again; 24-29 before the last run
    assert (health.record_id_gaps, health.record_id_gap_ranges) == (3, [(8, 9), (3, 19),
                                                                        (24, 29)])
    assert (health.record_id_backwards, health.time_backwards) == (2, 3)
    assert (health.first_ns, health.last_ns) == (START + 10 * SECOND, START + 50 * SECOND)


@pytest.mark.parametrize("most", [None, *range(9)])
def test_a_record_run_taken_whole_gives_what_its_items_give(
        most: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole (ledger told of its ends and the span between) or one item at a time, the same
    account, ledger and records; a record limit inside a run, or a time the case cannot hold,
    has it taken item by item."""
    limits = Limits(file_records=most) if most is not None else None
    one_by_one = _facts(*_take_all(list(flat_items(_runs())), limits))
    expanded: list[int] = []
    items = RecordRun.items
    monkeypatch.setattr(RecordRun, "items", lambda run: expanded.append(run.count) or items(run))
    assert _facts(*_take_all(_runs(), limits)) == one_by_one
    if most is None:
        assert expanded == [3]  # only the run whose times are impossible
