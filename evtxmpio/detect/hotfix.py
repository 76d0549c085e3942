"""Is the KB 2406705 fix present? What the System log can tell (domain reference §3.6).

``mpio.sys``'s own version is never logged, so the answer comes from the OS build (EventLog
6009, Kernel-General 12), which bounds the fixed version that applies, and from installation
evidence (WindowsUpdateClient 19 naming KB2406705). Only an install logged *before* the
incident proves the fix was present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
        evidence_text: the installation evidence in words (what, when), if any.
    """

    host: str
    os: str | None
    applies: bool | None
    fixed_version: str | None
    status: str
    evidence: tuple[int, ...]
    evidence_text: str | None = None


def _os_of(events: pd.DataFrame, rows: pd.Index) -> tuple[WindowsRelease | None, int | None]:
    """The OS the first of ``rows`` names (``os_version``/``os_build``, typed by normalize)."""
    if rows.empty:
        return None, None
    index = rows[0]
    return windows_release(str(events.at[index, "os_version"]),
                           int(events.at[index, "os_build"])), index


OS_EVENTS = ("eventlog:6009", "microsoft-windows-kernel-general:12")
INSTALL_EVENTS = ("microsoft-windows-windowsupdateclient:19", "microsoft-windows-servicing:2")
_MPIO_VERSION = re.compile(r"mpio\.(?:sys|inf)\D{0,80}?(\d+\.\d+\.\d{4,5}\.\d{4,5})", re.I)


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _fixed_file(text: str, fixed: str | None) -> str | None:
    """The mpio.sys version ``text`` names when it is at or past ``fixed`` (same branch)."""
    match = _MPIO_VERSION.search(text)
    if match is None or fixed is None:
        return None
    found = match.group(1)
    same_release = found.rsplit(".", 1)[0] == fixed.rsplit(".", 1)[0]
    return found if same_release and _version_tuple(found) >= _version_tuple(fixed) else None


def _installs(group: pd.DataFrame, fixed: str | None) -> list[tuple[int, str]]:
    """Rows of ``group`` proving the fix: an install naming KB 2406705 (WindowsUpdateClient 19,
    Servicing 2 whose ``ErrorCode``, typed as ``status``, is 0 or absent), or an mpio.sys
    version at or past ``fixed``; with a label. The Data text is searched, never parsed."""
    found = []
    candidates = group["name"].isin(INSTALL_EVENTS) | group["data"].str.contains(
        r"mpio\.(?:sys|inf)", case=False, regex=True).fillna(False).astype(bool)
    rows = group.loc[candidates, ["name", "data", "status", "provider", "event_id"]]
    for index, name, text, status, provider, event_id in rows.itertuples(name=None):
        text = "" if pd.isna(text) else str(text)
        if name in INSTALL_EVENTS and KB.lower() in text.lower() and (pd.isna(status)
                                                                       or status == 0):
            found.append((index, f"{provider} {event_id}"))
        elif (version := _fixed_file(text, fixed)) is not None:
            found.append((index, f"mpio.sys {version}"))
    return found


def _install_text(events: pd.DataFrame, row: int, label: str) -> str:
    time = events.at[row, "time"]
    when = "at an unknown time" if pd.isna(time) else time.strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{label} {when}"


def hotfix_status(events: pd.DataFrame,
                  incident_start: pd.Timestamp | Mapping[str, pd.Timestamp | None] | None
                  ) -> list[HotfixStatus]:
    """Fix status per host; ``incident_start`` is one time or one per host."""
    statuses = []
    for host, group in events.groupby("host", sort=True):
        start = incident_start.get(str(host)) if isinstance(incident_start, Mapping) \
            else incident_start
        os_rows = group.index[group["name"].isin(OS_EVENTS) & group["os_build"].notna()
                              & group["os_version"].notna()]
        release, os_row = _os_of(events, os_rows)
        fixed = fix(KB).fixed_version(release) if release else None
        installs = _installs(group, fixed)
        evidence = tuple(r for r in (os_row, *(i for i, _ in installs)) if r is not None)
        applies = None if release is None else fix(KB).applies_to(release)
        status, text = "unknown", None
        if installs:
            first, label = installs[0]
            time = events.at[first, "time"]
            before = start is None or (not pd.isna(time) and time < start)
            status = "installed-before-incident" if before else "installed-after-incident"
            text = _install_text(events, first, label)
        elif applies is False:
            status = "not-applicable"
        statuses.append(HotfixStatus(
            str(host), release.name if release else None, applies, fixed, status, evidence,
            text))
    return statuses
