"""What the cluster lost, in the JSON, the HTML report and the terminal (issue 18)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from rich.console import Console

from evtxmpio import report
from evtxmpio.pipeline import analyze
from evtxmpio.report.terminal import print_summary
from tests import handwritten as hw
from tests.cluster import xml
from tests.cluster.test_impact import A, B, at, node_a, node_b

HOSTILE_ROLE = "VM<script>alert(1)</script>\u202eSQL"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cluster-report")
    extra = [xml.resource_failed(A, 150, at(11.5), "Cluster Disk 2", HOSTILE_ROLE),
             xml.role_failed(A, 151, at(12.0), HOSTILE_ROLE)]
    return analyze([hw.write(folder / "System-A.xml", node_a() + extra),
                    hw.write(folder / "System-B.xml", node_b())])


def test_json_impact_entries(case) -> None:
    document = json.loads(report.render(case, "json"))
    pause = next(i for i in document["impact"] if i["record"]["record_id"] == 115)
    assert pause["kind"] == "csv-paused" and pause["name"] == "Volume1"
    assert pause["host"] == A and pause["record"]["file"].endswith("System-A.xml")
    assert pause["attributed_to"] == {"host": A, "mpio_disk": 2,
                                      "finding": "mpio-duplicate-failover"}
    assert {c["record_id"] for c in pause["chain"]} == {104, 113}
    removed = next(i for i in document["impact"] if i["kind"] == "node-removed")
    assert removed["attributed_to"] is None and removed["reason"]
    nine = next(i for i in document["impact"] if i["name"] == "Volume9")
    assert {(c["host"], c["mpio_disk"]) for c in nine["candidates"]} == {(A, 2), (A, 3)}
    (cluster,) = document["clusters"]
    clocks = {c["host"]: c for c in cluster["clocks"]}
    assert clocks[B]["offset_s"] == pytest.approx(0.305) and clocks[B]["applied"]
    assert [s["sentence"][:20] for s in document["impact_summary"]] == [
        "CSV Volume1 paused o", "Resource 'Cluster Di"]


def test_html_says_what_it_cost_escaped(case) -> None:
    page = report.render(case, "html")
    assert "What it cost the cluster" in page
    assert html.escape(f"CSV Volume1 paused on {A} and {B} 0.4 s after MPIODisk2 was torn down",
                       quote=False) in page
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;" in page
    assert "\u202e" not in page  # the bidi override is shown, not obeyed
    assert page.count("cluster (CSV, roles, nodes)") == 2  # one cluster lane per node
    assert "+305.0 ms" in page
    assert '<a href="#impact">Cluster</a>' in page and '<section id="impact">' in page


def test_terminal_prints_one_sentence_per_incident(case) -> None:
    console = Console(record=True, width=300, force_terminal=False)
    print_summary(case, console)
    text = console.export_text()
    assert f"CSV Volume1 paused on {A} and {B} 0.4 s after MPIODisk2 was torn down" in text
    assert "role SQL01 moved to NODE-B" in text
    assert "\u202e" not in text
    assert "Cluster events not attributed (2)" in text


def test_a_case_without_cluster_events_says_nothing_about_clusters(tmp_path: Path) -> None:
    case = analyze([hw.write(tmp_path / "System.xml", [hw.created(A, 1, at(0), 1)])])
    page = report.render(case, "html")
    assert "What it cost the cluster" not in page
    assert 'href="#impact"' not in page  # no link to a section the report leaves out
    console = Console(record=True, width=200, force_terminal=False)
    print_summary(case, console)
    assert "Cluster nodes" not in console.export_text()
    assert "cost the cluster" not in console.export_text()


def test_redaction_hides_nodes_csvs_roles_and_the_cluster_name(tmp_path: Path) -> None:
    from evtxmpio.report.redact import collect

    logs = sorted((Path(__file__).resolve().parents[2] / "samples" / "cluster-race").glob(
        "System-*.evtx"))
    case = analyze(logs)
    text = json.dumps(collect(case).walk(json.loads(report.render(case, "json"))))
    for name in ("NODE-A", "NODE-B", "Volume1", "VM-SQL01", "HV-CL1"):
        assert name.lower() not in text.lower(), name
    assert "ROLE-1" in text and "VOLUME-1" in text


def test_the_report_shows_the_chain_behind_an_attribution(case) -> None:
    page = report.render(case, "html")
    chain = page[page.index('class="impact-attributed"'):]
    chain = chain[:chain.index("</table>")]
    assert "System-A.xml #113; " in chain and "System-A.xml #104" in chain  # 1792 and disk 153
