"""Failover Clustering events are read, kept by event id, and typed (issue 18, item 2)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from evtxmpio.catalog.cluster import cluster_events, impact_kinds
from evtxmpio.catalog.relevance import relevance
from evtxmpio.ingest.evtx_chunks import ProviderMatcher
from evtxmpio.pipeline import analyze
from tests.cluster import xml
from tests.handwritten import write

CATALOG = Path(__file__).resolve().parents[2] / "evtxmpio" / "catalog"
T = "2011-06-14T07:47:1"


def test_relevance_keeps_exactly_the_catalogued_ids() -> None:
    entry = yaml.safe_load((CATALOG / "relevance.yaml").read_text(encoding="utf-8"))[
        "providers"]["microsoft-windows-failoverclustering"]
    assert set(entry["ids"]) == set(cluster_events())


def test_every_impact_kind_of_the_issue_has_an_event() -> None:
    wanted = {"csv-paused", "csv-inaccessible", "resource-failed", "role-moved", "role-failed",
              "node-removed", "quorum-lost", "disk-ownership-lost"}
    assert set(impact_kinds()) == wanted
    assert {event.kind for event in cluster_events().values()} >= wanted


def test_impact_events_are_kept_and_chatter_is_not() -> None:
    table = relevance()

    def rendered(event: str) -> str:  # as the Rust reader renders it: double quotes
        return event.replace("'", '"')

    kept = xml.csv_paused("N1", 1, T + "0.0000000", "Volume1", "Cluster Disk 1")
    heartbeat = xml.cluster("N1", 2, T + "0.0000000", 1650, [("Data", "x")],
                            channel="Microsoft-Windows-FailoverClustering/Operational")
    snapshot = xml.cluster("N1", 3, T + "0.0000000", 5217, [("CsvList", "Volume1")])
    assert table.keeps_xml(rendered(kept))
    assert not table.keeps_xml(rendered(heartbeat))
    # 5217 is a VSS snapshot failure, not a pause (docs/failover-clustering.md 2.1).
    assert not table.keeps_xml(rendered(snapshot))
    assert table.keeps("microsoft-windows-failoverclustering", 1135)
    assert not table.keeps("Microsoft-Windows-FailoverClustering", 1650)


def test_the_chunk_prefilter_finds_the_provider_in_any_case() -> None:
    matcher = ProviderMatcher(relevance().providers, engine="python")
    for name in ("Microsoft-Windows-FailoverClustering", "MICROSOFT-WINDOWS-FAILOVERCLUSTERING"):
        assert matcher.search(b"\x00" * 64 + name.encode("utf-16-le") + b"\x00" * 64)


def test_cluster_inserts_become_typed_columns(tmp_path: Path) -> None:
    log = write(tmp_path / "System.xml", [
        xml.csv_paused("N1", 10, T + "0.1000000", "Volume1", "Cluster Disk 1"),
        xml.csv_lost("N1", 11, T + "1.1000000", "Volume1", "Cluster Disk 1"),
        xml.resource_failed("N1", 12, T + "2.1000000", "Cluster Disk 2", "SQL01"),
        xml.role_moving("N1", 13, T + "3.1000000", "SQL01", "N1", "N2"),
        xml.node_removed("N1", 14, T + "4.1000000", "N2"),
        xml.disk_health("N1", 15, T + "5.1000000", "Cluster Disk 2", 3),
        xml.retried("N1", 16, T + "6.1000000", 3, 2),
        xml.quorum_lost("N1", 17, T + "7.1000000"),
    ])
    events = analyze([log]).events.set_index("record_id")
    row = events.loc[10]
    assert (row["volume"], row["device"], row["status"]) == ("Volume1", "Cluster Disk 1",
                                                             0xC00000B5)
    assert events.loc[11, "status"] == 1460
    assert (events.loc[12, "device"], events.loc[12, "trigger"]) == ("Cluster Disk 2", "SQL01")
    assert (events.loc[13, "trigger"], events.loc[13, "target"]) == ("SQL01", "N2")
    assert events.loc[14, "target"] == "N2"
    assert (events.loc[15, "device"], events.loc[15, "disk_number"]) == ("Cluster Disk 2", 3)
    assert (events.loc[16, "disk_number"], events.loc[16, "mpio_disk"]) == (3, 2)
    assert 17 in events.index
    # Never an MPIO disk from a cluster name ("Cluster Disk 2" is not MPIODisk2).
    assert events.loc[[10, 11, 12, 13, 14, 15, 17], "mpio_disk"].isna().all()
    assert re.match(r"Cluster Shared Volume 'Volume1' \('Cluster Disk 1'\) has entered a "
                    r"paused state", events.loc[10, "message"])
