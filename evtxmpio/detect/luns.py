"""Per-LUN outcome, and the LUN a delayed-write failure most likely hit.

Outcome of each (host, MPIO disk) from its rebuilt state timeline:

* ``removed``   -- the disk reached REMOVED (torn down);
* ``degraded``  -- it failed over and is still DEGRADED (or in a failover state) at the end;
* ``recovered`` -- it failed over and came back to NORMAL;
* ``unaffected``-- it never left NORMAL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pandas as pd

from evtxmpio.detect.engine import Finding
from evtxmpio.timearith import shift

CORRELATION_WINDOW = pd.Timedelta(minutes=10)
FAILOVER_STATES = frozenset({"IN_FO", "WAIT1", "WAIT2", "WAIT3", "DEGRADED"})


@dataclass(frozen=True, slots=True)
class LunOutcome:
    """What happened to one MPIO disk (LUN) over the case."""

    host: str
    mpio_disk: int
    outcome: str
    failovers: int
    final_state: str
    removed_at: pd.Timestamp | None


def lun_outcomes(events: pd.DataFrame, timelines: pd.DataFrame) -> list[LunOutcome]:
    """One :class:`LunOutcome` per (host, MPIO disk) seen in events or timelines."""
    disks = sorted({(h, int(d)) for h, d in events[["host", "mpio_disk"]].dropna()
                   .itertuples(index=False, name=None)})
    disk_lines = timelines.loc[timelines["scope"] == "disk"] if len(timelines) else timelines
    outcomes = []
    for host, disk in disks:
        lines = disk_lines.loc[(disk_lines["host"] == host) & (disk_lines["key"] == disk)] \
            if len(disk_lines) else disk_lines
        outcomes.append(_outcome(host, disk, lines))
    return outcomes


def _outcome(host: str, disk: int, lines: pd.DataFrame) -> LunOutcome:
    if lines.empty:
        return LunOutcome(host, disk, "unaffected", 0, "NORMAL", None)
    states = list(lines["to_state"])
    # A failover starts whenever the disk leaves NORMAL (or DEGRADED) for a failover state.
    failovers = sum(1 for f, t in zip(lines["from_state"], states, strict=True)
                    if f in ("NORMAL", "DEGRADED") and t in FAILOVER_STATES)
    final = states[-1]
    removed = lines.loc[lines["to_state"] == "REMOVED", "time"]
    if "REMOVED" in states:
        outcome = "removed"
    elif final == "NORMAL":
        outcome = "recovered" if failovers else "unaffected"
    else:
        outcome = "degraded"
    return LunOutcome(host, disk, outcome, int(failovers), str(final),
                      removed.iloc[0] if len(removed) else None)


def torn_down_disk(luns: list[LunOutcome], host: str, time: pd.Timestamp) -> int | None:
    """The one MPIO disk of ``host`` removed within ``CORRELATION_WINDOW`` before ``time``.

    The System log does not map volumes to MPIO disks, so this is an inference: when exactly
    one disk of the host was removed shortly before a delayed-write failure, the failure is
    attributed to it; otherwise ``None``.
    """
    candidates = {lun.mpio_disk for lun in luns if lun.host == host
                  and lun.removed_at is not None
                  and lun.removed_at <= time <= shift(lun.removed_at, CORRELATION_WINDOW)}
    return candidates.pop() if len(candidates) == 1 else None


def _about_files(frame: pd.DataFrame, finding: Finding) -> bool:
    """Every evidence row names a lost file or an affected volume, and none an MPIO disk."""
    rows = frame.loc[list(finding.evidence)]
    named = rows["file"].notna() | rows["volume"].notna()
    return bool(len(rows)) and bool(named.all()) and bool(rows["mpio_disk"].isna().all())


def correlate_delayed_writes(findings: list[Finding], luns: list[LunOutcome],
                             frame: pd.DataFrame) -> list[Finding]:
    """Attach the torn-down MPIO disk to findings about lost files or volumes (delayed-write
    failures; see :func:`torn_down_disk`)."""
    result = []
    for finding in findings:
        if (finding.mpio_disk is None and finding.start is not None
                and finding.host is not None and _about_files(frame, finding)):
            disk = torn_down_disk(luns, finding.host, finding.start)
            finding = replace(finding, mpio_disk=disk) if disk is not None else finding
        result.append(finding)
    return result
