"""Run one measured job in this process and print its result as JSON (used by run.py).

    python bench/measure.py TOOL FILE

TOOL is one of ``python-evtx`` (parse only: every record rendered to XML), ``evtx-rs`` (parse
only: ``records_json()`` of the Rust-backed package, one thread), or ``analyze:BACKEND:PREFILTER``
(``evtxmpio`` end to end: ingest, normalize, timelines, rules, verdict and the JSON report; one
process) or ``analyze:BACKEND:PREFILTER:Njobs`` (the same, the .evtx read by N processes).
The time printed covers the work only; run.py adds the process's wall time and peak RSS.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def parse_python_evtx(path: Path) -> dict[str, object]:
    from Evtx.Evtx import Evtx

    records = 0
    with Evtx(str(path)) as log:
        for record in log.records():
            record.xml()
            records += 1
    return {"records": records}


def parse_evtx_rs(path: Path) -> dict[str, object]:
    from evtx import PyEvtxParser

    records = 0
    for _ in PyEvtxParser(str(path), number_of_threads=1).records_json():
        records += 1
    return {"records": records}


def analyze(path: Path, backend: str, prefilter: bool, jobs: int = 1) -> dict[str, object]:
    from evtxmpio import pipeline
    from evtxmpio.report import render_json

    case = pipeline.analyze([path], backend=backend, prefilter=prefilter, jobs=jobs)
    render_json(case)
    account = case.accounts[0]
    return {"records": account.records_read, "events": account.records_used,
            "verdict": case.verdict.id,
            "skipped": dict(account.skip_reasons)}


def _preload(tool: str) -> None:
    """Import what the tool needs before the clock starts (start-up is in the wall time)."""
    if tool == "python-evtx":
        import Evtx.Evtx  # noqa: F401
    elif tool == "evtx-rs":
        import evtx  # noqa: F401
    else:
        import evtxmpio.pipeline
        import evtxmpio.report
        from evtxmpio.runtime import freeze_startup_objects

        evtxmpio.pipeline.shipped_rules()
        freeze_startup_objects()  # as the evtxmpio command does before it runs


def main() -> None:
    tool, path = sys.argv[1], Path(sys.argv[2])
    _preload(tool)
    started = time.perf_counter()
    if tool == "python-evtx":
        result = parse_python_evtx(path)
    elif tool == "evtx-rs":
        result = parse_evtx_rs(path)
    elif tool.startswith("analyze:"):
        _, backend, prefilter, *jobs = tool.split(":")
        result = analyze(path, backend, prefilter == "prefilter",
                         int(jobs[0].removesuffix("jobs")) if jobs else 1)
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    result["seconds"] = time.perf_counter() - started
    print(json.dumps(result))


if __name__ == "__main__":
    main()
