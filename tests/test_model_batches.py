"""The event frame built in batches equals the frame built at once (issue 13: memory)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evtxmpio import model, normalize
from evtxmpio.ingest import ingest_paths
from evtxmpio.model import RawRecord
from evtxmpio.normalize import normalize_records

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_batches_change_nothing(batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    records = ingest_paths(sorted(SAMPLES.glob("*/System-*.evtx"))
                           + sorted(SAMPLES.glob("*/*.etw.csv"))).records
    whole = normalize_records(records)
    monkeypatch.setattr(normalize, "FRAME_BATCH", batch)
    batched = normalize_records(records)
    pd.testing.assert_frame_equal(batched, whole)
    assert len(whole) > 3 * 64  # several batches of each size


def test_a_value_past_64_bits_costs_its_cell_in_any_batch(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    records = [RawRecord("system:evtx:event", n * 1000, "mpio", value, "f", "evtx-rs",
                         record_id=n) for n, value in enumerate((1, 2, 10**30, 3))]
    monkeypatch.setattr(normalize, "FRAME_BATCH", 2)
    frame = normalize_records(records)
    assert frame["event_id"].tolist() == [1, 2, pd.NA, 3]
    assert list(frame.dtypes) == list(model.EVENT_COLUMNS.values())
    same = [RawRecord("system:evtx:event", n, "mpio", 10**30, "f", "evtx-rs", record_id=n)
            for n in range(3)]  # one value past 64 bits in every row of a batch
    assert normalize_records(same)["event_id"].tolist() == [pd.NA] * 3


@pytest.mark.parametrize("sample", ["kb2406705-race", "cluster-race", "duplicated-export"])
def test_records_normalized_while_read_give_the_same_case(
        sample: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``analyze`` hands kept records to normalize in batches as they are read (trace events
    numbered across batches, duplicates across files); the case is the one of all at once."""
    from evtxmpio import pipeline
    from evtxmpio.ingest import collect
    from evtxmpio.report.jsonout import case_dict

    files = sorted(p for p in (SAMPLES / sample).iterdir()
                   if p.suffix in (".evtx", ".xml", ".csv") and p.name != "stream.csv")
    whole = pipeline.analyze_ingested(
        ingest_paths(files, keep=pipeline.is_relevant), pipeline.shipped_rules([]), [])
    monkeypatch.setattr(collect, "SINK_BATCH", 3)
    monkeypatch.setattr(collect, "GUARD_EVERY", 2)
    batched = pipeline.analyze(files)
    expected, got = case_dict(whole), case_dict(batched)
    for key in ("generator", "inputs"):
        expected.pop(key, None), got.pop(key, None)
    assert got == expected
    pd.testing.assert_frame_equal(batched.events, whole.events)
