"""Per-host verdicts as the report shows them (HTML section and terminal table).

A case with several hosts (the nodes of a cluster) gets one entry per host, most severe
first; the case verdict above is the first of them.
"""

from __future__ import annotations

from typing import Any

from evtxmpio.detect import CaseResult

UNNAMED = "(host not named in the logs)"


def host_views(case: CaseResult) -> tuple[dict[str, Any], ...]:
    """One dict per host: host, verdict, headline, confidence, reasons, os, hotfix, others."""
    hosts = sorted(getattr(case, "hosts", None) or [],
                   key=lambda h: (h.verdict.rank, -h.verdict.confidence, h.host))
    return tuple({"host": h.host or UNNAMED, "verdict": h.verdict.id,
                  "headline": h.verdict.headline or h.verdict.id,
                  "confidence": h.verdict.confidence, "reasons": tuple(h.verdict.reasons),
                  "os": h.facts.os_name or "not in the logs", "hotfix": h.facts.hotfix,
                  "other_names": tuple(h.facts.other_names)} for h in hosts)
