"""Impact attribution and one cluster clock on hand-written two-node logs (issue 18).

The truth of every assertion comes from how the logs below are written: which records link
which names, when each event was logged and by how much NODE-B's clock is off.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evtxmpio.pipeline import analyze
from tests import handwritten as hw
from tests.cluster import xml

A, B = "NODE-A.contoso.local", "NODE-B.contoso.local"
PATH = 0x77030001
SKEW_B = 0.300  # NODE-B's clock runs 300 ms ahead
DELAY = 0.005   # NODE-B logs the shared CSV pause 5 ms after NODE-A


def at(second: float, skew: float = 0.0) -> str:
    """``2011-06-14T07:47:SS.fffffff`` for ``second`` past 07:47:00 (+ a clock skew)."""
    stamp = pd.Timestamp("2011-06-14T07:47:00Z") + pd.Timedelta(seconds=second + skew)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def node_a() -> list[str]:
    return [
        hw.created(A, 100, at(-400), 2), hw.added(A, 101, at(-400), 2, 2),
        hw.created(A, 102, at(-400), 3), hw.added(A, 103, at(-400), 3, 2),
        xml.retried(A, 104, at(9.5), 3, 2), xml.retried(A, 105, at(9.5), 4, 3),
        hw.failover(A, 106, at(10.0), 2, PATH), hw.failover(A, 107, at(10.01), 3, PATH),
        hw.failover(A, 108, at(10.04), 2, PATH), hw.no_path(A, 109, at(10.1), 2),
        hw.torn_down(A, 110, at(10.15), 2), hw.no_path(A, 111, at(10.2), 3),
        hw.torn_down(A, 112, at(10.25), 3),
        xml.disk_health(A, 113, at(10.3), "Cluster Disk 1", 3),
        xml.disk_health(A, 114, at(10.3), "Cluster Disk 2", 4),
        xml.csv_paused(A, 115, at(10.55), "Volume1", "Cluster Disk 1"),
        xml.resource_failed(A, 116, at(11.0), "Cluster Disk 2", "SQL01"),
        xml.role_moving(A, 117, at(11.2), "SQL01", "NODE-A", "NODE-B"),
        # Three hours later: a network partition removes NODE-B. Not the storage incident.
        xml.partitioned(A, 118, at(10800.0), "Cluster Network 1"),
        xml.node_removed(A, 119, at(10805.0), "NODE-B"),
    ]


def node_b() -> list[str]:
    return [
        xml.csv_paused(B, 200, at(10.55 + DELAY, SKEW_B), "Volume1", "Cluster Disk 1"),
        xml.csv_paused(B, 201, at(12.0, SKEW_B), "Volume9", "Cluster Disk 9"),
        xml.role_online(B, 202, at(13.0, SKEW_B), "SQL01"),
    ]


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cluster")
    return analyze([hw.write(folder / "System-A.xml", node_a()),
                    hw.write(folder / "System-B.xml", node_b())])


def _impact(case, host: str, record_id: int):
    for impact in case.impact:
        if impact.host == host and case.events.at[impact.row, "record_id"] == record_id:
            return impact
    raise AssertionError(f"no impact for {host} record {record_id}")


def test_two_nodes_are_one_cluster_and_b_is_put_on_a_clock(case) -> None:
    (cluster,) = case.clusters
    assert cluster.nodes == (A, B)
    clock = {c.host: c for c in cluster.clocks}
    assert clock[B].pairs == 1 and clock[B].applied
    assert clock[B].offset.total_seconds() == pytest.approx(SKEW_B + DELAY, abs=1e-6)
    shifted = case.events.loc[(case.events["host"] == B)
                              & (case.events["record_id"] == 202), "time"].iloc[0]
    assert shifted == pd.Timestamp(at(13.0 - DELAY) + "Z")


def test_csv_pause_is_attributed_through_the_whole_chain(case) -> None:
    pause = _impact(case, A, 115)
    assert (pause.kind, pause.name) == ("csv-paused", "Volume1")
    assert (pause.incident.host, pause.incident.mpio_disk) == (A, 2)
    chain = set(case.events.loc[list(pause.chain), "record_id"])
    assert chain == {113, 104}  # 1792 Cluster Disk 1 = disk 3; disk 153 disk 3 = MPIODisk2


def test_the_other_node_pause_is_attributed_to_node_a_disk(case) -> None:
    pause = _impact(case, B, 200)
    assert (pause.incident.host, pause.incident.mpio_disk) == (A, 2)


def test_role_move_follows_the_resource_of_its_role(case) -> None:
    failed, moved = _impact(case, A, 116), _impact(case, A, 117)
    assert (failed.kind, failed.incident.mpio_disk) == ("resource-failed", 3)
    assert (moved.kind, moved.name, moved.node) == ("role-moved", "SQL01", "NODE-B")
    assert moved.incident.mpio_disk == 3
    assert 116 in set(case.events.loc[list(moved.chain), "record_id"])


def test_a_csv_without_chain_is_listed_with_candidates(case) -> None:
    pause = _impact(case, B, 201)
    assert pause.incident is None
    assert "do not say which MPIO disk backs 'Cluster Disk 9'" in pause.reason
    assert {(c.host, c.mpio_disk) for c in pause.candidates} == {(A, 2), (A, 3)}


def test_a_node_removed_hours_later_is_not_attributed(case) -> None:
    removed = _impact(case, A, 119)
    assert (removed.kind, removed.name, removed.incident) == ("node-removed", "NODE-B", None)
    assert removed.candidates == ()


def test_one_sentence_per_incident(case) -> None:
    from evtxmpio.detect.impact import incident_costs
    sentences = [cost.sentence for cost in incident_costs(case.impact)]
    assert sentences == [
        f"CSV Volume1 paused on {A} and {B} 0.4 s after MPIODisk2 was torn down.",
        f"Resource 'Cluster Disk 2' failed on {A} 0.8 s after MPIODisk3 was torn down; "
        "role SQL01 moved to NODE-B.",
    ]


def test_without_the_disk_link_nothing_is_attributed(tmp_path: Path) -> None:
    events = [e for e in node_a() if "<EventRecordID>104<" not in e]  # no disk 153 for disk 3
    case = analyze([hw.write(tmp_path / "System-A.xml", events)])
    pause = _impact(case, A, 115)
    assert pause.incident is None
    assert "do not say which MPIO disk backs 'Cluster Disk 1'" in pause.reason
    assert {(c.host, c.mpio_disk) for c in pause.candidates} == {(A, 2), (A, 3)}


def test_the_incident_names_the_race_finding(case) -> None:
    pause = _impact(case, A, 115)
    # Logged first (10.00 s), the duplicate failover on the Path ID of MPIODisk2 is the race.
    assert pause.incident.finding == "mpio-duplicate-failover"


def test_the_operational_channel_role_move_in_both_forms(tmp_path: Path) -> None:
    operational = "Microsoft-Windows-FailoverClustering/Operational"
    moves = [
        xml.cluster(A, 300, at(11.3), 1641, [("GroupName", "SQL01"), ("SourceNode", "NODE-A"),
                                             ("TargetNode", "NODE-B")], channel=operational),
        xml.cluster(A, 301, at(11.4), 1641, [("GroupName", "SQL01"), ("TargetNode", "NODE-B")],
                    channel=operational),
    ]
    case = analyze([hw.write(tmp_path / "System-A.xml", node_a()),
                    hw.write(tmp_path / "Operational-A.xml", moves)])
    for record_id in (300, 301):
        moved = _impact(case, A, record_id)
        assert (moved.kind, moved.name, moved.node) == ("role-moved", "SQL01", "NODE-B")
        assert (moved.incident.host, moved.incident.mpio_disk) == (A, 3)
    from evtxmpio.detect.impact import incident_costs
    sentence = next(c.sentence for c in incident_costs(case.impact) if c.incident.mpio_disk == 3)
    assert sentence.count("role SQL01 moved to NODE-B") == 1  # one move, three records


@pytest.mark.parametrize("network_failure", [False, True])
def test_a_node_removal_during_the_incident_is_storage_only_without_a_network_failure(
        tmp_path: Path, network_failure: bool) -> None:
    extra_a = [xml.partitioned(A, 400, at(12.0), "Cluster Network 1")] if network_failure else []
    removal = [xml.node_removed(B, 401, at(20.0, SKEW_B), "NODE-A")]
    case = analyze([hw.write(tmp_path / "System-A.xml", node_a() + extra_a),
                    hw.write(tmp_path / "System-B.xml", node_b() + removal)])
    removed = _impact(case, B, 401)
    if network_failure:
        assert removed.incident is None
        assert "network failure" in removed.reason
    else:
        assert (removed.incident.host, removed.name) == (A, "NODE-A")


def test_a_csv_event_without_its_resource_follows_the_csv_name(tmp_path: Path) -> None:
    short = xml.cluster(B, 500, at(10.9, SKEW_B), 5142, [("VolumeName", "Volume1")])
    case = analyze([hw.write(tmp_path / "System-A.xml", node_a()),
                    hw.write(tmp_path / "System-B.xml", [*node_b(), short])])
    lost = _impact(case, B, 500)
    assert (lost.kind, lost.name) == ("csv-inaccessible", "Volume1")
    assert (lost.incident.host, lost.incident.mpio_disk) == (A, 2)
    assert 115 in set(case.events.loc[list(lost.chain), "record_id"])  # 5120: Volume1 = CD 1
