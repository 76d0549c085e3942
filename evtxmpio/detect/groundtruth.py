"""Compare an analyzed case with the ground truth the replay model wrote for it.

The ground-truth JSON (``ground_truth.json`` beside each replayed sample) gives the verdict,
the duplicated Path IDs, each disk's outcome and the delayed-write files. A mismatch is a line
of text; an empty list means the analysis agrees with the truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from evtxmpio.detect.case import CaseResult

RACE_VERDICT = "kb2406705-race"


def race_rules(case: CaseResult) -> set[str]:
    """The rules the policy requires for the race verdict (their findings name the Path IDs)."""
    if case.policy is None:
        return set()
    return {rule for item in case.policy.items if item.verdict == RACE_VERDICT and item.when
            for rule in item.when.findings}


def compare_with_truth(case: CaseResult, truth: Mapping[str, Any],
                       check_outcomes: bool = True) -> list[str]:
    """Mismatches between ``case`` and ``truth`` (empty when they agree).

    Args:
        case: the analysis.
        truth: the ground-truth document.
        check_outcomes: also compare per-disk outcomes (needs every log of the case).
    """
    problems = []
    if case.verdict.id != truth["verdict"]:
        problems.append(f"verdict {case.verdict.id} != truth {truth['verdict']}")
    rules = race_rules(case)
    found = {f"0x{f.path_id:08x}" for f in case.findings
             if f.rule.id in rules and f.path_id is not None}
    expected = {p.lower() for p in truth.get("duplicated_path_ids", [])}
    if found != expected:
        problems.append(f"duplicated Path IDs {sorted(found)} != truth {sorted(expected)}")
    files = {(d.host, d.file.lower()) for d in case.delayed_write_failures}
    truth_files = {(d["host"], d["file"].lower()) for d in truth.get("delayed_write_files", [])}
    if files != truth_files:
        missing, extra = sorted(truth_files - files), sorted(files - truth_files)
        problems.append(f"{len(files)} delayed-write files != truth {len(truth_files)}: "
                        f"missing {missing}, extra {extra}")
    if check_outcomes:
        problems.extend(_outcome_problems(case, truth))
    return problems


def _outcome_problems(case: CaseResult, truth: Mapping[str, Any]) -> list[str]:
    outcomes = {(lun.host, lun.mpio_disk): lun.outcome for lun in case.luns}
    problems = []
    for disk in truth.get("disks", []):
        key = (disk["host"], disk["mpio_disk"])
        got = outcomes.get(key, "unaffected")
        if got != disk["outcome"]:
            problems.append(f"{key[0]} MPIODisk{key[1]}: outcome {got} != truth "
                            f"{disk['outcome']}")
    return problems
