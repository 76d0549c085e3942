"""Failover handlers of the model: what mpio.sys + MSDSM do when a path fails or returns.

States and transitions (domain reference section 3.4; see ``README.md`` for the full table)::

    NORMAL --IN_FO--> WAIT1 --> WAIT2 --> WAIT3 --> DEGRADED --(all paths back)--> NORMAL
    DEGRADED --(another path fails)--> IN_FO
    any --(22/23 teardown)--> REMOVED
    buggy only:  NORMAL --> DEGRADED   (the KB 2406705 race, illegal)

A failure *epoch* of a Path ID runs from its removal to its next arrival. Within it the group
of MPIO disks behind the path (the failover group) fails over together: the first disk to see
a failed request (or, with no I/O in flight, the PnP surprise-removal notification) logs
``FailoverStart``; in the ``fixed`` variant every other disk ``FailoverJoin``\\s the same
failover, passes IN_FO/WAIT1/WAIT2/WAIT3, waits for its own outstanding requests and ends
DEGRADED with the rest of the group. In the ``buggy`` variant, when two or more disks share the
path and a path survives, one more disk (the *racer*: none of its requests has failed back yet;
preferably one with requests still in flight on the failed path, which then complete late)
starts a second failover for the same Path ID ``race_gap_ms`` later, goes NORMAL -> DEGRADED
directly without invalidating the path, so it keeps using the failed path; its next I/O (a late
completion of a request in flight across its failover, or a new request) asks MSDSM for a path
and gets none although one is valid (System 32), the failover fails (22, 25) and the disk is
torn down, losing the delayed writes of its volume (Ntfs 50 + Application Popup 26 per file).
A disk whose last path fails goes through 16 (18 on a single-path LUN), 23 and is removed after
``PDORemovePeriod``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evtxmpio.replay import records
from evtxmpio.replay.outcomes import lose_last_path, race_start, race_teardown
from evtxmpio.replay.state import (
    DEGRADED,
    FAILED,
    IN_FO,
    STATUS_SUCCESS,
    WAIT1,
    WAIT2,
    WAIT3,
    DiskState,
    Epoch,
    HostState,
    Model,
    hex_path,
    ms,
)
from evtxmpio.replay.workload import seconds_to_ns

if TYPE_CHECKING:
    from evtxmpio.replay.stream import IoRequest


def fail_path(model: Model, hs: HostState, path: int, now: int, all_down: bool = False) -> None:
    """Surprise removal of ``path`` at ``now``: requests in flight on it will fail."""
    if path in hs.epochs:
        return
    epoch = Epoch(path=path, failed_at=now, all_down=all_down)
    hs.epochs[path] = epoch
    hs.log(records.iscsi_event(now + ms(50), hs.host.name, 20, (path >> 16) & 0xFF))
    for disk in _group(hs, path):
        for request in hs.recent:
            if (
                request.mpio_disk == disk.number
                and request.path_id == path
                and request.issue_ns <= now < request.completion_ns
            ):
                request_failed(model, hs, epoch, disk, request, now)
    model.schedule(now + seconds_to_ns(model.timing.pnp_delay_s), pnp_notify, model, hs, epoch)


def _group(hs: HostState, path: int) -> list[DiskState]:
    return [d for _, d in sorted(hs.disks.items()) if not d.removed and path in d.active]


def request_failed(
    model: Model, hs: HostState, epoch: Epoch, disk: DiskState, request: IoRequest, now: int
) -> None:
    """``request`` sits on the dead path of ``epoch``; schedule its error completion."""
    timing = model.timing
    delay = timing.io_error_delay_s + model.rng.random() * timing.io_error_jitter_s
    disk.failed_rows.setdefault(epoch.path, []).append(request)
    disk.pending[epoch.path] = disk.pending.get(epoch.path, 0) + 1
    when = max(request.issue_ns, epoch.failed_at, now) + seconds_to_ns(delay)
    model.schedule(when, io_error_return, model, hs, epoch, disk, request)
    hs.count("requests_failed")


def pnp_notify(model: Model, hs: HostState, epoch: Epoch) -> None:
    """PnP surprise-removal reaches MPIO: PathRemoved per disk; start failover if none yet."""
    now = model.now
    for offset, disk in enumerate(_group(hs, epoch.path) or epoch.members):
        if disk.removed:
            continue
        hs.trace_event(
            now + ms(0.3 * offset),
            "PathRemoved",
            disk.number,
            hex_path(epoch.path),
            "PnpSurpriseRemoval",
            processor=disk.number % 4,
        )
        hs.dsm_state(disk, epoch.path, now + ms(0.3 * offset + 0.1), "DSM_DEV_REMOVED")
    group = _group(hs, epoch.path)
    if epoch.lead is None and group:
        start_failover(model, hs, epoch, group[0], "PnpSurpriseRemoval", None)


def io_error_return(
    model: Model, hs: HostState, epoch: Epoch, disk: DiskState, request: IoRequest
) -> None:
    """A request on the dead path comes back with STATUS_DEVICE_NOT_CONNECTED."""
    if disk.removed:
        return
    now = model.now
    if epoch.lead is None:
        start_failover(model, hs, epoch, disk, "IoError", request)
    disk.pending[epoch.path] -= 1
    if disk is epoch.racer and disk.broken:
        hs.trace_event(
            now,
            "IoComplete",
            disk.number,
            f"0x{request.request_id:X}",
            hex_path(epoch.path),
            hex_path(FAILED),
            disk.race_failover,
            processor=disk.number % 4,
        )
        hs.count("late_completions")
        race_teardown(model, hs, epoch, disk, request)
        return
    hs.trace_event(
        now + ms(0.6),
        "IoComplete",
        disk.number,
        f"0x{request.request_id:X}",
        hex_path(epoch.path),
        hex_path(FAILED),
        epoch.failover_id,
        processor=disk.number % 4,
    )
    if disk.state == WAIT1 and disk.pending[epoch.path] == 0:
        to_wait2(model, hs, epoch, disk, now + ms(0.7))


def start_failover(
    model: Model,
    hs: HostState,
    epoch: Epoch,
    lead: DiskState,
    trigger: str,
    request: IoRequest | None,
) -> None:
    """First failover request for the epoch's Path ID; notify the rest of the group."""
    now = model.now
    group = _group(hs, epoch.path)
    epoch.failover_id = hs.allocate_failover_id()
    epoch.lead, epoch.started_at = lead, now
    hs.trace_event(
        now,
        "FailoverGroupState",
        hex_path(epoch.path),
        "DSM_FG_NORMAL",
        "DSM_FG_FAILED",
        len(group),
    )
    racer = _pick_racer(model, hs, epoch, lead, group)
    request_id = f"0x{request.request_id:X}" if request is not None else "0x0"
    begin(model, hs, epoch, lead, now, ("FailoverStart", trigger, request_id))
    others = [disk for disk in group if disk is not lead]
    for offset, disk in enumerate(others, start=1):
        if disk is racer:
            model.schedule(now + ms(model.timing.race_gap_ms), race_start, model, hs, epoch, disk)
        else:
            begin(model, hs, epoch, disk, now + ms(1.7 * offset), ("FailoverJoin",))
    _maybe_complete(model, hs, epoch)


