"""Path restoration from the System log alone (issue 14 item 7; domain reference 2.1, 2.6, 6).

Hand-written logs: a failed path comes back when mpio 2 brings its disk back to the path count
it had, or when iScsiPrt 34 reconnects the only failed path of that RaidPort; where nothing
says, the path lane is ``unknown`` after the last evidence instead of ``failed`` forever.
"""

from __future__ import annotations

from pathlib import Path

from evtxmpio import pipeline
from tests import handwritten as hw

HOST = "FS01.contoso.local"
P1, P2, P3 = 0x77030001, 0x77030002, 0x77030003
T = "2011-06-14T07:"


def _paths(tmp_path: Path, events: list[str]) -> dict[int, list[tuple[str, str, str]]]:
    case = pipeline.analyze([hw.write(tmp_path / "System.xml", events)])
    lanes: dict[int, list[tuple[str, str, str]]] = {}
    rows = case.timelines.loc[case.timelines["scope"] == "path"]
    for key, time, old, new in rows[["key", "time", "from_state", "to_state"]].itertuples(
            index=False, name=None):
        lanes.setdefault(int(key), []).append((time.strftime("%M:%S"), old, new))
    return lanes


def _boot(paths: int, disks: tuple[int, ...] = (1,)) -> list[str]:
    events, rid = [], 100
    for n in disks:
        events.append(hw.created(HOST, rid, f"{T}00:00.0000000", n))
        rid += 1
        for count in range(1, paths + 1):
            events.append(hw.added(HOST, rid, f"{T}00:00.{count:07d}", n, count))
            rid += 1
    return events


def test_path_count_back_to_full_restores_the_path(tmp_path: Path) -> None:
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1),
              hw.added(HOST, 202, f"{T}49:00.0000000", 1, 2)]
    case = pipeline.analyze([hw.write(tmp_path / "System.xml", events)])
    assert _paths(tmp_path, events) == {P1: [("47:10", "active", "failed"),
                                             ("49:00", "failed", "restored")]}
    disk = case.timelines.loc[case.timelines["scope"] == "disk", "to_state"].tolist()
    assert disk[-1] == "NORMAL"


def test_a_path_count_short_of_full_cannot_say_which_path_returned(tmp_path: Path) -> None:
    events = [*_boot(3), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.failover(HOST, 201, f"{T}47:11.4000000", 1, P2),
              hw.degraded(HOST, 202, f"{T}47:13.6000000", 1),
              hw.added(HOST, 203, f"{T}49:00.0000000", 1, 2),
              hw.added(HOST, 204, f"{T}50:00.0000000", 1, 3)]
    lanes = _paths(tmp_path, events)
    assert lanes[P1] == [("47:10", "active", "failed"), ("49:00", "failed", "unknown"),
                         ("50:00", "unknown", "restored")]
    assert lanes[P2] == [("47:11", "active", "failed"), ("49:00", "failed", "unknown"),
                         ("50:00", "unknown", "restored")]


def test_iscsi_reconnect_restores_the_only_failed_path_of_its_port(tmp_path: Path) -> None:
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1),
              hw.reconnected(HOST, 202, f"{T}48:30.0000000", 3)]
    assert _paths(tmp_path, events) == {P1: [("47:10", "active", "failed"),
                                             ("48:30", "failed", "restored")]}


def test_iscsi_reconnect_with_several_failed_sessions_on_the_port_is_unknown(
        tmp_path: Path) -> None:
    events = [*_boot(3, (1, 2)), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.failover(HOST, 201, f"{T}47:10.5000000", 2, P2),
              hw.degraded(HOST, 202, f"{T}47:13.6000000", 1),
              hw.degraded(HOST, 203, f"{T}47:13.7000000", 2),
              hw.reconnected(HOST, 204, f"{T}48:30.0000000", 3)]
    lanes = _paths(tmp_path, events)
    assert lanes[P1][-1] == ("48:30", "failed", "unknown")
    assert lanes[P2][-1] == ("48:30", "failed", "unknown")


def test_a_reconnect_on_another_port_restores_nothing(tmp_path: Path) -> None:
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P3),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1),
              hw.reconnected(HOST, 202, f"{T}48:30.0000000", 4)]
    # The reconnect is the log's last event but says nothing about P3: unknown after 17.
    assert _paths(tmp_path, events) == {P3: [("47:10", "active", "failed"),
                                             ("47:13", "failed", "unknown")]}


def test_without_evidence_of_return_the_lane_is_unknown_after_the_last_evidence(
        tmp_path: Path) -> None:
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1),
              hw.os_info(HOST, 202, "2011-06-14T12:00:00.0000000", "2008R2SP1")]
    assert _paths(tmp_path, events) == {P1: [("47:10", "active", "failed"),
                                             ("47:13", "failed", "unknown")]}


def test_a_log_that_ends_with_the_evidence_keeps_the_path_failed(tmp_path: Path) -> None:
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1)]
    assert _paths(tmp_path, events) == {P1: [("47:10", "active", "failed")]}


def test_another_host_never_restores_a_path(tmp_path: Path) -> None:
    other = "FS02.contoso.local"
    events = [*_boot(2), hw.failover(HOST, 200, f"{T}47:10.4000000", 1, P1),
              hw.degraded(HOST, 201, f"{T}47:13.6000000", 1),
              hw.added(other, 300, f"{T}48:00.0000000", 1, 2),
              hw.reconnected(other, 301, f"{T}48:30.0000000", 3),
              hw.os_info(HOST, 202, "2011-06-14T12:00:00.0000000", "2008R2SP1")]
    assert _paths(tmp_path, events) == {P1: [("47:10", "active", "failed"),
                                             ("47:13", "failed", "unknown")]}
