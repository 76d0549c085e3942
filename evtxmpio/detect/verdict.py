"""The case verdict: which known pattern the findings and facts add up to (domain ref §3.5).

The decision is an ordered policy over rule ids and a few counted facts; the chain of reasons
that led to it is kept and shown to the engineer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evtxmpio.detect.engine import Finding
from evtxmpio.detect.hotfix import HotfixStatus

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


def incident_start(findings: list[Finding]) -> pd.Timestamp | None:
    """When the trouble began: the earliest start of a non-informational finding."""
    starts = [f.start for f in findings if f.severity != "info" and f.start is not None]
    return min(starts) if starts else None


def decide(findings: list[Finding], facts: CaseFacts,
           hotfix: list[HotfixStatus] | None = None) -> Verdict:
    """Apply the verdict policy (domain reference §3.5), most specific pattern first."""
    fired = {finding.rule.id for finding in findings}
    verdict = _race(fired, facts) or _loss(fired, facts) or _benign(fired, facts)
    installed = [h for h in hotfix or [] if h.status == "installed-before-incident"]
    if verdict.verdict == "kb2406705-race" and installed:
        hosts = ", ".join(h.host for h in installed)
        return Verdict(verdict.verdict, round(verdict.confidence * 0.6, 2), (
            *verdict.reasons, f"but KB 2406705 was installed before the incident on {hosts}: "
            "check the installed mpio.sys version before concluding"))
    return verdict


def _race(fired: set[str], facts: CaseFacts) -> Verdict | None:
    if "mpio-duplicate-failover" not in fired:
        return None
    no_path = "mpio-dsm-no-valid-path" in fired
    torn = "mpio-disk-torn-down" in fired or facts.teardowns > 0
    if not (no_path or torn):
        return None
    reasons = ["two failover requests for one Path ID in one failure epoch (R1)"]
    if no_path:
        reasons.append("the DSM returned no path although a valid path remained (R4)")
    if torn:
        reasons.append("the MPIO disk was torn down (R5)")
    strong = sorted(fired & {"mpio-normal-to-degraded", "mpio-late-io-completion"})
    reasons += [f"corroborated by {rule}" for rule in strong]
    if "delayed-write-failed" in fired:
        reasons.append("delayed writes failed afterwards: data was lost (R6)")
    confidence = 0.6 + 0.15 * no_path + 0.1 * torn + 0.05 * len(strong) + 0.05 * bool(
        facts.trace_events)
    return Verdict("kb2406705-race", round(min(confidence, 0.99), 2), tuple(reasons))


def _loss(fired: set[str], facts: CaseFacts) -> Verdict | None:
    if "mpio-all-paths-down" in fired or (facts.teardowns and facts.all_paths_failed):
        reasons = ["every path of the torn-down MPIO disk(s) failed (mpio 23 / AllPathsFailed "
                   "or no usable path left)",
                   "genuine loss of storage access, not the duplicate-failover race"]
        if "delayed-write-failed" in fired:
            reasons.append("delayed writes failed afterwards: data was lost")
        return Verdict("all-paths-down", 0.85, tuple(reasons))
    if facts.teardowns or "mpio-duplicate-failover" in fired or "mpio-dsm-no-valid-path" in fired:
        return Verdict("inconclusive", 0.4, (
            "failover trouble that matches neither the race (R1 with R4 or R5) nor a loss of "
            "every path; path counts (event 2) or an MPIO trace would settle it",))
    return None


def _benign(fired: set[str], facts: CaseFacts) -> Verdict:
    if "mpio-path-flapping" in fired or facts.max_episodes_per_path >= FLAPPING_EPISODES:
        return Verdict("path-flapping", 0.8, (
            f"one Path ID failed and came back in {facts.max_episodes_per_path} separate epochs",
            "each failover completed; no disk was torn down"))
    if facts.failovers:
        healthy = "mpio-healthy-failover" in fired
        return Verdict("healthy-failover", 0.85 if healthy else 0.6, (
            f"{facts.failovers} failover event(s); "
            + ("every disk completed its failover" if healthy else "no completion logged"),
            "no teardown (22/23/MpioDiskRemoved) and no DSM path failure"))
    if facts.mpio_events == 0:
        return Verdict("no-mpio-activity", 0.9, ("no MPIO System or trace events in the inputs",))
    return Verdict("inconclusive", 0.5, ("MPIO events present but no failover was logged",))
