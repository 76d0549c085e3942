"""The event frame built column by column (``normalize.event_columns`` and
``normalize.columns.frame_from_columns``, the fast path) equals the frame of one
``EventRecord`` per event (``normalize_record`` and ``model.to_frame``, the general path), on
every record of the corpus and the samples; and messages filled from a template read once
equal ``fill_template``'s."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.catalog import fill_template
from evtxmpio.ingest import ingest_paths
from evtxmpio.model import RECORD_COLUMNS, RawRecord, to_frame
from evtxmpio.normalize import event_columns, normalize_record
from evtxmpio.normalize.columns import frame_from_columns
from evtxmpio.normalize.messages import _fill
from tests.conftest import SAMPLES


def _same_frames(records: list[RawRecord]) -> None:
    general = to_frame([normalize_record(record) for record in records])
    fast = frame_from_columns(event_columns(records))
    pd.testing.assert_frame_equal(fast, general, check_exact=True)
    assert list(fast.dtypes.astype(str)) == list(RECORD_COLUMNS.values())


def test_columns_equal_rows_on_the_corpus(corpus: Path) -> None:
    records = ingest_paths(sorted(corpus.rglob("*.evtx")), dedupe=False).records
    assert len(records) > 20_000
    _same_frames(records)


def test_columns_equal_rows_on_the_samples() -> None:
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file()
                   and p.suffix in (".evtx", ".xml", ".csv") and "expected" not in p.parts)
    records = ingest_paths(files, dedupe=False).records
    assert {record.kind for record in records} >= {"system:evtx:event", "etw:mpio:trace"}
    _same_frames(records)


def test_columns_of_odd_records() -> None:
    """Missing times, times outside ``datetime64[ns]``, numbers past 64 bits, no records."""
    records = [
        RawRecord("system:evtx:event", None, "mpio", None, "a", "evtx-rs", corrupted=True),
        RawRecord("system:evtx:event", -(2**63), "disk", 153, "a", "evtx-rs", record_id=2**64,
                  data=((None, "\\Device\\Harddisk1\\DR1"), (None, "0x1"), (None, "1"))),
        RawRecord("system:evtx:event", 2**63, "Ntfs", 50, "b", "python-evtx", level=10**30,
                  data=(("DriveName", "C:"), (None, "x")), message="m"),
        RawRecord("etw:mpio:trace", 1, "MPIO", 7, "c", "tracerpt", task_name="PathArrived",
                  data=(("PathId", "0x" + "f" * 20), ("MpioDisk", "3"))),
    ]
    _same_frames(records)
    _same_frames([])


@given(st.text(alphabet="%0123456789ab {}", max_size=30), st.lists(st.text(max_size=3),
                                                                 max_size=12))
@example("%0 %1 %01 %12 %", ["x"])
@example("{0} {%1} }{ %2", ["{1}", "}"])
@example("", [])
@example("%1%2%3", ["a", "b"])
def test_template_read_once_fills_as_fill_template(template: str, values: list[str]) -> None:
    assert _fill(template, values) == fill_template(template, values)


def test_sort_events_orders_as_pandas_sorts() -> None:
    """Already in order (returned without a copy) or not, with missing sort keys."""
    from evtxmpio.normalize import SORT_COLUMNS, sort_events

    files = sorted(SAMPLES.glob("*/System-*.evtx"))
    frame = frame_from_columns(event_columns(ingest_paths(files, dedupe=False).records))
    frame.loc[::7, "record_id"] = pd.NA
    frame.loc[::5, "time"] = pd.NaT
    for shuffled in (frame, frame.sample(frac=1, random_state=3),
                     frame.sample(frac=1, random_state=4).set_axis(range(5, 5 + len(frame)))):
        expected = shuffled.sort_values(SORT_COLUMNS, kind="mergesort", na_position="last")
        pd.testing.assert_frame_equal(sort_events(shuffled), expected.reset_index(drop=True))
    in_order = sort_events(frame)
    pd.testing.assert_frame_equal(sort_events(in_order), in_order)
    # times that increase row by row decide alone; one tie leaves it to the other keys
    timed = in_order.dropna(subset=["time"]).drop_duplicates("time").iloc[:40]
    timed = timed.set_axis(range(3, 3 + len(timed)))
    tied = timed.assign(time=timed["time"].where(timed.index != 10, timed["time"][9]))
    tied.loc[[9, 10], "host"] = ["b", "a"]
    for case in (timed, tied, timed.iloc[:1], timed.iloc[:0], timed.iloc[::-1]):
        expected = case.sort_values(SORT_COLUMNS, kind="mergesort", na_position="last")
        pd.testing.assert_frame_equal(sort_events(case), expected.reset_index(drop=True))
    assert sort_events(tied)["host"].iloc[6:8].tolist() == ["a", "b"]


@given(st.dictionaries(st.text(), st.one_of(st.text(), st.integers(), st.none())))
@example({})
@example({"1": 'a"b\\c\x00\x1f\u2028\ud800é', "Name": ""})
@example({"1": "x", "2": None})  # a value that is not text: written by the encoder
def test_data_text_is_json_dumps(data: dict[str, object]) -> None:
    import json

    from evtxmpio.model import dump_data_json

    assert dump_data_json(data) == json.dumps(data, ensure_ascii=False, sort_keys=False)


_NAMES = st.one_of(st.none(), st.just(""), st.sampled_from(["1", "2", "Name"]), st.text())


@given(st.lists(st.tuples(_NAMES, st.one_of(st.text(), st.integers())), max_size=70))
@example([])
@example([(None, "a"), (None, 'b"\\\x00\u2028\ud800')])
@example([(None, "a"), ("", "b")])  # an empty name is keyed by position too
@example([("2", "a"), (None, "b")])  # a name equal to a position: the dict keeps one
@example([(None, "v")] * 64)
@example([(None, "v")] * 65)  # past the position keys written ahead
@example([(None, 1)])  # a value that is not text
def test_data_json_is_the_json_of_data_dict(data: list[tuple[str | None, object]]) -> None:
    import json

    from evtxmpio.model import data_json

    record = RawRecord("system:evtx:event", None, "p", 1, "f", "r", data=tuple(data))
    assert data_json(record.data) == json.dumps(record.data_dict(), ensure_ascii=False)


@pytest.mark.parametrize(("values", "dtype"), [
    (["a", 5, None, b"x"], "string"),  # not all text: converted as pandas converts
    (["a", "a", "a"], "string"),
    ([7, 7, None, 2**62], "Int64"),
    ([1, 2**70, None], "Int64"),  # past 64 bits: missing
    ([3, 3], "Int64"),
    ([None, None], "Int64"),
    (["x", "y", "x"], "category"),
    (["x", "x"], "category"),
    ([False, False], "bool"),
    ([False, True], "bool"),
])
def test_typed_columns_hold_what_pandas_makes(values: list[object], dtype: str) -> None:
    from evtxmpio.normalize.columns import text_arrow, typed_column

    expected = pd.Series([None if isinstance(v, int) and v >= 2**63 else v for v in values],
                         dtype=object).astype(dtype)
    got = pd.Series(typed_column(values, dtype, text_arrow()))
    pd.testing.assert_series_equal(got, expected, check_exact=True)


def test_columns_without_arrow_strings_equal_rows() -> None:
    """pandas told to keep text in Python objects: the general constructors, same values."""
    files = sorted(SAMPLES.glob("*/System-*.evtx"))
    records = ingest_paths(files, dedupe=False).records
    with pd.option_context("mode.string_storage", "python"):
        general = to_frame([normalize_record(record) for record in records])
        fast = frame_from_columns(event_columns(records))
        assert fast["host"].dtype.storage == "python"
        pd.testing.assert_frame_equal(fast, general, check_exact=True)


def test_frames_built_in_batches_without_arrow_strings_equal_rows(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder's parts joined without pyarrow holding text: the general path's frame."""
    from evtxmpio import normalize
    from evtxmpio.normalize.names import add_names

    files = sorted(SAMPLES.glob("*/System-*.evtx")) + sorted(SAMPLES.glob("*/*.etw.csv"))
    records = ingest_paths(files, dedupe=False).records
    monkeypatch.setattr(normalize, "FRAME_BATCH", 50)
    with pd.option_context("mode.string_storage", "python"):
        general = to_frame([normalize_record(record) for record in
                            normalize.number_trace_records(records)]).pipe(
            add_names).pipe(normalize.sort_events)
        fast = normalize.normalize_records(records)
        assert fast["message"].dtype.storage == "python"
        pd.testing.assert_frame_equal(fast, general, check_exact=True)


