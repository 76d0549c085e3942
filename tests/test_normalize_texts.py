"""The ``message`` and ``data`` columns written by pyarrow a batch at a time
(``normalize.texts.event_texts``) equal the texts written record by record
(``normalize.messages.texts_of``, whose parts ``test_event_columns`` holds to ``json.dumps`` and
``catalog.fill_template``): JSON escapes, control characters, named and unnamed inserts, more
than 64 inserts, exported messages, templates with braces, texts pyarrow cannot hold."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.model import RawRecord
from evtxmpio.normalize.messages import texts_of
from evtxmpio.normalize.texts import event_texts

EVENTS = [("disk", 153), ("disk", 7), ("Ntfs", 50), ("Application Popup", 26),
          ("Service Control Manager", 7040), ("EventLog", 6005), ("mpio", 2), ("nobody", 1)]
_VALUES = st.text(alphabet=st.sampled_from(list('ab\\"{}%1 \x00\x1f\n\té\u2028')), max_size=8)
_NAMES = st.one_of(st.none(), st.just(""), st.sampled_from(["Name", "1"]))


def _record(event: tuple[str, int], data: tuple, message: str | None = None) -> RawRecord:
    return RawRecord("system:evtx:event", 1, event[0], event[1], "f", "test", data=data,
                     message=message)


def _same_texts(records: list[RawRecord]) -> None:
    messages, data = event_texts(records, [r.provider for r in records],
                                 [r.event_id for r in records])
    expected = texts_of(records)
    got = ([None if value is pd.NA else value for value in messages],
           [None if value is pd.NA else value for value in data])
    assert got == (list(expected[0]), list(expected[1]))


_RECORDS = st.lists(st.builds(
    _record, st.sampled_from(EVENTS),
    st.lists(st.tuples(_NAMES, _VALUES), max_size=5).map(tuple),
    st.one_of(st.none(), st.just(""), st.just("exported text"))), max_size=12)


@given(_RECORDS)
@example([_record(("disk", 153), ((None, "\\Device\\Harddisk2\\DR2"), (None, "0x1"),
                                  (None, "2")))] * 3)
@example([_record(("Ntfs", 50), ((None, 'C:'), (None, 'a "b"\n')), "exported")])
@example([_record(("disk", 153), ((None, "x"),) * 65), _record(("disk", 153), ())])
@example([_record(("disk", 7), (("Name", "x"), (None, "y")))])
@example([_record(("disk", 7), ((None, text),)) for text in  # control characters and others
          ("\x00", "a\x1f", "\x20", "\x7f", "\x80", "é\u2028", "\\\"", "")])
@example([])
def test_texts_by_column_equal_texts_by_record(records: list[RawRecord]) -> None:
    _same_texts(records)


def test_texts_pyarrow_cannot_hold_are_written_by_record() -> None:
    """An insert that is not text, or not UTF-8 (a lone surrogate): the batch by record."""
    for value in (7, "a\ud800"):
        records = [_record(("disk", 7), ((None, "ok"),)), _record(("disk", 7), ((None, value),))]
        _same_texts(records)
    assert texts_of([_record(("disk", 7), ((None, 7),))])[1] == [json.dumps({"1": 7})]
