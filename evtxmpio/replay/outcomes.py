"""How a failure epoch ends for a disk: the KB 2406705 race, teardown, or the path's return.

* :func:`race_start` / :func:`race_teardown` -- the ``buggy`` variant's duplicate failover
  (domain reference section 3.5, signals R1..R6);
* :func:`lose_last_path` / :func:`remove_disk` -- no path left: 16/18, 23, removal after
  ``PDORemovePeriod`` (genuine loss);
* :func:`restore_path` -- the path arrives again: iScsiPrt 34, PathArrived + mpio 2 per disk,
  DEGRADED -> NORMAL when the disk has all its paths back.

Every removal loses the delayed writes of the disk's volume: the distinct files written in the
``lazy_write_window_s`` before the disk stopped accepting I/O, one Ntfs 50 and one Application
Popup 26 each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from evtxmpio.replay import records
from evtxmpio.replay.state import (
    DEGRADED,
    FAILED,
    NORMAL,
    REMOVED,
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


def race_start(model: Model, hs: HostState, epoch: Epoch, disk: DiskState) -> None:
    """Buggy: a second FailoverStart for the same Path ID; the disk skips to DEGRADED."""
    if disk.removed:
        return
    now, cpu, path = model.now, disk.number % 4, hex_path(epoch.path)
    failover_id = hs.allocate_failover_id()
    disk.race_failover = failover_id
    hs.trace_event(
        now, "FailoverStart", disk.number, path, failover_id, "PnpSurpriseRemoval", "0x0",
        processor=cpu,
    )  # fmt: skip
    hs.log_path_failover(disk, epoch.path, now + ms(0.2))
    epoch.members.append(disk)
    disk.failed_over = True
    disk.active.discard(epoch.path)
    # The path is never invalidated, so the DSM keeps handing out the failed one.
    done = now + ms(150.0)
    hs.set_state(disk, done, DEGRADED, failover_id)
    hs.trace_event(
        done + ms(0.1), "FailoverComplete", disk.number, path, failover_id, path, hex_path(0),
        processor=cpu,
    )  # fmt: skip
    hs.log(records.mpio_event(done + ms(0.2), hs.host.name, 17, disk.number))
    hs.races.append({
        "path_id": epoch.path, "first_failover": epoch.failover_id, "second_failover": failover_id,
        "first_disk": epoch.lead.number if epoch.lead else None, "second_disk": disk.number,
        "time_ns": now,
    })  # fmt: skip
    model.schedule(done + ms(0.3), _race_armed, model, hs, epoch, disk)


def _race_armed(model: Model, hs: HostState, epoch: Epoch, disk: DiskState) -> None:
    """From the bogus completion on, the disk's next I/O fails; so do requests already back."""
    if disk.removed or epoch.restored_at is not None:
        return
    disk.broken = True
    if disk.failed_rows.get(epoch.path) and not disk.pending.get(epoch.path):
        race_teardown(model, hs, epoch, disk, disk.failed_rows[epoch.path][-1])


def race_teardown(
    model: Model, hs: HostState, epoch: Epoch | None, disk: DiskState, request: IoRequest | None
) -> None:
    """The racer's next I/O: MSDSM returns no path though one is valid; 32, 22, 25, removal."""
    if not disk.broken or disk.removed:
        return
    disk.broken = False
    now, cpu, name = model.now, disk.number % 4, hs.host.name
    valid = sorted(disk.active - hs.dead_paths())
    hs.trace_event(
        now + ms(0.1),
        "GetPathResult",
        disk.dsm_id(valid[0] if valid else 0),
        disk.number,
        hex_path(0),
        len(valid),
        processor=cpu,
    )
    hs.log(records.mpio_event(now + ms(0.2), name, 32, disk.number))
    hs.log(records.mpio_event(now + ms(0.4), name, 22, disk.number, final_status=FAILED))
    resubmit = valid[0] if valid else 0
    hs.log(
        records.mpio_event(
            now + ms(0.6),
            name,
            25,
            disk.number,
            dump=records.path_dump(resubmit),
            final_status=FAILED,
        )
    )
    if request is not None:
        hs.count("requests_lost")
    remove_disk(model, hs, disk, now + ms(180.0), "FailoverFailed", now, disk.race_failover)


