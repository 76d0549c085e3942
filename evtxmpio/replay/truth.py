"""Ground truth of a replayed case, written as ``ground_truth.json``.

Schema (keys in this order)::

    {
      "case": "kb2406705-race",          # workload name
      "model": "buggy",                  # variant replayed
      "seed": 2406705,
      "verdict": "kb2406705-race",       # a verdict of rules/verdicts.yaml
      "verdict_reason": "...",
      "data_loss": true,
      "duplicated_path_ids": ["0x77030001"],
      "disks": [{"host": "...", "mpio_disk": 1, "lun": 0, "outcome": "recovered",
                 "failed_paths": ["0x77030001"], "states": ["NORMAL", "IN_FO", ...]}],
      "delayed_write_files": [{"host": "...", "mpio_disk": 2,
                               "volume": "\\Device\\HarddiskVolume5",
                               "file": "\\Device\\HarddiskVolume5\\Data\\ledger.dat"}],
      "races": [{"host", "path_id", "first_disk", "second_disk", "first_failover",
                 "second_failover", "time"}],
      "epochs": [{"host", "path_id", "failed_at", "restored_at", "all_paths_down"}],
      "counts": {"requests": ..., "requests_failed": ..., ...}
    }

Verdicts follow the domain reference section 3.5, decided from what the model did (not from the
logs): ``kb2406705-race`` a duplicate failover tore a disk down; ``all-paths-down`` a disk was
removed because every path failed; ``inconclusive`` a duplicate failover happened but no disk
was torn down; ``path-flapping`` one Path ID failed in as many epochs within the window as
the shipped rule ``mpio-path-flapping`` asks (:func:`evtxmpio.catalog.flapping_threshold`, the
one definition detection uses too), with healthy failovers; ``healthy-failover`` failovers
happened and no disk was removed; ``no-mpio-activity`` no path failed. Disk outcomes:
``unaffected`` (never failed over), ``degraded`` (ended DEGRADED or still failing over),
``recovered`` (failed over and back to NORMAL), ``removed``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from evtxmpio.catalog import FlappingThreshold, flapping_threshold
from evtxmpio.replay.state import NORMAL
from evtxmpio.replay.stream import format_time

if TYPE_CHECKING:
    from pathlib import Path

    from evtxmpio.replay.model import ModelResult
    from evtxmpio.replay.state import DiskState, HostState
    from evtxmpio.replay.workload import Workload


def ground_truth(workload: Workload, result: ModelResult) -> dict:
    """Return the ground-truth document of one model run."""
    hosts = list(result.hosts.values())
    disks = [_disk(hs, disk) for hs in hosts for _, disk in sorted(hs.disks.items())]
    files = [
        {"host": hs.host.name, "mpio_disk": number, "volume": volume, "file": file}
        for hs in hosts
        for number, volume, file in hs.lost_files
    ]
    races = [_race(hs, race) for hs in hosts for race in hs.races]
    epochs = [
        _epoch(hs.host.name, epoch)
        for hs in hosts
        for epoch in sorted(
            [*hs.closed_epochs, *hs.epochs.values()], key=lambda e: (e.failed_at, e.path)
        )
    ]
    verdict, reason = _verdict(hosts, disks, epochs)
    counts = {"requests": result.requests}
    for hs in hosts:
        for key, value in sorted(hs.counters.items()):
            counts[key] = counts.get(key, 0) + value
    return {
        "case": workload.name,
        "model": result.variant,
        "seed": workload.seed,
        "verdict": verdict,
        "verdict_reason": reason,
        "data_loss": bool(files),
        "duplicated_path_ids": sorted({race["path_id"] for race in races}),
        "disks": disks,
        "delayed_write_files": files,
        "races": races,
        "epochs": epochs,
        "counts": counts,
    }


def _disk(hs: HostState, disk: DiskState) -> dict:
    if disk.removed:
        outcome = "removed"
    elif not disk.failed_over:
        outcome = "unaffected"
    else:
        outcome = "recovered" if disk.state == NORMAL else "degraded"
    failed = sorted(
        {path for path, _rows in disk.failed_rows.items()}
        | {path for path in disk.lun.paths if path not in disk.active}
    )
    states = ["NORMAL"] + [new for _, _, new in sorted(disk.transitions, key=lambda t: t[0])]
    return {
        "host": hs.host.name,
        "mpio_disk": disk.number,
        "lun": disk.lun.lun,
        "outcome": outcome,
        "removal_reason": disk.removal_reason,
        "paths": [f"0x{p:08x}" for p in disk.lun.paths],
        "failed_paths_at_end": [f"0x{p:08x}" for p in failed if p not in disk.active],
        "states": states,
    }


def _race(hs: HostState, race: dict) -> dict:
    return {
        "host": hs.host.name,
        "path_id": f"0x{race['path_id']:08x}",
        "first_disk": race["first_disk"],
        "second_disk": race["second_disk"],
        "first_failover": race["first_failover"],
        "second_failover": race["second_failover"],
        "time": format_time(race["time_ns"]),
    }


def _epoch(host: str, epoch) -> dict:
    return {
        "host": host,
        "path_id": f"0x{epoch.path:08x}",
        "failed_at": format_time(epoch.failed_at),
        "restored_at": None if epoch.restored_at is None else format_time(epoch.restored_at),
        "all_paths_down": epoch.all_down,
    }


def _verdict(hosts: list[HostState], disks: list[dict], epochs: list[dict]) -> tuple[str, str]:
    removed = [d for d in disks if d["outcome"] == "removed"]
    raced = [race for hs in hosts for race in hs.races]
    if any(d["removal_reason"] == "FailoverFailed" for d in removed):
        return "kb2406705-race", "duplicate failover for one Path ID tore an MPIO disk down"
    if removed:
        return "all-paths-down", "an MPIO disk lost every path and was removed"
    if raced:
        return "inconclusive", "duplicate failover happened but no MPIO disk was torn down"
    threshold = flapping_threshold()
    if _flapping(hosts, threshold):
        return "path-flapping", (f"a Path ID failed in {threshold.min_epochs} or more epochs "
                                 f"within {threshold.window_s} s, failovers healthy")
    if epochs:
        return "healthy-failover", "paths failed over and every MPIO disk survived"
    return "no-mpio-activity", "no path failed"


def _flapping(hosts: list[HostState], threshold: FlappingThreshold) -> bool:
    """``min_epochs`` failure epochs of one (host, Path ID) within ``window_s`` seconds."""
    window = threshold.window_s * 1_000_000_000
    for hs in hosts:
        starts: dict[int, list[int]] = {}
        for epoch in [*hs.closed_epochs, *hs.epochs.values()]:
            starts.setdefault(epoch.path, []).append(epoch.failed_at)
        for times in starts.values():
            times.sort()
            n = threshold.min_epochs
            if any(times[i + n - 1] - times[i] <= window for i in range(len(times) - n + 1)):
                return True
    return False


def write_ground_truth(path: Path, document: dict) -> None:
    """Write ``document`` as indented, key-ordered JSON with a trailing newline."""
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
