"""The facts of one host that the verdict policy may test (:mod:`.policy_facts`).

Facts say what a host's logs can tell (which kinds of log, its OS, the hotfix evidence); they
never re-detect a pattern: patterns are findings of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio.catalog import fix
from evtxmpio.detect.hotfix import KB, HotfixStatus
from evtxmpio.detect.luns import LunOutcome
from evtxmpio.model import folded_in, trace_rows

MPIO_SYSTEM_PROVIDERS = frozenset({"mpio", "microsoft-windows-mpio"})
MPIO_TRACE_KIND = "etw:mpio:trace"
UNNAMED = "(host not named in the logs)"


@dataclass(frozen=True, slots=True)
class HostFacts:
    """What the logs of one host can tell; see :data:`.policy_facts.FACTS`."""

    host: str
    system_log: bool
    mpio_trace: bool
    mpio_events: int
    disks_failed_over: int
    kb2406705_os: str
    hotfix: str
    host_name_certain: bool
    os_name: str | None
    hotfix_evidence: str | None
    other_names: tuple[str, ...]
    inputs: tuple[str, ...]
    fixed_version: str | None = None

    def values(self) -> dict[str, Any]:
        """Facts and text fields by name, as the policy reads them."""
        return {
            "system_log": self.system_log, "mpio_trace": self.mpio_trace,
            "mpio_events": self.mpio_events, "disks_failed_over": self.disks_failed_over,
            "kb2406705_os": self.kb2406705_os, "hotfix": self.hotfix,
            "host_name_certain": self.host_name_certain,
            "host": self.host or UNNAMED, "os_name": self.os_name or "unknown",
            "hotfix_evidence": self.hotfix_evidence or "no installation event",
            "other_names": ", ".join(self.other_names) or "none",
            "inputs": ", ".join(self.inputs) or "no relevant event",
            "fixed_versions": " / ".join(fix(KB).fixed_versions.values()),
            "fixed_version": self.fixed_version or "unknown",
        }


def _inputs(events: pd.DataFrame) -> tuple[str, ...]:
    trace = trace_rows(events)
    channels = events.loc[~trace, "channel"].fillna("").astype(str)
    names = {f"{c} log" if c else "export without channel" for c in channels.unique()}
    if trace.any():
        names.add("ETW trace")
    return tuple(sorted(names))


def _kb_os(status: HotfixStatus | None) -> str:
    if status is None or status.applies is None:
        return "unknown"
    return "applies" if status.applies else "does-not-apply"


def host_facts(events: pd.DataFrame, host: str, luns: list[LunOutcome],
               hotfix: HotfixStatus | None, other_names: tuple[str, ...] = ()) -> HostFacts:
    """The facts of ``host`` from its events (``events`` already restricted to it)."""
    trace = trace_rows(events)
    mpio_trace = (events["kind"] == MPIO_TRACE_KIND).to_numpy(dtype=bool)
    channel = events["channel"]
    system = ~trace & (folded_in(channel, ("system", "")) | channel.isna())
    mpio = (folded_in(events["provider"], MPIO_SYSTEM_PROVIDERS) & ~trace) | mpio_trace
    status = hotfix.status if hotfix is not None else "unknown"
    return HostFacts(
        host=host, system_log=bool(system.any()), mpio_trace=bool(mpio_trace.any()),
        mpio_events=int(mpio.sum()),
        disks_failed_over=sum(1 for lun in luns if lun.host == host and lun.failovers > 0),
        kb2406705_os=_kb_os(hotfix), hotfix=status if status in (
            "installed-before-incident", "installed-after-incident", "not-applicable") else
        "unknown",
        host_name_certain=not other_names,
        os_name=hotfix.os if hotfix is not None else None,
        hotfix_evidence=hotfix.evidence_text if hotfix is not None else None,
        other_names=other_names, inputs=_inputs(events),
        fixed_version=hotfix.fixed_version if hotfix is not None else None)
