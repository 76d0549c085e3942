"""Time arithmetic that saturates at the edge of the 64-bit clock instead of raising.

``datetime64[ns]`` holds 1677-09-21T00:12:43.145224193Z .. 2262-04-11T23:47:16.854775807Z, and
``Timedelta`` at most 292 years. A record from a damaged log may carry any time in that range,
so ``time + window`` past 2262 or the gap between a 1677 and a 2262 record would raise
``OutOfBoundsDatetime``/``OverflowError`` and cost the whole case. Every window, gap and span of
the analysis goes through these functions: a sum past an edge stops at that edge, a difference
past 292 years stops at ``Timedelta`` max, so comparisons keep their meaning ("later than any
window") and nothing raises. Plain Python ints (``time.value``) never overflow.
"""

from __future__ import annotations

import pandas as pd

TIME_MIN_NS = pd.Timestamp.min.value
TIME_MAX_NS = pd.Timestamp.max.value
DELTA_MAX_NS = pd.Timedelta.max.value
DELTA_MIN_NS = pd.Timedelta.min.value


def clamp_time_ns(time_ns: int) -> int:
    """``time_ns`` held inside the range of ``datetime64[ns]``."""
    return min(max(time_ns, TIME_MIN_NS), TIME_MAX_NS)


def shift(time: pd.Timestamp, delta: pd.Timedelta) -> pd.Timestamp:
    """``time + delta``, stopped at the first or last time the clock holds (NaT stays NaT)."""
    if pd.isna(time):
        return time
    return pd.Timestamp(clamp_time_ns(time.value + delta.value), tz=time.tz)


def difference(later: pd.Timestamp, earlier: pd.Timestamp) -> pd.Timedelta:
    """``later - earlier``, stopped at ``Timedelta`` min or max (292 years)."""
    return pd.Timedelta(min(max(later.value - earlier.value, DELTA_MIN_NS), DELTA_MAX_NS))


def seconds_delta(value: float) -> pd.Timedelta:
    """A duration of ``value`` seconds (a rule's window), at most ``Timedelta`` max."""
    if not value < DELTA_MAX_NS / 1e9:
        return pd.Timedelta(DELTA_MAX_NS)
    return pd.Timedelta(seconds=max(value, 0.0))


def shift_all(times: pd.Series, delta: pd.Timedelta) -> pd.Series:
    """``times + delta`` for a datetime series, each stopped at the edge of the clock."""
    edge = pd.Timestamp(TIME_MAX_NS - max(delta.value, 0), tz="UTC")
    start = pd.Timestamp(TIME_MIN_NS - min(delta.value, 0), tz="UTC")
    return times.clip(lower=start, upper=edge) + delta


def within(first: pd.Timestamp, second: pd.Timestamp, tolerance: pd.Timedelta) -> bool:
    """True when the two times are at most ``tolerance`` apart."""
    return abs(first.value - second.value) <= tolerance.value


def near(times: pd.Series, time: pd.Timestamp, tolerance: pd.Timedelta) -> pd.Series:
    """Boolean mask of ``times`` at most ``tolerance`` from ``time`` (saturating bounds)."""
    if pd.isna(time):
        return pd.Series(False, index=times.index)
    return (times >= shift(time, -tolerance)) & (times <= shift(time, tolerance))
