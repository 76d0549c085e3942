"""Every replayed sample gets its ground-truth verdict; evidence points at real records."""

from __future__ import annotations

import json
import re
from pathlib import Path

import evtx
import pytest
from lxml import etree

from evtxmpio import pipeline
from evtxmpio.detect.groundtruth import compare_with_truth
from tests.conftest import SAMPLES

CASES = sorted(p.parent.name for p in SAMPLES.glob("*/ground_truth.json"))
NOT_RACE = {"healthy-failover", "path-flapping", "all-paths-down", "duplicated-export"}


def _truth(name: str) -> dict:
    return json.loads((SAMPLES / name / "ground_truth.json").read_text(encoding="utf-8"))


def test_the_required_samples_exist() -> None:
    assert {"kb2406705-race", "healthy-failover", "all-paths-down", "path-flapping",
            "four-luns-race-noise", "duplicated-export"} <= set(CASES)


@pytest.fixture(scope="module", params=CASES)
def analysed(request: pytest.FixtureRequest) -> tuple[str, pipeline.CaseResult]:
    name = request.param
    return name, pipeline.analyze(pipeline.sample_logs(SAMPLES / name))


def test_case_matches_ground_truth(analysed: tuple[str, object]) -> None:
    name, case = analysed
    assert compare_with_truth(case, _truth(name)) == []
    if name in NOT_RACE:
        assert case.verdict.id != "kb2406705-race"


def test_evidence_points_at_real_records(analysed: tuple[str, object]) -> None:
    """Every evidence record exists in its file, as read without evtxmpio's own readers."""
    _, case = analysed
    records: dict[str, set[int]] = {}
    for finding in case.findings:
        subset = case.events.loc[list(finding.evidence), ["source_file", "record_id"]]
        for file, record_id in subset.itertuples(index=False, name=None):
            if file not in records:
                records[file] = _record_ids(Path(file))
            assert record_id in records[file], (finding.rule.id, file, record_id)


_RECORD_ID = re.compile(r"<EventRecordID>(\d+)</EventRecordID>")


def _record_ids(path: Path) -> set[int]:
    """EventRecordIDs of a log read by the Rust ``evtx`` package or lxml directly; for trace
    exports, which number no record, the 1-based positions of their events (README)."""
    if path.suffix == ".evtx":
        return {int(_RECORD_ID.search(record["data"]).group(1))
                for record in evtx.PyEvtxParser(str(path)).records()}
    if path.name.endswith(".etw.csv"):
        rows = path.read_text(encoding="utf-8-sig").splitlines()[1:]
        events = [row for row in rows if row and not row.startswith("EventTrace,")]
        return set(range(1, len(events) + 1))
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", path.read_text(encoding="utf-8-sig"))
    root = etree.fromstring(f"<r>{text}</r>".encode(), etree.XMLParser(resolve_entities=False))
    events = root.iter("{*}Event")
    if path.name.endswith(".etw.xml"):
        header = "{68fdd900-4a3e-11d1-84f4-0000f80464e3}"  # tracerpt's EventTrace header
        traced = [e for e in events
                  if (e.find("{*}System/{*}Provider").get("Guid") or "").lower() != header]
        return set(range(1, len(traced) + 1))
    return {int(e.findtext("{*}System/{*}EventRecordID")) for e in events}


def _single_logs() -> list[tuple[str, Path]]:
    return [(name, log) for name in CASES for log in pipeline.sample_logs(SAMPLES / name)
            if log.suffix in (".evtx", ".xml") and _affected(name, log)]


def _affected(name: str, log: Path) -> bool:
    """Whether the log's host had a disk that left NORMAL (truth ``disks[]``): a cluster node
    whose storage was unaffected holds only its own verdict, not the case's."""
    stem = log.name.removeprefix("System-").split(".", 1)[0]
    outcomes = {d["outcome"] for d in _truth(name)["disks"]
                if d["host"].split(".", 1)[0] == stem}
    return not outcomes or outcomes != {"unaffected"}


@pytest.mark.parametrize(("name", "log"), _single_logs(),
                         ids=[f"{n}/{p.name}" for n, p in _single_logs()])
def test_each_log_alone_gives_the_verdict(name: str, log: Path) -> None:
    case = pipeline.analyze([log])
    assert case.verdict.id == _truth(name)["verdict"]
