"""Synthetic cases for the report tests: a hostile one and a large one.

Both are built the way rule examples are (:func:`evtxmpio.detect.examples.example_frame`), so
they go through the real analysis frame and timeline code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from evtxmpio.detect import CaseResult, Finding, Rule, Verdict
from evtxmpio.detect.delayed_writes import delayed_write_failures
from evtxmpio.detect.examples import example_frame
from evtxmpio.ingest import FileAccount, IngestIssue
from evtxmpio.timeline import analysis_frame, build_timelines

# Each payload sets a window-level marker if it ever runs.
SCRIPT = "<script>window.__pwned_script=1</script>"
HANDLER = "<img src=x onerror=\"window.__pwned_img=1\">"
SVG = "<svg onload=window.__pwned_svg=1></svg>"
JS_URL = "javascript:window.__pwned_url=1"
HOSTILE = f"{SCRIPT}{HANDLER}{SVG} {JS_URL} \"'&"
MARKERS = ("__pwned_script", "__pwned_img", "__pwned_svg", "__pwned_url")
HOSTILE_HOST = f"FS01{HANDLER}"
HOSTILE_FILE = f"C:\\Data\\{SCRIPT}.mdb"


def make_rule(rule_id: str = "test-rule", **changes: Any) -> Rule:
    """A rule for hand-built findings."""
    values: dict[str, Any] = {
        "id": rule_id, "title": "Test rule", "description": "Fires in tests.",
        "severity": "critical", "kind": "threshold",
        "references": ("https://support.microsoft.com/kb/2406705",),
        "remediation": "Install the hotfix.", "spec": {}, "source": "tests"}
    values.update(changes)
    return Rule(**values)


def make_case(events: list[dict[str, Any]], rule: Rule, evidence: list[int] | None = None,
              verdict: Verdict | None = None, source: str = "System.evtx") -> CaseResult:
    """A case from example events; one finding of ``rule`` over ``evidence`` (default: all)."""
    frame = analysis_frame(example_frame(events))
    timelines = build_timelines(frame)
    rows = tuple(frame.index if evidence is None else evidence)
    subset = frame.loc[list(rows)]
    finding = Finding(rule, None, None, None, subset["time"].min(), subset["time"].max(), rows)
    account = FileAccount(file=source, format="evtx", records_read=len(frame),
                          records_used=len(frame))
    return CaseResult(
        inputs=[source], events=frame, timelines=timelines, findings=[finding],
        verdict=verdict or Verdict("kb2406705-race", 0.9, ("test reasons",)),
        delayed_write_failures=delayed_write_failures(frame), accounts=[account], issues=[])


def race_events(host: str = "FS01.contoso.local", start: str = "2011-06-14T07:47:10Z",
                file: str = "\\Device\\HarddiskVolume4\\Data\\orders.mdb",
                source: str = "System.evtx", message: str | None = None) -> list[dict[str, Any]]:
    """A small race: two disks fail over on one Path ID, one is torn down, a file is lost."""
    t0 = pd.Timestamp(start)
    common = {"host": host, "source_file": source}

    def at(seconds: float, **values: Any) -> dict[str, Any]:
        return {**common, "time": (t0 + pd.Timedelta(seconds=seconds)).isoformat(), **values}

    return [
        at(-3000, name="mpio:1", mpio_disk=1), at(-3000, name="mpio:2", mpio_disk=1, path_count=2),
        at(-2999, name="mpio:1", mpio_disk=2), at(-2999, name="mpio:2", mpio_disk=2, path_count=2),
        at(0, name="mpio:16", mpio_disk=1, path_id=0x77030001,
           message=message or "A fail-over on \\Device\\MPIODisk1 occurred."),
        at(0.003, name="mpio:16", mpio_disk=2, path_id=0x77030001),
        at(0.2, name="mpio:17", mpio_disk=2), at(1.7, name="mpio:32", mpio_disk=1),
        at(1.8, name="mpio:22", mpio_disk=1),
        at(5, name="ntfs:50", volume="\\Device\\HarddiskVolume4", file=file,
           message=f"{{Delayed Write Failed}} Windows was unable to save all the data for the "
                   f"file {file}. Target 10.20.30.40 iqn.1991-05.com.microsoft:fs01-target"),
    ]


def hostile_case() -> CaseResult:
    """Every log-controlled string carries script, event handler and javascript: payloads."""
    events = race_events(host=HOSTILE_HOST, file=HOSTILE_FILE, source=f"C:\\{SCRIPT}.evtx",
                         message=HOSTILE)
    events.append({"name": "application popup:26", "host": HOSTILE_HOST,
                   "time": "2011-06-14T07:48:02Z", "message": HOSTILE, "source_file": HOSTILE,
                   "data": '{"1": "' + SCRIPT.replace('"', "") + '"}'})
    rule = make_rule(references=(JS_URL, "https://support.microsoft.com/kb/2406705"),
                     description=HOSTILE)
    case = make_case(events, rule, source=HOSTILE)
    case.issues.append(IngestIssue(HOSTILE, 12, "evtx.bad-record", HOSTILE))
    return case


def large_case(evidence_count: int = 10_000, days: int = 3, disks: int = 8) -> CaseResult:
    """``evidence_count`` evidence events in bursts over ``days`` days on ``disks`` disks."""
    t0 = pd.Timestamp("2011-06-10T00:00:00Z")
    bursts = 24 * days // 4
    per_burst = evidence_count // bursts
    events = []
    for burst in range(bursts):
        start = t0 + pd.Timedelta(hours=4 * burst + burst % 3)
        for number in range(per_burst + (burst < evidence_count % bursts)):
            disk = 1 + number % disks
            name = ("mpio:16", "mpio:17", "ntfs:50", "disk:153")[number % 4]
            time = start + pd.Timedelta(milliseconds=37 * number)
            events.append({"name": name, "host": f"NODE{1 + number % 2}.example.local",
                           "time": time.isoformat(), "mpio_disk": disk,
                           "path_id": 0x77030000 + burst % 4 if name == "mpio:16" else None,
                           "file": f"E:\\share\\file{number}.dat" if name == "ntfs:50" else None,
                           "message": f"event {number} of burst {burst} on MPIODisk{disk}"})
    return make_case(events, make_rule("bulk-rule", severity="high"))
