"""Put MPIO trace exports on the System log's clock.

The System log and a trace are stamped by different clocks and converted by different tools
(tracerpt writes local time with an offset, the trace may start seconds off), so the same
failover can appear a few seconds apart in the two sources. Rules that order events across
sources need one clock. For each (host, trace file) the offset is estimated from events both
sources log for the same moment:

=====================  ===========================================  ===================
System event           trace event                                  matched on
=====================  ===========================================  ===================
mpio 16 / 18           MPIO FailoverStart or FailoverJoin           disk + Path ID
mpio 17                MPIO FailoverComplete with Status 0          disk
mpio 22 / 23           MPIO MpioDiskRemoved                         disk
mpio 2                 MPIO PathArrived                             disk
=====================  ===========================================  ===================

tracerpt CSV exports (and some XML ones) carry no computer name. Their events are attributed to
the case's host when the System logs name exactly one; otherwise they keep an empty host and
the report says so.

Each System event is paired with the nearest matching trace event within ``MAX_SKEW``; the
offset is the median of the differences (robust to a stray pair). With at least
``MIN_PAIRS`` pairs and a median beyond ``TOLERANCE``, every event of that trace file is shifted
by it. The estimates are returned so the report can show them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evtxmpio.catalog import trace_counterparts
from evtxmpio.model import trace_rows
from evtxmpio.timearith import near, shift_all

MAX_SKEW = pd.Timedelta(seconds=30)
TOLERANCE = pd.Timedelta(milliseconds=1)
MIN_PAIRS = 2
PAIRS = trace_counterparts()


@dataclass(frozen=True, slots=True)
class ClockAlignment:
    """The offset applied to one trace file (``offset`` added to its times)."""

    host: str
    source_file: str
    offset: pd.Timedelta
    pairs: int
    applied: bool
    host_inferred: bool = False


def attribute_trace_hosts(frame: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """Give host-less trace events the case's only System host; return the files so named."""
    trace = trace_rows(frame)
    nameless = trace & (frame["host"].fillna("") == "")
    if not nameless.any():
        return frame, set()
    hosts = set(frame.loc[~trace, "host"].dropna().unique()) - {""}
    if len(hosts) != 1:
        return frame, set()
    files = set(frame.loc[nameless, "source_file"])
    hosts_column = frame["host"].mask(nameless, hosts.pop())
    return frame.assign(host=hosts_column), files


def align_trace_clocks(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[ClockAlignment]]:
    """Shift each trace file's events onto the System clock; return the frame and estimates.

    Host-less trace events are first attributed (:func:`attribute_trace_hosts`).
    """
    frame, inferred = attribute_trace_hosts(frame)
    names = frame["name"]
    trace = trace_rows(frame)
    alignments = []
    times = frame["time"].copy()
    timed = frame["time"].notna()  # damaged records without a time pair with nothing
    for (host, source), group in frame.loc[trace].groupby(["host", "source_file"], sort=True):
        system = frame.loc[~trace & timed & (frame["host"] == host)]
        group = group.loc[group["time"].notna()]
        diffs = _differences(system, names, group)
        offset = pd.Series(diffs).median() if diffs else pd.Timedelta(0)
        applied = len(diffs) >= MIN_PAIRS and abs(offset) > TOLERANCE
        if applied:
            times.loc[group.index] = shift_all(group["time"], offset)
        alignments.append(ClockAlignment(str(host), str(source), offset, len(diffs), applied,
                                         source in inferred))
    if not any(a.applied for a in alignments):
        return frame, alignments
    return frame.assign(time=times), alignments


def _differences(system: pd.DataFrame, names: pd.Series, trace: pd.DataFrame
                 ) -> list[pd.Timedelta]:
    diffs = []
    trace_names = names.loc[trace.index]
    for index, row in system.iterrows():
        wanted = PAIRS.get(str(names.at[index]))
        if wanted is None or pd.isna(row["mpio_disk"]):
            continue
        mask = trace_names.isin(wanted) & (trace["mpio_disk"] == row["mpio_disk"]).fillna(False)
        if str(names.at[index]) in ("mpio:16", "mpio:18") and not pd.isna(row["path_id"]):
            mask &= (trace["path_id"] == row["path_id"]).fillna(False)
        if str(names.at[index]) == "mpio:17":
            mask &= (trace["status"] == 0).fillna(False)
        candidates = trace.loc[mask.astype(bool), "time"]
        candidates = candidates.loc[near(candidates, row["time"], MAX_SKEW)]
        if candidates.empty:
            continue
        deltas = row["time"] - candidates
        diffs.append(deltas.loc[deltas.abs().idxmin()])
    return diffs
