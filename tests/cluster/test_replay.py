"""Replay knows clusters: the samples' cluster events, their causes and clocks (issue 18).

Truth is the replay's ground truth (what the model made each node log and why), never the
analysis under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evtxmpio import pipeline
from evtxmpio.replay import replay
from evtxmpio.replay.workload import WorkloadError, load_workload
from tests.conftest import SAMPLES

CLUSTER_SAMPLES = ("cluster-race", "cluster-all-paths-down")
A, B = "NODE-A.contoso.local", "NODE-B.contoso.local"


def _truth(name: str) -> dict:
    return json.loads((SAMPLES / name / "ground_truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=CLUSTER_SAMPLES)
def analysed(request: pytest.FixtureRequest):
    name = request.param
    logs = sorted((SAMPLES / name).glob("System-*.evtx"))
    return name, _truth(name)["cluster"], pipeline.analyze(logs)


def _match(truth: list[dict], impact) -> dict:
    """The truth entry logged by the same node, of the same kind and name, at the same time
    (the analysis time is on the reference clock; the truth on true time)."""
    found = [t for t in truth if (t["host"], t["kind"], t["name"]) == (impact.host, impact.kind,
                                                                       impact.name)
             and abs(t["time_ns"] - impact.time.value) < 20_000_000]
    assert len(found) == 1, (impact, found)
    return found[0]


def test_every_cluster_event_the_model_wrote_is_an_impact(analysed) -> None:
    _, truth, case = analysed
    assert len(case.impact) == len(truth["impact"])
    for impact in case.impact:
        _match(truth["impact"], impact)


def test_attributed_only_to_the_true_cause_else_the_cause_is_a_candidate(analysed) -> None:
    _, truth, case = analysed
    for impact in case.impact:
        cause = _match(truth["impact"], impact)["attributed_to"]
        if impact.incident is not None:
            assert impact.incident.host == cause["host"], impact
            if impact.kind != "node-removed":
                assert impact.incident.mpio_disk == cause["mpio_disk"], impact
        else:
            assert (cause["host"], cause["mpio_disk"]) in {
                (c.host, c.mpio_disk) for c in impact.candidates}, impact


def test_clock_offsets_are_estimated_within_10_ms(analysed) -> None:
    _, truth, case = analysed
    (cluster,) = case.clusters
    assert set(cluster.nodes) == set(truth["nodes"])
    for clock in cluster.clocks:
        expected = truth["clock_offsets_s"][clock.host] - truth["clock_offsets_s"][
            cluster.reference]
        assert clock.offset is not None
        assert abs(clock.offset.total_seconds() - expected) < 0.010, clock


def test_race_sample_pauses_the_csv_on_both_nodes_and_moves_the_vm_role() -> None:
    case = pipeline.analyze(sorted((SAMPLES / "cluster-race").glob("System-*.evtx")))
    pauses = [i for i in case.impact if i.kind == "csv-paused"]
    assert {(i.host, i.incident.host, i.incident.mpio_disk) for i in pauses} == {
        (A, A, 1), (B, A, 1)}
    (moved,) = [i for i in case.impact if i.kind == "role-moved"]
    assert (moved.name, moved.node, moved.incident) == ("VM-SQL01", "NODE-B", None)
    assert "do not say which MPIO disk backs 'Virtual Machine VM-SQL01'" in moved.reason
    assert case.verdict.id == "kb2406705-race"


def test_all_paths_down_sample_removes_node_a() -> None:
    case = pipeline.analyze(sorted((SAMPLES / "cluster-all-paths-down").glob("System-*.evtx")))
    (removed,) = [i for i in case.impact if i.kind == "node-removed"]
    assert (removed.host, removed.name, removed.incident.host) == (B, "NODE-A", A)
    assert {i.kind for i in case.impact} >= {"csv-paused", "csv-inaccessible",
                                              "resource-failed", "role-failed"}


@pytest.mark.parametrize("name", CLUSTER_SAMPLES)
def test_prefilter_and_relevance_keep_every_cluster_event(name: str) -> None:
    logs = sorted((SAMPLES / name).glob("System-*.evtx"))
    full = pipeline.analyze(logs, all_events=True, prefilter=False)
    fast = pipeline.analyze(logs)
    key = [(i.host, i.kind, i.name, i.time, i.incident) for i in full.impact]
    assert key == [(i.host, i.kind, i.name, i.time, i.incident) for i in fast.impact]
    assert len(key) == len(_truth(name)["cluster"]["impact"])


def test_xml_and_evtx_of_a_sample_tell_the_same(tmp_path: Path) -> None:
    xml = pipeline.analyze(sorted((SAMPLES / "cluster-race").glob("System-*.xml")))
    evtx = pipeline.analyze(sorted((SAMPLES / "cluster-race").glob("System-*.evtx")))
    assert [(i.kind, i.name, i.incident) for i in xml.impact] == [
        (i.kind, i.name, i.incident) for i in evtx.impact]


def test_a_cluster_section_naming_an_unknown_owner_is_refused(tmp_path: Path) -> None:
    workload = (SAMPLES / "cluster-race" / "workload.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "workload.yaml"
    bad.write_text(workload.replace("owner: NODE-A.contoso.local}", "owner: NODE-C}"),
                   encoding="utf-8")
    with pytest.raises(WorkloadError, match=r"cluster\.luns\[0\]: owner 'NODE-C'"):
        load_workload(bad)


def test_same_cluster_workload_same_bytes(tmp_path: Path) -> None:
    workload = SAMPLES / "cluster-race" / "workload.yaml"
    first = replay(workload, out_dir=tmp_path / "1", formats=("evtx",))
    second = replay(workload, out_dir=tmp_path / "2", formats=("evtx",))
    for one, two in zip(first.files, second.files, strict=True):
        assert one.read_bytes() == two.read_bytes(), one.name
