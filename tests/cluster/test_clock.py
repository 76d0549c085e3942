"""Which hosts are one cluster, and when their clocks cannot be compared (issue 18)."""

from __future__ import annotations

from pathlib import Path

from evtxmpio.pipeline import analyze
from tests import handwritten as hw
from tests.cluster import xml
from tests.cluster.test_impact import at

X, Y = "HV01.contoso.local", "HV02.contoso.local"
P1, P2 = 0x77030001, 0x77040001


def _failovers(host: str, path: int, first: int) -> list[str]:
    return [hw.failover(host, first, at(10.0), 1, path),
            hw.failover(host, first + 1, at(10.1), 2, path),
            hw.degraded(host, first + 2, at(12.0), 1), hw.degraded(host, first + 3, at(12.1), 2)]


def test_same_path_ids_on_same_disks_make_one_cluster_with_unknown_offset(tmp_path: Path
                                                                          ) -> None:
    case = analyze([hw.write(tmp_path / "x.xml", _failovers(X, P1, 1)),
                    hw.write(tmp_path / "y.xml", _failovers(Y, P1, 1))])
    (cluster,) = case.clusters
    assert cluster.nodes == (X, Y)
    assert cluster.evidence == ("the same Path IDs on the same MPIO disks",)
    clock = {c.host: c for c in cluster.clocks}[Y]
    # No cluster event both nodes logged: the offset is unknown, not zero, and nothing moves.
    assert (clock.offset, clock.pairs, clock.applied) == (None, 0, False)
    assert sorted(h.host for h in case.hosts) == [X, Y]  # still two hosts, judged apart
    assert case.events.loc[case.events["host"] == Y, "time"].min().isoformat().startswith(
        "2011-06-14T07:47:10")


def test_different_layouts_and_no_cluster_event_are_no_cluster(tmp_path: Path) -> None:
    case = analyze([hw.write(tmp_path / "x.xml", _failovers(X, P1, 1)),
                    hw.write(tmp_path / "y.xml", _failovers(Y, P2, 1))])
    assert case.clusters == []


def test_the_cluster_name_joins_nodes_in_any_letter_case(tmp_path: Path) -> None:
    case = analyze([hw.write(tmp_path / "x.xml", [xml.joined(X, 1, at(0), "HV-CL9")]),
                    hw.write(tmp_path / "y.xml", [xml.joined(Y, 1, at(1), "hv-cl9")])])
    (cluster,) = case.clusters
    assert (cluster.name, cluster.nodes) == ("HV-CL9", (X, Y))
    assert cluster.evidence == ("both name the cluster 'HV-CL9'",)
