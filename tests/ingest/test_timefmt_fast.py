"""The regex-free parse of the time the .evtx backends render equals the general parse."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.ingest.timefmt import _parse_rendered, parse_iso_ns

RENDERED = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))


def _general(text: str) -> int | None:
    return parse_iso_ns(text + " ")  # a trailing blank: never the fast path, same meaning


@given(moment=RENDERED)
@example(moment=dt.datetime(1677, 9, 21, 0, 12, 43, 145224))
@example(moment=dt.datetime(2262, 4, 11, 23, 47, 16, 854775))
@example(moment=dt.datetime(1601, 1, 1))
@example(moment=dt.datetime(999, 1, 1))
@example(moment=dt.datetime(9999, 12, 31, 23, 59, 59, 999999))
def test_rendered_times_take_the_fast_path(moment: dt.datetime) -> None:
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond:06d}Z"
    assert _parse_rendered(text) is not None
    assert parse_iso_ns(text) == _general(text)
    expected = (moment.replace(tzinfo=dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    assert parse_iso_ns(text) == (expected // dt.timedelta(microseconds=1)) * 1000


@given(text=st.text(alphabet="0123456789-T:.Z +٢²_", min_size=27, max_size=27))
@example(text="2011-06-14T00:00:12.788711Z")
@example(text="2011-02-31T24:00:60.000000Z")
@example(text="2011-13-01T00:00:00.000000Z")
@example(text="2011-06-14T00:00:60.000000Z")
@example(text="٢011-06-14T00:00:12.788711Z")
@example(text="+011-06-14T00:00:12.788711Z")
@example(text="2011-06-14T00:00:1_.788711Z")
@example(text="2011-06-14 00:00:12.788711Z")
def test_any_27_characters_parse_as_the_general_path_does(text: str) -> None:
    fast = _parse_rendered(text) if text.endswith("Z") else None
    assert fast is None or fast == _general(text)
    assert parse_iso_ns(text) == _general(text)


def test_remembered_minutes_change_nothing(monkeypatch) -> None:
    """A minute read before (valid or not) gives what a first reading gives, also once the
    memory of minutes is full and starts again."""
    from evtxmpio.ingest import timefmt

    monkeypatch.setattr(timefmt, "MINUTES_KEPT", 3)
    monkeypatch.setattr(timefmt, "_MINUTES", {})
    texts = ["2011-06-14T00:00:12.788711Z", "2011-06-14T00:00:60.000001Z",
             "2011-06-14T00:00:61.000000Z", "2011-06-14T00:00:1x.000000Z",
             "2011-13-14T00:00:12.788711Z", "2011-13-14T00:00:12.788711Z",
             "2011-06-14T00:01:00.000000Z", "2011-06-14T00:02:00.000000Z",
             "2011-06-14T00:00:12.788711Z"]
    for text in texts * 2:
        assert parse_iso_ns(text) == _general(text)
    assert len(timefmt._MINUTES) <= 3