def _pick_racer(
    model: Model, hs: HostState, epoch: Epoch, lead: DiskState, group: list[DiskState]
) -> DiskState | None:
    if model.variant != "buggy" or epoch.all_down:
        return None
    dead = hs.dead_paths()
    candidates = [d for d in group if d is not lead and d.active - dead - {epoch.path}]
    if not candidates:
        return None
    in_flight = [d for d in candidates if d.pending.get(epoch.path)]
    epoch.racer = (in_flight or candidates)[0]
    return epoch.racer


def begin(
    model: Model, hs: HostState, epoch: Epoch, disk: DiskState, now: int, how: tuple[str, ...]
) -> None:
    """A disk enters the epoch's failover: NORMAL/DEGRADED -> IN_FO -> WAIT1 (or doomed)."""
    path, failover_id, cpu = epoch.path, epoch.failover_id, disk.number % 4
    epoch.members.append(disk)
    if how[0] == "FailoverStart":
        hs.trace_event(
            now, "FailoverStart", disk.number, hex_path(path), failover_id, *how[1:], processor=cpu
        )
    else:
        hs.trace_event(now, "FailoverJoin", disk.number, hex_path(path), failover_id, processor=cpu)
    hs.log_path_failover(disk, path, now + ms(0.2))
    disk.failed_over = True
    disk.active.discard(path)
    if disk.state != IN_FO:
        hs.set_state(disk, now + ms(0.3), IN_FO, failover_id)
    usable = sorted(disk.active - hs.dead_paths())
    if not usable:
        lose_last_path(model, hs, epoch, disk, now + ms(0.4))
    elif not disk.doomed:
        _switch_path(model, hs, epoch, disk, usable, now)