def lose_last_path(model: Model, hs: HostState, epoch: Epoch, disk: DiskState, now: int) -> None:
    """No usable path left: MSDSM has nothing to return; 23 and removal after PDORemovePeriod."""
    epoch.waiting.discard(disk.number)
    if disk.doomed:
        return
    disk.doomed = True
    hs.trace_event(
        now,
        "GetPathResult",
        disk.dsm_id(epoch.path),
        disk.number,
        hex_path(0),
        0,
        processor=disk.number % 4,
    )
    told = now + seconds_to_ns(model.timing.pnp_delay_s + 0.5)
    model.schedule(told, _all_paths_failed, model, hs, epoch, disk)


def _all_paths_failed(model: Model, hs: HostState, epoch: Epoch, disk: DiskState) -> None:
    now = model.now
    hs.log(records.mpio_event(now, hs.host.name, 23, disk.number))
    hs.trace_event(
        now + ms(0.1),
        "FailoverComplete",
        disk.number,
        hex_path(epoch.path),
        epoch.failover_id,
        hex_path(0),
        hex_path(records.STATUS_NO_SUCH_DEVICE),
        processor=disk.number % 4,
    )
    removal = epoch.failed_at + seconds_to_ns(model.timing.pdo_remove_period_s)
    model.schedule(max(removal, now + ms(1)), _remove_later, model, hs, epoch, disk)


def _remove_later(model: Model, hs: HostState, epoch: Epoch, disk: DiskState) -> None:
    remove_disk(model, hs, disk, model.now, "AllPathsFailed", epoch.failed_at, epoch.failover_id)


def remove_disk(
    model: Model,
    hs: HostState,
    disk: DiskState,
    when: int,
    reason: str,
    stopped_at: int,
    failover_id: int,
) -> None:
    """Tear the MPIO disk down at ``when`` and log the delayed writes it loses."""
    if disk.removed:
        return
    disk.removed = True
    disk.removal_reason = reason
    hs.set_state(disk, when, REMOVED, failover_id)
    hs.trace_event(
        when + ms(0.1), "MpioDiskRemoved", disk.number, reason, processor=disk.number % 4
    )
    window = seconds_to_ns(model.timing.lazy_write_window_s)
    files: list[str] = []
    for issued, file in disk.writes:
        if issued >= stopped_at - window and file not in files:
            files.append(file)
    base = when + seconds_to_ns(1.5)
    for index, file in enumerate(files):
        full = disk.lun.volume + file
        at = base + seconds_to_ns(0.4 * index)
        hs.log(records.ntfs_delayed_write(at, hs.host.name, disk.lun.volume, full))
        hs.log(records.delayed_write_popup(at + ms(23.0), hs.host.name, full))
        hs.lost_files.append((disk.number, disk.lun.volume, full))


def restore_path(model: Model, hs: HostState, path: int) -> None:
    """The path arrives again: close its epoch; disks with all paths back return to NORMAL."""
    epoch = hs.epochs.pop(path, None)
    if epoch is None:
        return
    now = model.now
    epoch.restored_at = now
    hs.closed_epochs.append(epoch)
    hs.log(records.iscsi_event(now + ms(40), hs.host.name, 34, (path >> 16) & 0xFF))
    disks = [
        d
        for _, d in sorted(hs.disks.items())
        if not d.removed and not d.doomed and path in d.lun.paths and path not in d.active
    ]
    hs.trace_event(
        now + ms(300),
        "FailoverGroupState",
        hex_path(path),
        "DSM_FG_FAILED",
        "DSM_FG_NORMAL",
        len(disks),
    )
    for offset, disk in enumerate(disks):
        when = now + ms(300 + 3.1 * (offset + 1))
        disk.active.add(path)
        disk.broken = False
        count = len(disk.active)
        hs.trace_event(
            when, "PathArrived", disk.number, hex_path(path), count, processor=disk.number % 4
        )
        hs.dsm_state(disk, path, when + ms(0.1), "DSM_DEV_ACTIVE_OPTIMIZED")
        hs.log(
            records.mpio_event(
                when + ms(0.2), hs.host.name, 2, disk.number, dump=records.count_dump(count)
            )
        )
        if disk.state == DEGRADED and count == len(disk.lun.paths):
            hs.set_state(disk, when + ms(0.3), NORMAL, 0)


__all__ = ["lose_last_path", "race_start", "race_teardown", "remove_disk", "restore_path"]