_PROVIDERS = ["disk", "Disk", "mpio", "Ntfs", "Application Popup", "EventLog", "iScsiPrt",
              "Microsoft-Windows-Kernel-General", "Microsoft-Windows-FailoverClustering",
              "USER32", "Microsoft-Windows-WindowsUpdateClient", "nobody"]
_INSERTS = st.sampled_from(["", "a", "\\Device\\Harddisk3\\DR3", "\\Device\\MPIODisk2", "3",
                            "0x10", 'q"', "b\\", "c\x01", "é\u2028", "{x}", "%1", "7601"])
_ODD_RECORDS = st.builds(
    RawRecord, st.sampled_from(["system:evtx:event", "etw:mpio:trace"]),
    st.sampled_from([1, None, 2**63, -(2**63)]), st.sampled_from(_PROVIDERS),
    st.sampled_from([153, 7, 16, 50, 26, 6009, 12, None, 10**30]), st.just("f"),
    st.just("evtx-rs"), record_id=st.sampled_from([1, None, 2**64]),
    data=st.lists(st.tuples(st.sampled_from([None, "", "Name", "PathId"]), _INSERTS),
                  max_size=5).map(tuple),
    binary=st.sampled_from([None, b"", bytes(40), bytes(range(44))]),
    message=st.sampled_from([None, "", "exported"]))


@given(st.lists(_ODD_RECORDS, max_size=9), st.sampled_from([1, 2, 4, 8192]))
@example([RawRecord("system:evtx:event", n, "mpio", 10**30, "f", "r", record_id=2**64)
          for n in range(3)], 8192)  # one value past 64 bits in every row
@example([RawRecord("system:evtx:event", None, "disk", 153, "f", "r",
                    data=((None, "\\Device\\Harddisk1\\DR1"), (None, "0x1"), (None, "1")))] * 4,
         2)
def test_frames_built_in_batches_equal_rows_on_odd_records(
        records: list[RawRecord], batch: int) -> None:
    """The builder (memo, pyarrow texts, parts) against one ``EventRecord`` per record."""
    from evtxmpio import normalize
    from evtxmpio.normalize.names import add_names

    general = to_frame([normalize_record(record) for record in
                        normalize.number_trace_records(records)]).pipe(
        add_names).pipe(normalize.sort_events)
    saved, normalize.FRAME_BATCH = normalize.FRAME_BATCH, batch
    try:
        fast = normalize.normalize_records(records)
    finally:
        normalize.FRAME_BATCH = saved
    pd.testing.assert_frame_equal(fast, general, check_exact=True)
