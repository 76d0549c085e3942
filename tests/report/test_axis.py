"""The broken time axis: linear for a burst, cut quiet gaps for days."""

from __future__ import annotations

import itertools

from evtxmpio.report.axis import (
    BREAK_PX,
    DAY,
    MAX_BREAKS,
    MIN_TICK_PX,
    MINUTE,
    SECOND,
    build_axis,
    tick_step,
)

T0 = 1_307_000_000 * SECOND


def test_a_few_minutes_stay_one_linear_axis() -> None:
    axis = build_axis([T0, T0 + 2 * MINUTE, T0 + 4 * MINUTE], 0, 1000)
    assert axis is not None and not axis.breaks and len(axis.segments) == 1
    assert axis.x(T0) < axis.x(T0 + 2 * MINUTE) < axis.x(T0 + 4 * MINUTE)
    middle = axis.x(T0 + 2 * MINUTE)
    assert abs(middle - 500) < 5  # linear
    ticks = axis.ticks()
    assert len(ticks) >= 4
    assert all(b.x - a.x >= MIN_TICK_PX - 0.1 for a, b in itertools.pairwise(ticks))


def test_days_of_bursts_cut_the_quiet_gaps() -> None:
    times = [T0 + day * DAY + s * SECOND for day in range(4) for s in range(0, 30, 3)]
    axis = build_axis(times, 100, 1000)
    assert axis is not None and len(axis.breaks) == 3
    assert axis.breaks[0].label == "23 h 59 min"
    for cut in axis.breaks:
        assert abs(cut.x1 - cut.x0 - BREAK_PX) < 0.2
    xs = [axis.x(t) for t in sorted(times)]
    assert xs == sorted(xs) and xs[0] >= 100 and xs[-1] <= 1100
    # each 27 s burst gets a readable share of the width, not a sliver
    assert axis.x(T0 + 27 * SECOND) - axis.x(T0) > 150
    labels = [t.label for t in axis.ticks()]
    assert any(label.startswith("06-") for label in labels)  # dates shown on a day change


def test_breaks_are_bounded() -> None:
    times = [T0 + n * 30 * MINUTE for n in range(60)]
    axis = build_axis(times, 0, 1000)
    assert axis is not None and len(axis.breaks) <= MAX_BREAKS


def test_single_event_and_empty() -> None:
    assert build_axis([], 0, 100) is None
    axis = build_axis([T0], 0, 100)
    assert axis is not None and 0 < axis.x(T0) < 100


def test_tick_step_is_round_and_spaced() -> None:
    assert tick_step(60 * SECOND, 1000) == 10 * SECOND
    assert tick_step(3 * DAY, 1000) >= 6 * 3600 * SECOND
