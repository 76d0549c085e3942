"""The verdict policy's objects: conditions, reasons, decision items, verdict texts.

:mod:`evtxmpio.detect.policy` builds them from ``verdicts.yaml``; :mod:`.verdict` applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Condition:
    """What must hold: rule ids that all fired, any fired, none fired; fact tests."""

    findings: tuple[str, ...] = ()
    any_finding: tuple[str, ...] = ()
    no_finding: tuple[str, ...] = ()
    facts: tuple[tuple[str, str, Any], ...] = ()
    # (rule id, line) of each rule id named, for problems found after loading
    lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def holds(self, fired: set[str], facts: Mapping[str, Any]) -> bool:
        """True when every part holds for the fired rule ids and the facts."""
        if not set(self.findings) <= fired:
            return False
        if self.any_finding and not set(self.any_finding) & fired:
            return False
        if set(self.no_finding) & fired:
            return False
        return all(_compare(facts.get(name), op, value) for name, op, value in self.facts)

    def rule_ids(self) -> tuple[str, ...]:
        """Every rule id the condition names."""
        return (*self.findings, *self.any_finding, *self.no_finding)


def _compare(actual: Any, op: str, value: Any) -> bool:
    if op == "equals":
        return actual == value
    if op == "not_equals":
        return actual != value
    if op == "in":
        return actual in value
    if actual is None:
        return False
    return {"gte": actual >= value, "gt": actual > value, "lte": actual <= value,
            "lt": actual < value}[op]


@dataclass(frozen=True, slots=True)
class Because:
    """A reason given when ``when`` holds, with its effect on the confidence."""

    id: str | None
    when: Condition
    reason: str
    add: float
    times: float
    where: str


@dataclass(frozen=True, slots=True)
class PolicyItem:
    """One decision: ``verdict`` when ``when`` holds (``None``: always, the catch-all)."""

    id: str
    verdict: str
    when: Condition | None
    confidence: float
    because: tuple[Because, ...]
    where: str


@dataclass(frozen=True, slots=True)
class VerdictInfo:
    """A verdict's rank (0 = most severe) and its texts."""

    id: str
    rank: int
    headline: str
    explanation: str
    advice: str


@dataclass(frozen=True, slots=True)
class Policy:
    """The merged, validated policy."""

    verdicts: Mapping[str, VerdictInfo]
    items: tuple[PolicyItem, ...]
    adjust: tuple[Because, ...]
    bounds: tuple[float, float] = (0.05, 0.99)
    sources: tuple[str, ...] = field(default_factory=tuple)

    def ranks(self) -> dict[str, int]:
        """Verdict id -> rank."""
        return {v.id: v.rank for v in self.verdicts.values()}
