"""The failover model's transitions and events, for both variants (issue 3)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from evtxmpio.replay.model import FailoverModel, expand_faults
from evtxmpio.replay.stream import generate_stream
from evtxmpio.replay.truth import ground_truth
from evtxmpio.replay.workload import WorkloadError, load_workload

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
HEALTHY = ["NORMAL", "IN_FO", "WAIT1", "WAIT2", "WAIT3", "DEGRADED", "NORMAL"]


def run(sample: str, variant: str):
    workload = load_workload(SAMPLES / sample / "workload.yaml")
    result = FailoverModel(workload, variant).run(generate_stream(workload))
    return workload, result, ground_truth(workload, result)


def mpio_ids(result, host: str, disk: int) -> list[int]:
    device = f"\\Device\\MPIODisk{disk}"
    return [e.event_id for e in result.system_events(host)
            if e.provider == "mpio" and e.data[0] == device]


def trace(result, host: str, name: str, **match: str) -> list[dict[str, str]]:
    rows = [dict(e.fields) for e in result.trace_events(host) if e.name == name]
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def test_buggy_race_state_sequences() -> None:
    _, result, truth = run("kb2406705-race", "buggy")
    host = "FS01.contoso.local"
    assert result.state_sequence(host, 1) == HEALTHY
    assert result.state_sequence(host, 2) == ["NORMAL", "DEGRADED", "REMOVED"]
    assert truth["verdict"] == "kb2406705-race"
    assert truth["duplicated_path_ids"] == ["0x77030001"]
    assert {d["mpio_disk"]: d["outcome"] for d in truth["disks"]} == {1: "recovered", 2: "removed"}
    assert truth["data_loss"] and all(
        f["file"].startswith("\\Device\\HarddiskVolume5\\") for f in truth["delayed_write_files"])


def test_buggy_race_system_events() -> None:
    _, result, _ = run("kb2406705-race", "buggy")
    host = "FS01.contoso.local"
    assert mpio_ids(result, host, 1) == [16, 17, 2]
    assert mpio_ids(result, host, 2) == [16, 17, 32, 22, 25]
    events = result.system_events(host)
    sixteen = {e.data[0]: e for e in events if e.provider == "mpio" and e.event_id == 16}
    seventeen = {e.data[0]: e for e in events if e.provider == "mpio" and e.event_id == 17}
    racer, lead = "\\Device\\MPIODisk2", "\\Device\\MPIODisk1"
    assert seventeen[racer].time_ns - sixteen[racer].time_ns < 1_000_000_000  # R2, System log
    assert seventeen[lead].time_ns > seventeen[racer].time_ns
    for event in sixteen.values():  # Path ID in the dump as 8-byte LE
        assert struct.unpack_from("<Q", event.binary, 0x28)[0] == 0x77030001
    lost = [e for e in events if e.provider in ("Ntfs", "Application Popup")]
    assert [e.provider for e in lost] == ["Ntfs", "Application Popup"] * (len(lost) // 2)
    removed_at = next(e.time_ns for e in events if e.provider == "mpio" and e.event_id == 22)
    assert all(e.time_ns > removed_at for e in lost)


def test_buggy_race_trace_signals() -> None:
    _, result, _ = run("kb2406705-race", "buggy")
    host = "FS01.contoso.local"
    starts = trace(result, host, "FailoverStart", PathId="0x77030001")
    assert [s["MpioDisk"] for s in starts] == ["1", "2"]  # R1
    events = result.trace_events(host)
    first_complete = next(e.time_ns for e in events if e.name == "FailoverComplete"
                          and dict(e.fields)["FailoverId"] == starts[0]["FailoverId"])
    second_start = next(e.time_ns for e in events if e.name == "FailoverStart"
                        and dict(e.fields)["MpioDisk"] == "2")
    assert second_start < first_complete
    assert trace(result, host, "StateChange", MpioDisk="2", OldState="NORMAL",
                 NewState="DEGRADED")  # R2
    racer_done = next(e.time_ns for e in events if e.name == "FailoverComplete"
                      and dict(e.fields)["MpioDisk"] == "2")
    late = [e for e in events if e.name == "IoComplete" and e.time_ns > racer_done
            and dict(e.fields)["MpioDisk"] == "2"
            and dict(e.fields)["FailoverId"] == starts[1]["FailoverId"]]
    assert late  # R3
    nopath = trace(result, host, "GetPathResult", MpioDisk="2", ReturnedPathId="0x00000000")
    assert nopath and int(nopath[0]["ValidPathCount"]) >= 1  # R4
    assert trace(result, host, "MpioDiskRemoved", MpioDisk="2", Reason="FailoverFailed")  # R5


def test_fixed_counterfactual_is_healthy() -> None:
    _, result, truth = run("kb2406705-race", "fixed")
    host = "FS01.contoso.local"
    assert result.state_sequence(host, 1) == HEALTHY
    assert result.state_sequence(host, 2) == HEALTHY
    assert truth["verdict"] == "healthy-failover" and not truth["data_loss"]
    starts = trace(result, host, "FailoverStart", PathId="0x77030001")
    joins = trace(result, host, "FailoverJoin", PathId="0x77030001")
    assert len(starts) == 1 and [j["FailoverId"] for j in joins] == [starts[0]["FailoverId"]]
    for disk in (1, 2):
        assert mpio_ids(result, host, disk) == [16, 17, 2]
    assert not [e for e in result.system_events(host) if e.event_id in (22, 23, 32)
                and e.provider == "mpio"]


def test_fixed_disks_wait_for_outstanding_io() -> None:
    _, result, _ = run("four-luns-race-noise", "fixed")
    host = "FS01.contoso.local"
    events = result.trace_events(host)
    for disk in ("1", "2", "3", "4"):
        done = next(e.time_ns for e in events if e.name == "FailoverComplete"
                    and dict(e.fields)["MpioDisk"] == disk)
        failed = [e.time_ns for e in events if e.name == "IoComplete"
                  and dict(e.fields)["MpioDisk"] == disk and dict(e.fields)["FailoverId"] != "0"]
        assert all(time < done for time in failed)


def test_four_luns_race_tears_down_one_disk() -> None:
    _, result, truth = run("four-luns-race-noise", "buggy")
    outcomes = sorted(d["outcome"] for d in truth["disks"])
    assert outcomes == ["recovered", "recovered", "recovered", "removed"]
    assert truth["verdict"] == "kb2406705-race"
    assert len(trace(result, "FS01.contoso.local", "FailoverStart")) == 2
    assert len(trace(result, "FS01.contoso.local", "FailoverJoin")) == 2


def test_single_disk_never_races() -> None:
    _, result, truth = run("healthy-failover", "buggy")
    assert result.state_sequence("SQL02.fabrikam.local", 0) == HEALTHY
    assert truth["verdict"] == "healthy-failover"


def test_all_paths_down() -> None:
    _, result, truth = run("all-paths-down", "buggy")
    host = "FS03.contoso.local"
    assert truth["verdict"] == "all-paths-down" and truth["data_loss"]
    assert not truth["duplicated_path_ids"]
    for disk in (0, 1):
        assert result.state_sequence(host, disk) == ["NORMAL", "IN_FO", "REMOVED"]
        assert mpio_ids(result, host, disk)[-3:] == [16, 16, 23]
    iscsi = [e for e in result.system_events(host) if e.provider == "iScsiPrt"]
    assert [e.event_id for e in iscsi] == [20, 20]
    assert trace(result, host, "MpioDiskRemoved", Reason="AllPathsFailed")
    assert not trace(result, host, "GetPathResult", ReturnedPathId="0x00000000",
                     ValidPathCount="1")


def test_path_flapping_cycles() -> None:
    _, result, truth = run("path-flapping", "buggy")
    host = "HV01.contoso.local"
    assert truth["verdict"] == "path-flapping"
    assert result.state_sequence(host, 0) == ["NORMAL"] + HEALTHY[1:] * 5
    assert len(trace(result, host, "PathArrived", PathId="0x77050002")) == 5
    assert mpio_ids(result, host, 0).count(16) == 5


def test_no_faults_no_mpio_activity() -> None:
    workload = load_workload(SAMPLES / "healthy-failover" / "workload.yaml")
    quiet = load_workload({**_raw("healthy-failover"), "faults": []})
    result = FailoverModel(quiet, "buggy").run(generate_stream(workload))
    assert ground_truth(quiet, result)["verdict"] == "no-mpio-activity"
    assert not result.trace_events("SQL02.fabrikam.local")


def _raw(sample: str) -> dict:
    import yaml

    return yaml.safe_load((SAMPLES / sample / "workload.yaml").read_text(encoding="utf-8"))


def test_flapping_expands_to_alternating_actions() -> None:
    workload = load_workload(SAMPLES / "path-flapping" / "workload.yaml")
    kinds = [action.kind for action in expand_faults(workload)]
    assert kinds == ["fail", "restore"] * 5


@pytest.mark.parametrize(("change", "message"), [
    ({"hosts": []}, "at least one host"),
    ({"faults": [{"type": "explode", "host": "x", "at_s": 1}]}, "explode"),
    ({"faults": [{"type": "surprise-removal", "host": "HV01.contoso.local", "path": 1,
                  "at_s": 60}]}, "not a path of"),
    ({"timing": {"bogus": 1}}, "bogus"),
])
def test_bad_workloads_name_the_problem(change: dict, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        load_workload({**_raw("path-flapping"), **change})


def test_faults_too_close_are_rejected() -> None:
    faults = [{"type": "surprise-removal", "host": "HV01.contoso.local", "path": 0x77050002,
               "at_s": 60}, {"type": "path-restore", "host": "HV01.contoso.local",
                             "path": 0x77050002, "at_s": 62}]
    workload = load_workload({**_raw("path-flapping"), "faults": faults})
    with pytest.raises(WorkloadError, match="apart"):
        expand_faults(workload)
