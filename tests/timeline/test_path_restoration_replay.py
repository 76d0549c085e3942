"""Path restoration from the System log alone agrees with the replay ground truth.

Each replayed sample's ``ground_truth.json`` lists its failure epochs per host and Path ID
with the time the path came back (``restored_at``, null when it never did). From the System
``.evtx`` files alone (one per host; a cluster sample has one per node), every returned path
must show ``restored`` within a few seconds of its return, and a path that never returned must
never show ``restored``.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from evtxmpio import pipeline
from tests.conftest import SAMPLES

CASES = sorted(p.parent.name for p in SAMPLES.glob("*/ground_truth.json"))
SLACK = pd.Timedelta(seconds=5)  # the System log stamps event 2 when the path is re-added


@pytest.mark.parametrize("name", CASES)
def test_restorations_match_the_ground_truth(name: str) -> None:
    truth = json.loads((SAMPLES / name / "ground_truth.json").read_text(encoding="utf-8"))
    case = pipeline.analyze(sorted((SAMPLES / name).glob("System-*.evtx")))
    assert {epoch["host"] for epoch in truth["epochs"]} <= set(case.events["host"])
    lanes = case.timelines.loc[case.timelines["scope"] == "path"]
    for epoch in truth["epochs"]:
        path_id = int(epoch["path_id"], 16)
        restored = lanes.loc[(lanes["key"] == path_id) & (lanes["to_state"] == "restored")
                             & (lanes["host"] == epoch["host"]), "time"]
        if epoch["restored_at"] is None:
            assert restored.empty, (name, epoch)
            continue
        back = pd.Timestamp(epoch["restored_at"])
        assert ((restored >= back) & (restored <= back + SLACK)).any(), (name, epoch)
