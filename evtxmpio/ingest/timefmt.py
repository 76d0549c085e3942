"""Timestamps of every input format to Unix-epoch nanoseconds, UTC, at full precision.

Accepted (domain reference section 1.4 and 7): ``2011-06-14T07:47:10.402113200Z``,
``...T..:..:..(.f{0,9})?(Z|+hh:mm|-hh:mm)`` and python-evtx's ``2012-03-14 04:17:38.276340+00:00``,
a trailing `` UTC`` (Rust evtx), and FILETIME integers. Pure integer arithmetic, no floats.
"""

from __future__ import annotations

import calendar
import functools
import re

from evtxmpio.catalog import filetime_to_ns

__all__ = ["filetime_to_ns", "format_ns", "parse_iso_ns"]

_ISO = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9})\d*)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?(?:\s*UTC)?\s*$"
)


def parse_iso_ns(text: str, default_offset_minutes: int | None = 0) -> int | None:
    """Parse an ISO-8601-like timestamp to Unix-epoch ns UTC.

    Args:
        text: the timestamp text.
        default_offset_minutes: offset applied when the text carries no zone (UTC by default);
            ``None`` makes zone-less text unparseable.

    Returns:
        nanoseconds since 1970-01-01 UTC, or ``None`` if the text is not a timestamp.
    """
    if len(text) == 27 and text[26] == "Z":
        fast = _parse_rendered(text)
        if fast is not None:
            return fast
    match = _ISO.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    offset = _zone_minutes(zone, default_offset_minutes)
    if offset is None:
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    return (seconds - offset * 60) * 1_000_000_000 + nanos


def _parse_rendered(text: str) -> int | None:
    """``2011-06-14T00:00:12.788711Z`` (what the .evtx backends render for every record), or
    ``None`` for any other text; the same value as the general path, without a regex. The
    minute (``2011-06-14T00:00``) is read once and remembered: a log's records share few."""
    if text[16] != ":" or text[19] != ".":
        return None
    tail = text[17:19] + text[20:26]
    if not (tail.isascii() and tail.isdigit()):
        return None
    second = int(text[17:19])
    if second >= 61:
        return None
    prefix = text[:16]
    minute = _MINUTES.get(prefix, _UNSEEN)
    if minute is _UNSEEN:
        if len(_MINUTES) >= MINUTES_KEPT:
            _MINUTES.clear()
        minute = _MINUTES[prefix] = _minute_start(prefix)
    if minute is None:
        return None
    return (minute + second) * 1_000_000_000 + int(text[20:26]) * 1000


_UNSEEN = object()
MINUTES_KEPT = 4096
_MINUTES: dict[str, int | None] = {}  # "2011-06-14T00:00" -> its Unix second, or None


def _minute_start(prefix: str) -> int | None:
    """Unix seconds at the start of ``YYYY-MM-DDTHH:MM``, or ``None`` when it is not one."""
    if prefix[4] != "-" or prefix[7] != "-" or prefix[10] != "T" or prefix[13] != ":":
        return None
    digits = prefix[:4] + prefix[5:7] + prefix[8:10] + prefix[11:13] + prefix[14:16]
    if not (digits.isascii() and digits.isdigit()):
        return None
    month, day, hour, minute = int(prefix[5:7]), int(prefix[8:10]), int(prefix[11:13]), \
        int(prefix[14:16])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60):
        return None
    return _day_start(int(prefix[:4]), month, day) + hour * 3600 + minute * 60


@functools.lru_cache(maxsize=4096)
def _day_start(year: int, month: int, day: int) -> int:
    return calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0))


def _zone_minutes(zone: str | None, default: int | None) -> int | None:
    if zone is None:
        return default
    if zone == "Z":
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


def format_ns(time_ns: int) -> str:
    """Unix-epoch ns as ISO-8601 UTC with 7 fractional digits and ``Z`` (Windows' precision)."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    import time as _time

    base = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(seconds))
    return f"{base}.{nanos // 100:07d}Z"
