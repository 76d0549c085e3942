"""Ground truth and detection share one definition of path flapping (the shipped rule)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from evtxmpio import pipeline
from evtxmpio.catalog import flapping_threshold
from evtxmpio.replay import replay

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.mark.parametrize("extra", [-1, 0])
def test_flapping_boundary_same_in_truth_and_detection(extra: int, tmp_path: Path) -> None:
    """At the rule's threshold both say path-flapping; one cycle fewer, both say healthy."""
    workload = yaml.safe_load((SAMPLES / "path-flapping" / "workload.yaml").read_text("utf-8"))
    cycles = flapping_threshold().min_epochs + extra
    workload["faults"][0]["cycles"] = cycles
    result = replay(workload, model="buggy", out_dir=tmp_path / "out", formats=["evtx"])
    expected = "path-flapping" if extra == 0 else "healthy-failover"
    assert result.ground_truth["verdict"] == expected
    case = pipeline.analyze(sorted((tmp_path / "out").glob("*.evtx")))
    assert case.verdict.id == expected


def test_sample_truths_name_verdicts_of_the_policy() -> None:
    """Ground truth has no verdict list of its own: its names are those of the policy."""
    policy = yaml.safe_load((SAMPLES.parent / "rules" / "verdicts.yaml").read_text("utf-8"))
    truths = {json.loads(p.read_text("utf-8"))["verdict"]
              for p in SAMPLES.glob("*/ground_truth.json")}
    assert truths and truths <= set(policy["verdicts"])
