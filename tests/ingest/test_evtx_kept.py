"""Kept records' EventData items built a column at a time equal those built one record at a
time (``evtx_kept._Group``), string arrays included: the column-wise path must not change a
value, only its cost. The one-by-one path is the one checked against ``evtx``'s rendering
(``test_evtx_build.py``)."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.ingest.evtx_build import STRING_ARRAY, RecordBuilder
from evtxmpio.ingest.evtx_kept import _Group
from evtxmpio.ingest.evtx_templates import STRING, TemplateCache

GUID = "0d9ffb2c-6f0e-4c52-9f6c-3c7c1a4a7b11"
TEXTS = st.sampled_from(["", "Disk", "\\Device\\Harddisk1\\DR1", "  \n  ", "a\nb", GUID,
                         GUID.upper(), "<string>x</string>", "a\x01b", "]]>", "x\ry",
                         "é€𝄞", "&<>\"'", "\u202eevil", "\ud800"])


def _group(rows: list[tuple[list[str], str]]) -> _Group:
    """Records of a string array value (index 0) and a string value (index 1)."""
    blob = bytearray()
    starts, sizes = [], []
    for strings, text in rows:
        array = b"".join(s.encode("utf-16le", "surrogatepass") + b"\x00\x00" for s in strings)
        value = text.encode("utf-16le", "surrogatepass")
        starts.append([len(blob), len(blob) + len(array)])
        sizes.append([len(array), len(value)])
        blob += array + value
    return _Group(RecordBuilder(TemplateCache()), bytes(blob) + bytes(8),
                  np.array(starts, np.int64), np.array(sizes, np.int64))


def _one_by_one(group: _Group, plan: tuple) -> list:
    columns = [([text or None for text in group.texts(name)] if name is not None
                else [None] * group.count, group.texts(value), value[1] == STRING_ARRAY)
               for name, value in plan]
    return group._items_one_by_one(columns)


PLANS = [
    ((None, (0, STRING_ARRAY)),),
    ((("text", "Name"), (0, STRING_ARRAY)), (("text", "Other"), (1, STRING))),
    ((None, (1, STRING)), (None, (0, STRING_ARRAY))),
    ((None, (1, STRING)),),
]


@given(st.lists(st.tuples(st.lists(TEXTS, max_size=4), TEXTS), min_size=1, max_size=12),
       st.sampled_from(range(len(PLANS))))
@example([([], "")], 0)  # an empty array: one empty <Data>
@example([(["a", "b"], "c"), (["d"], "e")], 1)  # arrays of varying size
@example([(["a", "b"], "c"), (["d", "e"], "f")], 1)  # of one size: a column per string
@example([(["a", "b"], "c"), (["d", "e"], "f")], 2)
@example([(["a", "\ud800"], "c"), (["d", "e"], "f")], 0)  # undecodable: one by one
@example([(["  \n  ", GUID], GUID)], 2)  # values made canonical
@example([(["<string>x</string>"], "x")], 0)  # python-evtx's blob shape: one by one
@example([(["a\x01b"], "x"), (["ok"], "y")], 0)  # a control character: refused
def test_items_column_wise_equal_items_one_by_one(rows: list, plan_no: int) -> None:
    group, plan = _group(rows), PLANS[plan_no]
    assert group.items(plan) == _one_by_one(group, plan)
