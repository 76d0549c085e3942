"""Timeline: event frame -> the analysis frame (failure episodes, paths left per event) and
per-disk / per-path state timelines."""

from __future__ import annotations

from evtxmpio.timeline.clock import ClockAlignment, align_trace_clocks
from evtxmpio.timeline.episodes import analysis_frame, assign_episodes
from evtxmpio.timeline.states import CLOCK_SKEW, TIMELINE_COLUMNS, build_timelines

__all__ = ["CLOCK_SKEW", "TIMELINE_COLUMNS", "ClockAlignment", "align_trace_clocks",
           "analysis_frame", "assign_episodes", "build_timelines"]
