"""Time arithmetic at the edge of the 64-bit clock saturates instead of raising."""

from __future__ import annotations

import pandas as pd
import pytest

from evtxmpio.timearith import difference, near, seconds_delta, shift, shift_all, within

LAST = pd.Timestamp("2262-04-11T23:47:16.854775807Z")
FIRST = pd.Timestamp("1677-09-21T00:12:43.145224193Z")
MINUTE = pd.Timedelta(minutes=1)


def test_shift_stops_at_the_edges() -> None:
    assert shift(LAST, MINUTE) == LAST
    assert shift(FIRST, -MINUTE) == FIRST
    assert shift(LAST, -MINUTE) == pd.Timestamp("2262-04-11T23:46:16.854775807Z")
    assert pd.isna(shift(pd.NaT, MINUTE))


def test_difference_stops_at_292_years() -> None:
    assert difference(LAST, FIRST) == pd.Timedelta.max
    assert difference(FIRST, LAST) == pd.Timedelta.min
    assert difference(LAST, shift(LAST, -MINUTE)) == MINUTE
    assert not within(LAST, FIRST, MINUTE)
    assert within(LAST, pd.Timestamp("2262-04-11T23:46:16.854775807Z"), MINUTE)


@pytest.mark.parametrize(("seconds", "expected"), [
    (60.0, MINUTE), (1e12, pd.Timedelta.max), (float("inf"), pd.Timedelta.max),
    (float("nan"), pd.Timedelta.max), (-5.0, pd.Timedelta(0))])
def test_a_rule_window_of_any_size_is_a_duration(seconds: float, expected: pd.Timedelta
                                                 ) -> None:
    assert seconds_delta(seconds) == expected


def test_series_shift_and_near_saturate() -> None:
    times = pd.Series([FIRST, LAST, pd.NaT, pd.Timestamp("2011-06-14T07:00:00Z")])
    shifted = shift_all(times, MINUTE)
    assert list(shifted.iloc[[1, 3]]) == [LAST, pd.Timestamp("2011-06-14T07:01:00Z")]
    assert pd.isna(shifted.iloc[2])
    assert list(shift_all(times, -MINUTE).iloc[[0]]) == [FIRST]
    assert list(near(times, LAST, MINUTE)) == [False, True, False, False]
    assert list(near(times, pd.NaT, MINUTE)) == [False] * 4
