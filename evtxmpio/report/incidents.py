"""Findings grouped into incidents, the unit the report leads with.

An incident is a run of findings on one host whose time spans overlap or follow each other
within :data:`INCIDENT_GAP`: the duplicate failover, the DSM's missing path, the teardown and
the delayed-write failures of one outage are one incident, shown once with the evidence they
share. Findings without a time form one incident per host at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from evtxmpio.detect import Finding

INCIDENT_GAP = pd.Timedelta(minutes=5)
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def group_findings(findings: Sequence[Finding]) -> list[list[int]]:
    """Indices of ``findings`` per incident, incidents in time order (host breaks ties)."""
    timed = sorted((i for i, f in enumerate(findings) if f.start is not None),
                   key=lambda i: (findings[i].start, str(findings[i].host or ""), i))
    groups: list[list[int]] = []
    open_end: dict[str, tuple[pd.Timestamp, list[int]]] = {}
    for index in timed:
        finding = findings[index]
        host = str(finding.host or "")
        end = finding.end if finding.end is not None else finding.start
        current = open_end.get(host)
        # Python ints: no overflow at the edges of the 64-bit clock
        if current is not None and finding.start.value <= current[0].value + INCIDENT_GAP.value:
            current[1].append(index)
            open_end[host] = (max(current[0], end), current[1])
        else:
            group = [index]
            groups.append(group)
            open_end[host] = (end, group)
    untimed: dict[str, list[int]] = {}
    for index, finding in enumerate(findings):
        if finding.start is None:
            untimed.setdefault(str(finding.host or ""), []).append(index)
    return groups + [untimed[host] for host in sorted(untimed)]


def worst_severity(severities: Sequence[str]) -> str:
    """The most severe of ``severities`` (``info`` when empty)."""
    ranked = [SEVERITY_ORDER.index(s) if s in SEVERITY_ORDER else len(SEVERITY_ORDER)
              for s in severities]
    return SEVERITY_ORDER[min(ranked)] if ranked and min(ranked) < len(SEVERITY_ORDER) \
        else "info"


def shared_evidence(findings: Sequence[Finding], numbers: Sequence[int]
                    ) -> list[tuple[int, tuple[int, ...]]]:
    """The evidence rows of an incident's findings, each once, in frame order, with the
    numbers of the findings that cite it. ``numbers[k]`` is the number of ``findings[k]``."""
    cited: dict[int, list[int]] = {}
    for finding, number in zip(findings, numbers, strict=True):
        for row in finding.evidence:
            cited.setdefault(row, []).append(number)
    return [(row, tuple(cited[row])) for row in sorted(cited)]
