"""Timeline: event frame -> failure episodes and per-disk / per-path state timelines."""

from __future__ import annotations

from evtxmpio.timeline.clock import ClockAlignment, align_trace_clocks
from evtxmpio.timeline.episodes import assign_episodes, event_name
from evtxmpio.timeline.states import CLOCK_SKEW, TIMELINE_COLUMNS, build_timelines

__all__ = ["CLOCK_SKEW", "TIMELINE_COLUMNS", "ClockAlignment", "align_trace_clocks",
           "assign_episodes", "build_timelines", "event_name"]
