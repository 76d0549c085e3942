"""The deterministic discrete-event failover model (``fixed`` and ``buggy`` variants).

:class:`FailoverModel` pulls the I/O stream one request at a time and runs an agenda of
timed handlers (fault injections and the failover steps of :mod:`evtxmpio.replay.failover`).
A request is handled before a handler due at the same instant. Randomness (error-completion
delays) comes from one ``random.Random`` per host seeded with the workload seed, so the same
workload and stream always give the same events. Memory is bounded by the requests of the last
30 seconds and by the MPIO-related events, which are few; the stream itself is never stored.

Output (:class:`ModelResult`): per host, the System-log records and trace events in time order,
each disk's state transitions, the duplicate failovers, the lost files and counters.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from evtxmpio.replay import failover, outcomes
from evtxmpio.replay.state import DiskState, HostState
from evtxmpio.replay.workload import MIN_FAULT_SPACING_S, WorkloadError, seconds_to_ns

if TYPE_CHECKING:
    from evtxmpio.replay.events import SystemEvent, TraceEvent
    from evtxmpio.replay.stream import IoRequest
    from evtxmpio.replay.workload import Workload

VARIANTS = ("buggy", "fixed")
RECENT_WINDOW_S = 30.0
WRITE_MEMORY_S = 60.0


@dataclass(frozen=True, slots=True)
class PathAction:
    """One expanded fault: a path fails or returns at ``time_ns``."""

    time_ns: int
    host: str
    kind: str  # "fail" | "restore"
    path: int
    all_down: bool = False


@dataclass
class ModelResult:
    """What one model run produced."""

    variant: str
    hosts: dict[str, HostState]
    requests: int = 0
    stream_end_ns: int = 0
    actions: list[PathAction] = field(default_factory=list)

    def system_events(self, host: str) -> list[SystemEvent]:
        """The host's model System-log records (record_id 0), in time order."""
        return [event for _, _, event in sorted(self.hosts[host].system, key=_order)]

    def trace_events(self, host: str) -> list[TraceEvent]:
        """The host's trace events, in time order."""
        return [event for _, _, event in sorted(self.hosts[host].trace, key=_order)]

    def transitions(self, host: str, disk: int) -> list[tuple[int, str, str]]:
        """``(time_ns, old, new)`` state transitions of one MPIO disk, in time order."""
        return sorted(self.hosts[host].disks[disk].transitions, key=lambda item: item[0])

    def state_sequence(self, host: str, disk: int) -> list[str]:
        """The disk's states in order, starting with NORMAL."""
        states = ["NORMAL"]
        states += [new for _, _, new in self.transitions(host, disk)]
        return states


def _order(item: tuple[int, int, object]) -> tuple[int, int]:
    return item[0], item[1]


def expand_faults(workload: Workload) -> list[PathAction]:
    """Turn the workload's faults into timed path failures and restores.

    Raises:
        WorkloadError: two actions on one host are closer than the minimum spacing.
    """
    actions: list[PathAction] = []
    for fault in workload.faults:
        start = workload.start_ns + seconds_to_ns(fault.at_s)
        if fault.type == "surprise-removal":
            actions.append(PathAction(start, fault.host, "fail", fault.path))
        elif fault.type == "path-restore":
            actions.append(PathAction(start, fault.host, "restore", fault.path))
        elif fault.type == "flapping":
            for cycle in range(fault.cycles):
                down = start + seconds_to_ns(cycle * fault.period_s)
                actions.append(PathAction(down, fault.host, "fail", fault.path))
                up = down + seconds_to_ns(fault.period_s / 2)
                actions.append(PathAction(up, fault.host, "restore", fault.path))
        else:
            for index, path in enumerate(workload.host(fault.host).paths):
                actions.append(
                    PathAction(
                        start + seconds_to_ns(0.03 * index), fault.host, "fail", path, all_down=True
                    )
                )
    actions.sort(key=lambda action: (action.time_ns, action.host, action.path))
    _check_spacing(actions)
    return actions


