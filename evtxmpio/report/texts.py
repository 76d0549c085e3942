"""Fixed report texts: verdict headlines, explanations and hotfix advice (domain ref §3.5-3.6)."""

from __future__ import annotations

from evtxmpio.catalog import fix

VERDICT_TEXT = {
    "kb2406705-race": "KB 2406705 duplicate-failover race",
    "all-paths-down": "All paths down: genuine loss of storage access",
    "path-flapping": "Path flapping: repeated failover and recovery",
    "healthy-failover": "Healthy failover",
    "no-mpio-activity": "No MPIO failover activity",
    "inconclusive": "Inconclusive",
}
VERDICT_EXPLANATION = {
    "kb2406705-race": "When one path to the storage failed, mpio.sys started two failover "
    "requests for the same failed path. The Microsoft DSM then reported that it had no path to "
    "give although another path was still working, the failover failed and Windows removed the "
    "MPIO disk. I/O queued on that disk failed, and data that Windows had cached for writing "
    "was lost (delayed-write failures). This is the software defect that the KB 2406705 hotfix "
    "corrects; the storage itself stayed reachable.",
    "all-paths-down": "Every path to the storage failed, so Windows removed the MPIO disk after "
    "its grace period. This is a genuine loss of storage access (fabric, array, HBA or network), "
    "not the KB 2406705 failover defect.",
    "path-flapping": "One path failed and came back repeatedly. Each failover completed and no "
    "MPIO disk was removed; the unstable path needs attention before it causes an outage.",
    "healthy-failover": "A path failed and MPIO moved I/O to a remaining path as designed. No "
    "MPIO disk was removed and the DSM always returned a path.",
    "no-mpio-activity": "The logs contain no MPIO failover activity. Either the incident is not "
    "in the time covered, or the logs sent are not from the affected node.",
    "inconclusive": "The logs show failover trouble that matches neither the KB 2406705 race "
    "nor a total loss of paths; the reasons below say what was seen. More logs (an MPIO/MSDSM "
    "trace, the other cluster nodes) are needed.",
}
HOTFIX_ADVICE = {
    "kb2406705-race": "Install the KB 2406705 hotfix on every node that uses MPIO with the "
    f"Microsoft DSM (mpio.sys {' / '.join(fix('KB2406705').fixed_versions.values())} or later), "
    "then restore the failed path and check the files listed under delayed-write failures.",
    "all-paths-down": "The hotfix for KB 2406705 does not address this: every path to the "
    "storage failed. Investigate the storage fabric, array and HBAs.",
}
