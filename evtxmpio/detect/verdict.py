"""Verdicts per host and for the case, decided by the verdict policy (``rules/verdicts.yaml``).

The policy (:mod:`evtxmpio.detect.policy`) is data: this module only applies it. Each host is
judged on its own findings and facts; the case verdict is the most severe host verdict (lowest
rank). A case with no host at all (nothing relevant was read) is judged once, on no findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evtxmpio.detect.engine import Finding
from evtxmpio.detect.facts import UNNAMED, HostFacts
from evtxmpio.detect.policy import Policy, PolicyItem


@dataclass(frozen=True, slots=True)
class Verdict:
    """A verdict, a confidence in [0, 1] and the reasons, in the order they were weighed.

    ``headline``, ``explanation``, ``advice`` and ``rank`` come from the policy;
    ``decided_by`` is the id of the policy item that decided it; ``weighed`` the places
    (``file:line``) of the ``because``/``adjust`` entries that held, in order.
    """

    id: str
    confidence: float
    reasons: tuple[str, ...] = field(default_factory=tuple)
    headline: str = ""
    explanation: str = ""
    advice: str = ""
    rank: int = 0
    decided_by: str = ""
    weighed: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class HostVerdict:
    """The verdict of one host with the facts it rests on."""

    host: str
    verdict: Verdict
    facts: HostFacts


class _Safe(dict):
    def __missing__(self, key: str) -> str:  # placeholders are validated at load
        return "{" + key + "}"


def _fill(text: str, values: Mapping[str, Any]) -> str:
    return text.format_map(_Safe(values))


def incident_start(findings: list[Finding]) -> pd.Timestamp | None:
    """When the trouble began: the earliest start of a non-informational finding."""
    starts = [f.start for f in findings if f.severity != "info" and f.start is not None]
    return min(starts) if starts else None


def _weigh(item: PolicyItem, policy: Policy, fired: set[str], values: Mapping[str, Any]
           ) -> tuple[float, list[str], list[str]]:
    confidence, reasons, weighed = item.confidence, [], []
    for because in (*item.because, *policy.adjust):
        if because.when.holds(fired, values):
            reasons.append(_fill(because.reason, values))
            weighed.append(because.where)
            confidence = (confidence + because.add) * because.times
    low, high = policy.bounds
    return round(min(max(confidence, low), high), 2), reasons, weighed


def decide(policy: Policy, findings: list[Finding], facts: HostFacts) -> Verdict:
    """Apply ``policy`` to one host's findings and facts: the first item that holds decides."""
    fired = {finding.rule.id for finding in findings}
    values = facts.values()
    for item in policy.items:
        if item.when is None or item.when.holds(fired, values):
            confidence, reasons, weighed = _weigh(item, policy, fired, values)
            info = policy.verdicts[item.verdict]
            return Verdict(item.verdict, confidence, tuple(reasons), _fill(info.headline, values),
                           _fill(info.explanation, values), _fill(info.advice, values),
                           info.rank, item.id, tuple(weighed))
    raise AssertionError("a validated policy ends with a catch-all item")


def _unproven(host: HostVerdict) -> str:
    others = host.facts.other_names
    return f"; may be the same machine as {', '.join(others)} (not proven)" if others else ""


def case_verdict(hosts: list[HostVerdict]) -> Verdict:
    """The most severe host verdict (lowest rank, then highest confidence, then host name).

    With several hosts, the reasons name the host they come from, and one line per other host
    gives its verdict.
    """
    ordered = sorted(hosts, key=lambda h: (h.verdict.rank, -h.verdict.confidence, h.host))
    worst = ordered[0]
    if len(ordered) == 1:
        return worst.verdict
    name = worst.host or UNNAMED
    reasons = [f"{name}: {reason}" for reason in worst.verdict.reasons]
    reasons += [f"{other.host or UNNAMED}: {other.verdict.id} "
                f"(confidence {other.verdict.confidence:.0%})" + _unproven(other)
                for other in ordered[1:]]
    v = worst.verdict
    return Verdict(v.id, v.confidence, (
        f"most severe of {len(ordered)} hosts: {name}", *reasons), v.headline, v.explanation,
        v.advice, v.rank, v.decided_by, v.weighed)
