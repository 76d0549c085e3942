"""Detect: analysis frame + timelines + ``rules/*.yaml`` -> findings and the case verdict.

Detect reads the analysis frame the timeline made (:func:`evtxmpio.timeline.analysis_frame`:
``name``, ``episode``, ``paths_left`` included) and never calls back into the timeline.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

from evtxmpio.detect.case import CaseResult
from evtxmpio.detect.delayed_writes import DelayedWriteFailure, delayed_write_failures
from evtxmpio.detect.engine import SEVERITY_RANK, Finding, run_rules
from evtxmpio.detect.facts import HostFacts
from evtxmpio.detect.hosts import HostNames, unify_hosts
from evtxmpio.detect.hotfix import HotfixStatus, hotfix_status
from evtxmpio.detect.judge import Judgement, judge
from evtxmpio.detect.luns import LunOutcome, correlate_delayed_writes, lun_outcomes
from evtxmpio.detect.policy import Policy, load_policy, policy_files
from evtxmpio.detect.rules import Rule, load_rule_file, load_rules, rule_files
from evtxmpio.detect.verdict import HostVerdict, Verdict, decide, incident_start
from evtxmpio.errors import RuleError
from evtxmpio.resources import data_dir

__all__ = [
    "SEVERITY_RANK",
    "CaseResult",
    "DelayedWriteFailure",
    "Finding",
    "HostFacts",
    "HostNames",
    "HostVerdict",
    "HotfixStatus",
    "Judgement",
    "LunOutcome",
    "Policy",
    "Rule",
    "Verdict",
    "correlate_delayed_writes",
    "decide",
    "delayed_write_failures",
    "hotfix_status",
    "incident_start",
    "judge",
    "load_policy",
    "load_rule_file",
    "load_rules",
    "lun_outcomes",
    "rule_folders",
    "run_rules",
    "shipped_policy",
    "shipped_rules",
    "unify_hosts",
    "verdict_ranks",
]


def rule_folders(extra: Iterable[Path] = ()) -> list[Path]:
    """The shipped ``rules/`` folder followed by the user's folders."""
    return [data_dir("rules"), *extra]


def shipped_rules(extra: Iterable[Path] = ()) -> list[Rule]:
    """Load the shipped rules plus ``extra`` folders (cached while no rule file changes).

    Raises:
        RuleError: listing every invalid rule file.
    """
    folders = rule_folders(extra)
    stamp = tuple((str(path), path.stat().st_mtime_ns) for path in rule_files(folders))
    return list(_load_checked(tuple(folders), stamp))


@functools.lru_cache(maxsize=8)
def _load_checked(folders: tuple[Path, ...], stamp: tuple[tuple[str, int], ...]
                  ) -> tuple[Rule, ...]:
    del stamp  # part of the cache key only: a changed rule file is loaded again
    rules, errors = load_rules(folders)
    if errors:
        raise RuleError("; ".join(str(error) for error in errors))
    return tuple(rules)


def shipped_policy(extra: Iterable[Path] = ()) -> Policy:
    """The shipped verdict policy merged with the ``verdicts.yaml`` of ``extra`` folders,
    validated against the rules of the same folders (cached while no file changes).

    Raises:
        RuleError: listing every problem as ``file:line: problem``.
    """
    folders = rule_folders(extra)
    rule_ids = tuple(sorted(rule.id for rule in shipped_rules(extra)))
    stamp = tuple((str(path), path.stat().st_mtime_ns) for path in policy_files(folders))
    return _policy_checked(tuple(folders), rule_ids, stamp)


@functools.lru_cache(maxsize=8)
def _policy_checked(folders: tuple[Path, ...], rule_ids: tuple[str, ...],
                    stamp: tuple[tuple[str, int], ...]) -> Policy:
    del stamp  # part of the cache key only
    policy, errors = load_policy(folders, rule_ids)
    if errors or policy is None:
        raise RuleError("; ".join(str(error) for error in errors))
    return policy


def verdict_ranks() -> dict[str, int]:
    """Verdict id -> rank (0 = most severe) of the shipped policy, for ordering cases."""
    return shipped_policy().ranks()

