"""The benchmark entry point runs (tiny input, every tool once); no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_bench_dry_run() -> None:
    completed = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--dry-run"],
                               capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stderr[-2000:]
    document = json.loads((REPO / "bench" / "cache" / "dry-run" / "dry-run.json").read_text())
    tools = {m["tool"] for m in document["results"]}
    assert tools == {"python-evtx", "evtx-rs", "analyze:rust:prefilter",
                     "analyze:rust:prefilter:2jobs", "analyze:rust:full",
                     "analyze:python:full", "analyze:python:prefilter"}
    counts = {m["records"] for m in document["results"]}
    assert len(counts) == 1  # every tool read the same records
    verdicts = {m["detail"]["verdict"] for m in document["results"] if "verdict" in m["detail"]}
    assert verdicts == {"kb2406705-race"}
    assert {r["ratio"] for r in document["ratios"]} >= {"analyze:rust:prefilter / evtx-rs"}
