"""A time axis with breaks: long quiet gaps are cut out so bursts stay readable.

Decision (docs/report.md): the axis is linear inside *segments* of activity and compressed
across quiet gaps. A gap between consecutive event times is cut when it is longer than
``QUIET_GAP`` (5 minutes); at most ``MAX_BREAKS`` gaps are cut, the longest first, so a case of
a few seconds stays one linear axis and a case spread over days shows each burst with its own
readable scale. Every segment gets at least ``MIN_SEGMENT_PX`` and the rest of the width in
proportion to its duration; each break is drawn ``BREAK_PX`` wide with the length of the cut
gap as its label. Tick spacing is picked per segment from a list of round steps (1 ms .. 7 d)
so that ticks are at least ``MIN_TICK_PX`` apart. Pure geometry: no HTML here.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime

from evtxmpio.timearith import TIME_MAX_NS, TIME_MIN_NS

NS = 1
MS = 1_000_000
SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
QUIET_GAP = 5 * MINUTE
MAX_BREAKS = 10
BREAK_PX = 22.0
MIN_SEGMENT_PX = 64.0
MIN_TICK_PX = 96.0
NICE_STEPS = (1 * MS, 2 * MS, 5 * MS, 10 * MS, 20 * MS, 50 * MS, 100 * MS, 200 * MS, 500 * MS,
              SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE,
              2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR,
              3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY)


@dataclass(frozen=True, slots=True)
class Segment:
    """A linear stretch of the axis: ``start_ns..end_ns`` drawn at ``x0..x1``."""

    start_ns: int
    end_ns: int
    x0: float
    x1: float


@dataclass(frozen=True, slots=True)
class Tick:
    """A tick mark at ``x``; ``label`` is the time, ``date`` the day where it starts a segment."""

    x: float
    label: str


@dataclass(frozen=True, slots=True)
class AxisBreak:
    """A cut quiet gap drawn between ``x0`` and ``x1``; ``label`` is its length."""

    x0: float
    x1: float
    label: str


@dataclass(frozen=True, slots=True)
class TimeAxis:
    """Segments and breaks in drawing order; :meth:`x` maps a time to a position."""

    segments: tuple[Segment, ...]
    breaks: tuple[AxisBreak, ...]

    @property
    def start_ns(self) -> int:
        """First time on the axis."""
        return self.segments[0].start_ns

    @property
    def end_ns(self) -> int:
        """Last time on the axis."""
        return self.segments[-1].end_ns

    def x(self, time_ns: int) -> float:
        """The position of ``time_ns``: linear in segments, compressed across breaks."""
        segments = self.segments
        index = bisect_right([s.start_ns for s in segments], time_ns) - 1
        if index < 0:
            return segments[0].x0
        segment = segments[index]
        if time_ns <= segment.end_ns:
            return _lerp(time_ns, segment.start_ns, segment.end_ns, segment.x0, segment.x1)
        if index + 1 == len(segments):
            return segment.x1
        following = segments[index + 1]
        return _lerp(time_ns, segment.end_ns, following.start_ns, segment.x1, following.x0)

    def ticks(self) -> list[Tick]:
        """Round-valued ticks of every segment, at least ``MIN_TICK_PX`` apart everywhere.

        The first tick of each day shown carries the date, so a reader of a multi-day case
        always knows which day a time belongs to.
        """
        ticks: list[Tick] = []
        last_x = float("-inf")
        last_day = None
        for segment in self.segments:
            step = tick_step(segment.end_ns - segment.start_ns, segment.x1 - segment.x0)
            first = -(-segment.start_ns // step) * step
            for time_ns in range(first, segment.end_ns + 1, step):
                x = self.x(time_ns)
                if x - last_x < MIN_TICK_PX:
                    continue
                day = time_ns // DAY
                ticks.append(Tick(round(x, 1), time_label(time_ns, step, day != last_day)))
                last_x, last_day = x, day
        return ticks


def _lerp(value: int, v0: int, v1: int, x0: float, x1: float) -> float:
    if v1 == v0:
        return x0
    return x0 + (x1 - x0) * (value - v0) / (v1 - v0)


def tick_step(duration_ns: int, width_px: float) -> int:
    """The smallest round step that keeps ticks ``MIN_TICK_PX`` apart."""
    for step in NICE_STEPS:
        if duration_ns / step * MIN_TICK_PX <= width_px:
            return step
    return NICE_STEPS[-1]


def time_label(time_ns: int, step: int, with_date: bool = False) -> str:
    """A tick label as precise as the step needs (UTC); ``with_date`` prefixes ``MM-DD``."""
    moment = datetime.fromtimestamp(time_ns // SECOND, tz=UTC)
    if step >= DAY:
        return moment.strftime("%Y-%m-%d")
    date = moment.strftime("%m-%d ") if with_date else ""
    if step >= MINUTE:
        return date + moment.strftime("%H:%M")
    if step >= SECOND:
        return date + moment.strftime("%H:%M:%S")
    return f"{date}{moment.strftime('%H:%M:%S')}.{time_ns % SECOND // MS:03d}"


def duration_text(duration_ns: int) -> str:
    """``3 d 4 h``, ``49 min``, ``12 s``: the length of a cut gap."""
    if duration_ns >= DAY:
        days, rest = divmod(duration_ns, DAY)
        return f"{days} d {rest // HOUR} h" if rest >= HOUR else f"{days} d"
    if duration_ns >= HOUR:
        hours, rest = divmod(duration_ns, HOUR)
        return f"{hours} h {rest // MINUTE} min" if rest >= MINUTE else f"{hours} h"
    if duration_ns >= MINUTE:
        return f"{duration_ns // MINUTE} min"
    return f"{duration_ns // SECOND} s"


def build_axis(times_ns: list[int], x0: float, width: float) -> TimeAxis | None:
    """An axis over ``times_ns`` drawn from ``x0`` over ``width`` pixels (``None`` if empty)."""
    times = sorted(set(times_ns))
    if not times:
        return None
    gaps = sorted(((times[i + 1] - times[i], i) for i in range(len(times) - 1)
                   if times[i + 1] - times[i] > QUIET_GAP), reverse=True)[:MAX_BREAKS]
    cuts = sorted(i for _, i in gaps)
    bounds: list[tuple[int, int]] = []
    first = 0
    for cut in cuts:
        bounds.append((times[first], times[cut]))
        first = cut + 1
    bounds.append((times[first], times[-1]))
    padded = [_pad(start, end) for start, end in bounds]
    return _layout(padded, x0, width)


def _pad(start: int, end: int) -> tuple[int, int]:
    # Never more than a quarter of the shortest cut gap: padded segments cannot overlap.
    pad = min(max((end - start) // 25, SECOND), QUIET_GAP // 4)
    return max(start - pad, TIME_MIN_NS), min(end + pad, TIME_MAX_NS)


def _layout(bounds: list[tuple[int, int]], x0: float, width: float) -> TimeAxis:
    spare = width - BREAK_PX * (len(bounds) - 1) - MIN_SEGMENT_PX * len(bounds)
    total = sum(end - start for start, end in bounds)
    segments: list[Segment] = []
    breaks: list[AxisBreak] = []
    x = x0
    for number, (start, end) in enumerate(bounds):
        if number:
            gap = start - bounds[number - 1][1]
            breaks.append(AxisBreak(round(x, 1), round(x + BREAK_PX, 1), duration_text(gap)))
            x += BREAK_PX
        seg_width = MIN_SEGMENT_PX + max(spare, 0.0) * (end - start) / total
        segments.append(Segment(start, end, x, x + seg_width))
        x += seg_width
    return TimeAxis(tuple(segments), tuple(breaks))