def _switch_path(
    model: Model, hs: HostState, epoch: Epoch, disk: DiskState, usable: list[int], now: int
) -> None:
    """MSDSM invalidates the failed path and hands out a surviving one: IN_FO -> WAIT1."""
    path, cpu = epoch.path, disk.number % 4
    status = hex_path(STATUS_SUCCESS)
    hs.trace_event(
        now + ms(0.4), "InvalidatePath", disk.dsm_id(path), disk.number, hex_path(path), status,
        processor=cpu,
    )  # fmt: skip
    hs.dsm_state(disk, path, now + ms(0.45), "DSM_DEV_INVALIDATED")
    disk.new_path = usable[0]
    hs.trace_event(
        now + ms(0.5), "GetPathResult", disk.dsm_id(usable[0]), disk.number,
        hex_path(usable[0]), len(usable), processor=cpu,
    )  # fmt: skip
    hs.set_state(disk, now + ms(0.55), WAIT1, epoch.failover_id)
    epoch.waiting.add(disk.number)
    if not disk.pending.get(path):
        to_wait2(model, hs, epoch, disk, now + ms(0.6))


def to_wait2(model: Model, hs: HostState, epoch: Epoch, disk: DiskState, now: int) -> None:
    """All requests outstanding on the failed path are back: resubmit them down the new path."""
    hs.set_state(disk, now, WAIT2, epoch.failover_id)
    done = now
    for request in disk.failed_rows.pop(epoch.path, []):
        finish = now + max(100, request.completion_ns - request.issue_ns)
        hs.trace_event(
            finish,
            "IoComplete",
            disk.number,
            f"0x{request.request_id:X}",
            hex_path(disk.new_path),
            hex_path(STATUS_SUCCESS),
            0,
            processor=disk.number % 4,
        )
        hs.count("requests_resubmitted")
        done = max(done, finish)
    model.schedule(done + ms(0.1), to_wait3, model, hs, epoch, disk)


def to_wait3(model: Model, hs: HostState, epoch: Epoch, disk: DiskState) -> None:
    """The resubmit queue drained; the disk waits for the group's failover to complete."""
    hs.set_state(disk, model.now, WAIT3, epoch.failover_id)
    epoch.waiting.discard(disk.number)
    _maybe_complete(model, hs, epoch)


def _maybe_complete(model: Model, hs: HostState, epoch: Epoch) -> None:
    waiting_or_wait3 = [d for d in epoch.members if d.state in (WAIT1, WAIT2, WAIT3)]
    if epoch.waiting or epoch.completed or not waiting_or_wait3:
        return
    earliest = epoch.started_at + seconds_to_ns(model.timing.min_failover_s)
    epoch.completed = True
    model.schedule(max(model.now, earliest) + ms(10), complete_failover, model, hs, epoch)


def complete_failover(model: Model, hs: HostState, epoch: Epoch) -> None:
    """The failover queue drained: every member in WAIT3 goes DEGRADED and logs 17."""
    members = [d for d in epoch.members if d.state == WAIT3 and not d.removed]
    for offset, disk in enumerate(members):
        when = model.now + ms(1.1 * offset)
        hs.set_state(disk, when, DEGRADED, epoch.failover_id)
        hs.trace_event(
            when + ms(0.1),
            "FailoverComplete",
            disk.number,
            hex_path(epoch.path),
            epoch.failover_id,
            hex_path(disk.new_path),
            hex_path(STATUS_SUCCESS),
            processor=disk.number % 4,
        )
        hs.log(records.mpio_event(when + ms(0.2), hs.host.name, 17, disk.number))
