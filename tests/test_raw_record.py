"""``model.raw_record`` (a record built without the frozen ``__init__``) is the record
``RawRecord(...)`` builds: same type, fields, equality, hash, text, pickling, and frozen."""

from __future__ import annotations

import dataclasses
import pickle

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.model import RawRecord, raw_record

_TEXT = st.text(max_size=8)
_NUMBER = st.one_of(st.none(), st.integers())
_VALUES = st.tuples(
    _TEXT, _NUMBER, _TEXT, _NUMBER, _TEXT, _TEXT, _NUMBER, _NUMBER, _NUMBER, _TEXT, _TEXT,
    st.lists(st.tuples(st.one_of(st.none(), _TEXT), _TEXT), max_size=3).map(tuple),
    st.one_of(st.none(), st.binary(max_size=8)), st.one_of(st.none(), _TEXT),
    st.one_of(st.none(), _TEXT), _NUMBER, st.booleans())


@given(_VALUES)
@example(("system:evtx:event", None, "", None, "", "", None, None, None, "", "", (), None, None,
          None, None, False))
@example(("k", 2**70, "p", -1, "f", "r", 0, 0, 0, "c", "h", ((None, "v"),), b"", "m", "t", 0,
          True))
def test_raw_record_is_the_record_the_class_builds(values: tuple[object, ...]) -> None:
    built, fast = RawRecord(*values), raw_record(*values)
    assert type(fast) is RawRecord
    assert fast == built and hash(fast) == hash(built) and repr(fast) == repr(built)
    assert dataclasses.astuple(fast) == values
    assert pickle.loads(pickle.dumps(fast)) == built
    assert dataclasses.replace(fast, kind="other") == dataclasses.replace(built, kind="other")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.kind = "other"  # type: ignore[misc]
