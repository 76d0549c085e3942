"""The health ledger of one file, fed record by record (``ingest/health.py``)."""

from __future__ import annotations

from evtxmpio.ingest.health import MAX_GAP_RANGES, HealthLedger


def test_ids_and_times_in_order_are_healthy() -> None:
    ledger = HealthLedger()
    for n in range(1, 6):
        ledger.observe(n, 100 + n)
    ledger.observe(6, 105)  # the same time as the record before: not backwards
    facts = (ledger.record_id_gaps, ledger.record_id_backwards, ledger.time_backwards)
    assert facts == (0, 0, 0) and (ledger.first_ns, ledger.last_ns) == (101, 105)


def test_gaps_backward_ids_and_backward_times() -> None:
    ledger = HealthLedger()
    steps = [(10, 500), (11, 400), (15, 600), (15, 700), (12, 100), (None, 50), (13, None),
             (20, 800), (20, 900)]
    for record_id, time_ns in steps:
        ledger.observe(record_id, time_ns)
    assert ledger.record_id_gaps == 2  # 12-14 before 15; 14-19 after 13
    assert ledger.record_id_gap_ranges == [(12, 14), (14, 19)]
    assert ledger.record_id_backwards == 3  # 15 again, 12 after 15, 20 again
    assert ledger.time_backwards == 3  # 400 after 500, 100 after 700, 50 after 100
    assert (ledger.first_ns, ledger.last_ns) == (50, 900)  # earliest and latest, not ends


def test_a_block_skipped_undecoded_is_no_gap() -> None:
    ledger = HealthLedger()
    ledger.observe(1, 1)
    ledger.advance(5)  # ids 2-6
    ledger.observe(7, 2)
    ledger.advance(0)
    ledger.observe(9, 3)
    assert (ledger.record_id_gaps, ledger.record_id_gap_ranges) == (1, [(8, 8)])
    unseen = HealthLedger()
    unseen.advance(3)  # no id seen yet: nothing to expect
    unseen.observe(100, None)
    assert unseen.record_id_gaps == 0 and unseen.first_ns is None


def test_only_the_first_gap_ranges_are_kept() -> None:
    ledger = HealthLedger()
    for n in range(MAX_GAP_RANGES + 3):
        ledger.observe(3 * n, None)
    assert ledger.record_id_gaps == MAX_GAP_RANGES + 2
    assert ledger.record_id_gap_ranges == [(3 * n + 1, 3 * n + 2)
                                           for n in range(MAX_GAP_RANGES)]
