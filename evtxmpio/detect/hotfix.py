"""Is the KB 2406705 fix present? What the System log can tell (domain reference §3.6).

``mpio.sys``'s own version is never logged, so the answer comes from the OS build (EventLog
6009, Kernel-General 12), which bounds the fixed version that applies, and from installation
evidence (WindowsUpdateClient 19 naming KB2406705). Only an install logged *before* the
incident proves the fix was present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from evtxmpio.catalog import WindowsRelease, fix, windows_release

KB = "KB2406705"


@dataclass(frozen=True, slots=True)
class HotfixStatus:
    """Fix status of one host.

    Attributes:
        host: the host.
        os: OS name with build, when an OS event was seen.
        applies: whether KB 2406705 applies to that OS (``None`` when unknown).
        fixed_version: the first fixed mpio.sys version for that OS.
        status: ``installed-before-incident``, ``installed-after-incident``,
            ``not-applicable`` or ``unknown``.
        evidence: event-frame rows the answer rests on.
    """

    host: str
    os: str | None
    applies: bool | None
    fixed_version: str | None
    status: str
    evidence: tuple[int, ...]


def _data(events: pd.DataFrame, index: int) -> dict[str, str]:
    return json.loads(events.at[index, "data"])


def _os_of(events: pd.DataFrame, rows: pd.Index) -> tuple[WindowsRelease | None, int | None]:
    for index in rows:
        data = _data(events, index)
        name = events.at[index, "name"]
        if name == "eventlog:6009" and len(data) >= 2:
            build = str(data.get("2", ""))
            if build.isdigit():
                return windows_release(str(data.get("1", "")), int(build)), index
        if name == "microsoft-windows-kernel-general:12" and data.get("BuildVersion", "").isdigit():
            version = f"{data.get('MajorVersion', '')}.{data.get('MinorVersion', '')}"
            return windows_release(version, int(data["BuildVersion"])), index
    return None, None


def hotfix_status(events: pd.DataFrame, incident_start: pd.Timestamp | None) -> list[HotfixStatus]:
    """Fix status per host."""
    statuses = []
    for host, group in events.groupby("host", sort=True):
        os_rows = group.index[group["name"].isin(
            ["eventlog:6009", "microsoft-windows-kernel-general:12"])]
        release, os_row = _os_of(events, os_rows)
        installs = [i for i in group.index[group["name"] ==
                    "microsoft-windows-windowsupdateclient:19"]
                    if KB.lower() in json.dumps(_data(events, i)).lower()]
        evidence = tuple(r for r in (os_row, *installs) if r is not None)
        applies = None if release is None else fix(KB).applies_to(release)
        status = "unknown"
        if installs:
            first = events.at[installs[0], "time"]
            before = incident_start is None or first < incident_start
            status = "installed-before-incident" if before else "installed-after-incident"
        elif applies is False:
            status = "not-applicable"
        statuses.append(HotfixStatus(
            str(host), release.name if release else None, applies,
            fix(KB).fixed_version(release) if release else None, status, evidence))
    return statuses