def _check_spacing(actions: list[PathAction]) -> None:
    last: dict[tuple[str, int], int] = {}
    for action in actions:
        key = (action.host, action.path)
        previous = last.get(key)
        if previous is not None and action.time_ns - previous < seconds_to_ns(MIN_FAULT_SPACING_S):
            raise WorkloadError(
                f"faults: actions on path 0x{action.path:08X} of {action.host} "
                f"are less than {MIN_FAULT_SPACING_S} s apart"
            )
        last[key] = action.time_ns


class FailoverModel:
    """Runs a workload's I/O stream through the MPIO failover model.

    Args:
        workload: the validated workload.
        variant: ``"buggy"`` (pre-KB 2406705 mpio.sys) or ``"fixed"``.
    """

    def __init__(self, workload: Workload, variant: str = "buggy") -> None:
        if variant not in VARIANTS:
            raise WorkloadError(f"model: {variant!r} is not one of {list(VARIANTS)}")
        self.workload = workload
        self.variant = variant
        self.timing = workload.timing
        self.rng = random.Random(f"{workload.seed}:model")
        self.now = workload.start_ns
        self._agenda: list[tuple[int, int, Callable[..., None], tuple]] = []
        self._seq = 0
        self.hosts = {host.name: _host_state(host) for host in workload.hosts}

    def schedule(self, time_ns: int, handler: Callable[..., None], *args: object) -> None:
        """Run ``handler(*args)`` at ``time_ns`` (ties run in scheduling order)."""
        self._seq += 1
        heapq.heappush(self._agenda, (max(time_ns, self.now), self._seq, handler, args))

    def run(self, requests: Iterable[IoRequest]) -> ModelResult:
        """Replay ``requests`` (sorted by issue time) and return what was logged."""
        result = ModelResult(self.variant, self.hosts, actions=expand_faults(self.workload))
        for action in result.actions:
            self.schedule(action.time_ns, self._act, action)
        source: Iterator[IoRequest] = iter(requests)
        request = next(source, None)
        while request is not None or self._agenda:
            if request is not None and (not self._agenda or request.issue_ns <= self._agenda[0][0]):
                self.now = max(self.now, request.issue_ns)
                self._on_request(request)
                result.requests += 1
                result.stream_end_ns = request.issue_ns
                request = next(source, None)
            else:
                time_ns, _, handler, args = heapq.heappop(self._agenda)
                self.now = time_ns
                handler(*args)
        return result

    def _act(self, action: PathAction) -> None:
        hs = self.hosts[action.host]
        if action.kind == "fail":
            failover.fail_path(self, hs, action.path, self.now, action.all_down)
        else:
            outcomes.restore_path(self, hs, action.path)

    def _on_request(self, request: IoRequest) -> None:
        hs = self.hosts.get(request.host)
        disk = hs.disks.get(request.mpio_disk) if hs is not None else None
        if disk is None:
            raise WorkloadError(
                f"I/O stream request 0x{request.request_id:X}: host "
                f"{request.host!r} MPIO disk {request.mpio_disk} not in workload"
            )
        _remember(hs, disk, request, self.now)
        if disk.removed:
            hs.count("requests_lost")
            return
        if disk.broken:
            outcomes.race_teardown(self, hs, None, disk, request)
            return
        epoch = hs.epochs.get(request.path_id)
        if epoch is None:
            return
        if disk in epoch.members or disk.doomed:
            hs.count("requests_redirected")
            return
        failover.request_failed(self, hs, epoch, disk, request, self.now)


def _host_state(host) -> HostState:
    disks = {lun.mpio_disk: DiskState(lun=lun, active=set(lun.paths)) for lun in host.luns}
    return HostState(host=host, disks=disks)


def _remember(hs: HostState, disk: DiskState, request: IoRequest, now: int) -> None:
    recent = hs.recent
    recent.append(request)
    horizon = now - seconds_to_ns(RECENT_WINDOW_S)
    while recent and recent[0].issue_ns < horizon:
        recent.popleft()
    if request.operation == "write" and not disk.removed:
        files = disk.lun.files
        span = max(1, disk.lun.size_gb * (1 << 30) // len(files))
        disk.writes.append((request.issue_ns, files[min(len(files) - 1, request.offset // span)]))
        horizon = now - seconds_to_ns(WRITE_MEMORY_S)
        while disk.writes and disk.writes[0][0] < horizon:
            disk.writes.popleft()
