"""The case verdict: which known pattern the findings and facts add up to (domain ref §3.5).

The decision is an ordered policy over rule ids and a few counted facts; the chain of reasons
that led to it is kept and shown to the engineer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.detect.engine import Finding

VERDICTS = ("kb2406705-race", "all-paths-down", "path-flapping", "healthy-failover",
            "no-mpio-activity", "inconclusive")
FLAPPING_EPISODES = 3
MPIO_PROVIDERS = ("mpio", "microsoft-windows-mpio")


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict, a confidence in [0, 1] and the reasons, in the order they were weighed."""

    verdict: str
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """Counts the verdict needs beyond the findings."""

    failovers: int
    teardowns: int
    all_paths_failed: int
    trace_events: int
    max_episodes_per_path: int
    mpio_events: int


def case_facts(frame: pd.DataFrame) -> CaseFacts:
    """Count failovers, teardowns and episodes in the analysis frame."""
    name = frame["name"] if "name" in frame else pd.Series(dtype="string")
    failovers = name.isin(["mpio:16", "mpio:18", "MPIO:FailoverStart"]).sum()
    teardowns = name.isin(["mpio:22", "mpio:23", "MPIO:MpioDiskRemoved"]).sum()
    all_failed = (name == "mpio:23").sum()
    if "trigger" in frame:
        all_failed += ((name == "MPIO:MpioDiskRemoved") & (frame["trigger"] == "AllPathsFailed")
                       ).fillna(False).sum()
    episodes = frame["episode"].dropna() if "episode" in frame else pd.Series(dtype="string")
    # An episode id is "host|0xPATHID|n": epochs per (host, Path ID) = distinct n.
    per_path_counts = episodes.drop_duplicates().str.rsplit("|", n=1).str[0].value_counts()
    mpio = frame["provider"].str.lower().isin(MPIO_PROVIDERS) | frame["kind"].astype(
        str).str.startswith("etw:")
    return CaseFacts(int(failovers), int(teardowns), int(all_failed),
                     int(frame["kind"].astype(str).str.startswith("etw:").sum()),
                     int(per_path_counts.max()) if len(per_path_counts) else 0, int(mpio.sum()))


def decide(findings: list[Finding], facts: CaseFacts) -> Verdict:
    """Apply the verdict policy."""
    fired = {finding.rule.id for finding in findings}
    race_support = fired & {"mpio-dsm-no-valid-path", "mpio-disk-torn-down"}
    strengtheners = fired & {"mpio-normal-to-degraded", "mpio-late-io-completion"}
    if "mpio-duplicate-failover" in fired and (race_support or facts.teardowns):
        confidence = 0.95 if strengtheners else (0.85 if facts.trace_events else 0.75)
        reasons = ["two failover requests for one Path ID in one failure epoch (R1)"]
        reasons += [f"{rule} fired" for rule in sorted(race_support | strengtheners)]
        if facts.teardowns:
            reasons.append(f"{facts.teardowns} MPIO disk teardown event(s) (R5)")
        return Verdict("kb2406705-race", confidence, tuple(reasons))
    if facts.teardowns and (facts.all_paths_failed or "mpio-all-paths-down" in fired):
        return Verdict("all-paths-down", 0.85, (
            "MPIO disk(s) torn down after every path failed (mpio 23 / AllPathsFailed)",
            "genuine loss of storage access, not the duplicate-failover race"))
    if facts.teardowns or "mpio-duplicate-failover" in fired:
        return Verdict("inconclusive", 0.4, (
            "failover trouble that matches neither the race (R1+R4+R5) nor total path loss",))
    if facts.max_episodes_per_path >= FLAPPING_EPISODES or "mpio-path-flapping" in fired:
        return Verdict("path-flapping", 0.8, (
            f"one Path ID failed and came back in {facts.max_episodes_per_path} separate epochs",
            "each failover completed; no disk was torn down"))
    if facts.failovers:
        return Verdict("healthy-failover", 0.8, (
            f"{facts.failovers} failover event(s), every disk completed its failover",
            "no teardown (22/23), no DSM path failure"))
    if facts.mpio_events == 0:
        return Verdict("no-mpio-activity", 0.9, ("no MPIO System or trace events in the inputs",))
    return Verdict("inconclusive", 0.5, ("MPIO events present but no failover was logged",))
