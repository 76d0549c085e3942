"""The cases of issue 14 as hand-written logs (domain reference 1.5, 2.1, 2.8, 3.5, 3.6).

Each log is written as Windows writes it; the expected verdicts come from the domain
reference and the issue, never from running the analyzer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evtxmpio import pipeline
from evtxmpio.report.jsonout import render_json
from tests import handwritten as hw

P1 = 0x77030001
NODE1, NODE2 = "NODE1.contoso.local", "NODE2.contoso.local"


def race(host: str, release: str | None = "2008R2SP1", rid: int = 100) -> list[str]:
    """The KB 2406705 race (section 3.5): R1 with R4 and R5, then a lost write (R6)."""
    events = [hw.os_info(host, rid, "2011-06-14T06:58:01.0000000", release)] if release else []
    return [
        *events,
        hw.created(host, rid + 1, "2011-06-14T06:58:20.1000000", 1),
        hw.added(host, rid + 2, "2011-06-14T06:58:20.1001000", 1, 1),
        hw.added(host, rid + 3, "2011-06-14T06:58:20.1002000", 1, 2),
        hw.created(host, rid + 4, "2011-06-14T06:58:20.2000000", 2),
        hw.added(host, rid + 5, "2011-06-14T06:58:20.2001000", 2, 1),
        hw.added(host, rid + 6, "2011-06-14T06:58:20.2002000", 2, 2),
        hw.failover(host, rid + 7, "2011-06-14T07:47:10.4021132", 1, P1),
        hw.failover(host, rid + 8, "2011-06-14T07:47:10.4050201", 2, P1),
        hw.degraded(host, rid + 9, "2011-06-14T07:47:10.6110000", 2),
        hw.no_path(host, rid + 10, "2011-06-14T07:47:12.1300000", 1),
        hw.torn_down(host, rid + 11, "2011-06-14T07:47:12.1350000", 1),
        hw.lost_write(host, rid + 12, "2011-06-14T07:47:15.0000000", "E:\\Data\\orders.mdb"),
    ]


def healthy(host: str, rid: int = 500) -> list[str]:
    """Both disks of the failover group fail over on the same Path ID and complete."""
    return [
        hw.os_info(host, rid, "2011-06-14T06:58:02.0000000", "2008R2SP1"),
        hw.created(host, rid + 1, "2011-06-14T06:58:21.1000000", 1),
        hw.added(host, rid + 2, "2011-06-14T06:58:21.1001000", 1, 1),
        hw.added(host, rid + 3, "2011-06-14T06:58:21.1002000", 1, 2),
        hw.created(host, rid + 4, "2011-06-14T06:58:21.2000000", 2),
        hw.added(host, rid + 5, "2011-06-14T06:58:21.2001000", 2, 1),
        hw.added(host, rid + 6, "2011-06-14T06:58:21.2002000", 2, 2),
        hw.failover(host, rid + 7, "2011-06-14T07:47:10.4100000", 1, P1),
        hw.failover(host, rid + 8, "2011-06-14T07:47:10.4200000", 2, P1),
        hw.degraded(host, rid + 9, "2011-06-14T07:47:13.6000000", 1),
        hw.degraded(host, rid + 10, "2011-06-14T07:47:13.6100000", 2),
    ]


def analyze(tmp_path: Path, **files: list[str]) -> pipeline.CaseResult:
    return pipeline.analyze([hw.write(tmp_path / f"{name}.xml", events)
                             for name, events in files.items()])


def hosts_json(case: pipeline.CaseResult) -> dict[str, dict]:
    return {h["host"]: h for h in json.loads(render_json(case))["hosts"]}


def test_race_on_2008_r2_is_the_race(tmp_path: Path) -> None:
    case = analyze(tmp_path, System=race(NODE1))
    assert case.verdict.id == "kb2406705-race"
    assert hosts_json(case)[NODE1]["os"] == "Windows Server 2008 R2 SP1"


def test_issue_14_race_signature_on_2012_r2_is_not_the_race(tmp_path: Path) -> None:
    case = analyze(tmp_path, System=race(NODE1, "2012R2"))
    assert case.verdict.id == "inconclusive"
    assert any("does not apply" in r and "Windows Server 2012 R2" in r
               for r in case.verdict.reasons)
    assert any(f.rule.id == "mpio-duplicate-failover" for f in case.findings)  # a fact stays
    document = json.loads(render_json(case))
    assert document["hotfix"][0]["status"] == "not-applicable"
    assert document["hosts"][0]["kb2406705_os"] == "does-not-apply"
    assert "Install the KB 2406705 hotfix" not in case.verdict.advice


def test_issue_14_os_not_in_the_logs_keeps_the_race_with_less_confidence(
        tmp_path: Path) -> None:
    (tmp_path / "known").mkdir()
    (tmp_path / "unknown").mkdir()
    known = analyze(tmp_path / "known", System=race(NODE1))
    unknown = analyze(tmp_path / "unknown", System=race(NODE1, None))
    assert unknown.verdict.id == "kb2406705-race"
    assert unknown.verdict.confidence < known.verdict.confidence
    assert any("OS not in the logs" in r for r in unknown.verdict.reasons)


@pytest.mark.parametrize(("installed", "status", "words"), [
    ("2011-05-02T10:00:00.0000000", "installed-before-incident", "installed before the incident"),
    ("2011-06-20T10:00:00.0000000", "installed-after-incident", "installed after the incident"),
])
def test_issue_14_hotfix_evidence(tmp_path: Path, installed: str, status: str,
                                  words: str) -> None:
    update = hw.update_installed(NODE1, 90, installed, "Hotfix for Windows (KB2406705)")
    plain_dir, fixed_dir = tmp_path / "plain", tmp_path / "fixed"
    plain_dir.mkdir()
    fixed_dir.mkdir()
    plain = analyze(plain_dir, System=race(NODE1))
    case = analyze(fixed_dir, System=[update, *race(NODE1)])
    assert case.verdict.id == "kb2406705-race"
    assert case.hotfix[0].status == status
    assert any(words in r for r in case.verdict.reasons)
    if status == "installed-before-incident":
        assert case.verdict.confidence < plain.verdict.confidence
    else:
        assert case.verdict.confidence == plain.verdict.confidence


def test_issue_14_two_node_cluster_gets_a_verdict_per_node(tmp_path: Path) -> None:
    # Both nodes log the same Path ID and the same MPIO disk numbers.
    case = analyze(tmp_path, **{"System-NODE1": race(NODE1), "System-NODE2": healthy(NODE2)})
    hosts = hosts_json(case)
    assert hosts[NODE1]["verdict"] == "kb2406705-race"
    assert hosts[NODE2]["verdict"] == "healthy-failover"
    assert case.verdict.id == "kb2406705-race"  # the most severe host verdict
    assert all(f.host == NODE1 for f in case.findings if f.severity != "info")
    race_paths = {(f.host, f.path_id) for f in case.findings
                  if f.rule.id == "mpio-duplicate-failover"}
    assert race_paths == {(NODE1, P1)}
    luns = {(lun.host, lun.mpio_disk): lun.outcome for lun in case.luns}
    assert luns[(NODE1, 1)] == "removed" and luns[(NODE2, 1)] == "degraded"


def test_issue_14_the_healthy_node_alone_is_healthy(tmp_path: Path) -> None:
    case = analyze(tmp_path, **{"System-NODE2": healthy(NODE2)})
    assert case.verdict.id == "healthy-failover"


def test_issue_14_short_name_and_fqdn_kept_apart_without_proof(tmp_path: Path) -> None:
    case = analyze(tmp_path, **{"System-a": race("NODE1"), "System-b": healthy(NODE1)})
    hosts = hosts_json(case)
    assert set(hosts) == {"NODE1", NODE1}
    assert hosts["NODE1"]["same_machine_unproven"] == [NODE1]
    assert any("may be the same machine" in r for r in hosts[NODE1]["reasons"])


def test_issue_14_short_name_and_fqdn_are_one_host_when_one_log_names_both(
        tmp_path: Path) -> None:
    # One System log whose computer name gained its domain after a reboot.
    events = race("NODE1") + healthy(NODE1, rid=900)[1:]
    case = analyze(tmp_path, System=events)
    assert [h.host for h in case.hosts] == [NODE1]
    merged = json.loads(render_json(case))["host_names_merged"]
    assert merged == [{"name": "NODE1", "into": NODE1,
                       "proof": f"both name the computer of records in {tmp_path / 'System.xml'}"}]


SECURITY = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-Security-Auditing' "
            "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4624</EventID>"
            "<Version>1</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode>"
            "<Keywords>0x8020000000000000</Keywords>"
            "<TimeCreated SystemTime='2011-06-14T07:47:10.0000000Z'/>"
            "<EventRecordID>{rid}</EventRecordID><Channel>Security</Channel>"
            "<Computer>NODE1.contoso.local</Computer><Security/></System>"
            "<EventData><Data Name='TargetUserName'>svc_sql</Data></EventData></Event>")


@pytest.mark.parametrize("all_events", [False, True])
def test_issue_14_a_security_log_alone_cannot_answer(tmp_path: Path, all_events: bool) -> None:
    log = hw.write(tmp_path / "Security.xml", [SECURITY.replace("{rid}", str(n))
                                               for n in range(1, 4)])
    case = pipeline.analyze([log], all_events=all_events)
    assert case.verdict.id == "no-mpio-activity"
    assert case.verdict.confidence <= 0.5
    assert any("cannot show an MPIO failover" in r for r in case.verdict.reasons)


def test_issue_14_redaction_keeps_unproven_names_apart(tmp_path: Path) -> None:
    from evtxmpio.report.jsonout import case_dict
    from evtxmpio.report.redact import collect

    case = analyze(tmp_path, **{"System-a": race("NODE1"), "System-b": healthy(NODE1)})
    document = collect(case).walk(case_dict(case))
    names = [h["host"] for h in document["hosts"]]
    assert len(set(names)) == 2 and not {"NODE1", NODE1} & set(names)


def _driver(version: str) -> str:
    """A driver configuration event naming mpio.sys and its file version (named Data)."""
    return ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-Kernel-PnP'/><EventID>400</EventID>"
            "<Level>4</Level><TimeCreated SystemTime='2011-05-02T10:00:00.0000000Z'/>"
            "<EventRecordID>95</EventRecordID><Channel>System</Channel>"
            f"<Computer>{NODE1}</Computer></System><EventData>"
            "<Data Name='DriverName'>mpio.sys</Data>"
            f"<Data Name='DriverVersion'>{version}</Data></EventData></Event>")


@pytest.mark.parametrize(("version", "status"), [
    ("6.1.7601.21720", "installed-before-incident"),  # the first fixed 2008 R2 SP1 build (3.6)
    ("6.1.7601.17514", "unknown"),                    # 2008 R2 SP1 RTM: not fixed (3.6)
])
def test_issue_14_an_mpio_sys_version_at_or_past_the_fixed_one(tmp_path: Path, version: str,
                                                                status: str) -> None:
    log = hw.write(tmp_path / "System.xml", [_driver(version), *race(NODE1)])
    case = pipeline.analyze([log], all_events=True)
    assert case.hotfix[0].status == status


def _servicing(error: str) -> str:
    """Servicing 2 in the Setup log: package KB2406705 changed state (domain reference 2.8)."""
    return ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
            "<Provider Name='Microsoft-Windows-Servicing' "
            "Guid='{bd12f3b8-fc40-4a61-a307-b7a013a069c1}'/><EventID>2</EventID>"
            "<Version>0</Version><Level>0</Level><Task>1</Task><Opcode>0</Opcode>"
            "<Keywords>0x8000000000000000</Keywords>"
            "<TimeCreated SystemTime='2011-05-02T10:00:00.0000000Z'/>"
            "<EventRecordID>41</EventRecordID><Channel>Setup</Channel>"
            f"<Computer>{NODE1}</Computer><Security UserID='S-1-5-18'/></System><UserData>"
            "<CbsPackageChangeState xmlns='http://manifests.microsoft.com/win/2004/08/windows/"
            "setup_provider'><PackageIdentifier>KB2406705</PackageIdentifier>"
            "<IntendedPackageState>Installed</IntendedPackageState>"
            f"<ErrorCode>{error}</ErrorCode><Client>WindowsUpdateAgent</Client>"
            "</CbsPackageChangeState></UserData></Event>")


@pytest.mark.parametrize(("error", "status"), [("0x0", "installed-before-incident"),
                                               ("0x800f081e", "unknown")])
def test_issue_14_servicing_in_the_setup_log(tmp_path: Path, error: str, status: str) -> None:
    case = analyze(tmp_path, Setup=[_servicing(error)], System=race(NODE1))
    assert case.hotfix[0].status == status
    assert case.verdict.id == "kb2406705-race"


def test_issue_14_a_restart_event_proves_the_short_name(tmp_path: Path) -> None:
    # The FQDN's own log restarts "NODE1" (USER32 1074, second string): the short-name log
    # (another file) is the same machine.
    fqdn_log = [hw.restart(NODE1, 99, "2011-06-14T06:50:00.0000000", "NODE1"), *healthy(NODE1)]
    case = analyze(tmp_path, **{"System-a": race("NODE1"), "System-b": fqdn_log})
    assert [h.host for h in case.hosts] == [NODE1]
    assert case.host_names.merged[0][:2] == ("NODE1", NODE1)
    assert "USER32 1074" in case.host_names.merged[0][2]


def test_issue_14_a_restart_of_another_machine_proves_nothing(tmp_path: Path) -> None:
    fqdn_log = [hw.restart(NODE1, 99, "2011-06-14T06:50:00.0000000", "ADMIN01"),
                *healthy(NODE1)]
    case = analyze(tmp_path, **{"System-a": race("NODE1"), "System-b": fqdn_log})
    assert sorted(h.host for h in case.hosts) == ["NODE1", NODE1]
