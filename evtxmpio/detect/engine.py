"""Evaluate rules over the analysis frame and the timelines; produce :class:`Finding` s.

The analysis frame is the event frame plus three timeline columns the rules may use:
``name`` (``mpio:16``, ``MPIO:FailoverStart``), ``episode`` and ``paths_left``
(see :mod:`evtxmpio.timeline.episodes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio.detect.conditions import evaluate
from evtxmpio.detect.rules import Rule
from evtxmpio.timearith import seconds_delta, shift

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule hit with the exact event rows that made it fire."""

    rule: Rule
    host: str | None
    mpio_disk: int | None
    path_id: int | None
    start: pd.Timestamp | None
    end: pd.Timestamp | None
    evidence: tuple[int, ...]

    @property
    def severity(self) -> str:
        """The rule's severity."""
        return self.rule.severity


def run_rules(rules: Iterable[Rule], frame: pd.DataFrame, timelines: pd.DataFrame
              ) -> list[Finding]:
    """All findings of all rules, sorted by (start, rule id, host, disk, path)."""
    findings: list[Finding] = []
    for rule in rules:
        specs = rule.spec["alternatives"] if rule.kind == "any" else [rule.spec]
        found: dict[tuple[int, ...], Finding] = {}
        for spec in specs:
            for finding in _KINDS[spec.get("kind", rule.kind)](rule, spec, frame, timelines):
                if spec is rule.spec or _context_holds(spec, frame, finding):
                    found.setdefault(finding.evidence, finding)
        kept = [f for f in found.values() if _context_holds(rule.spec, frame, f)]
        merge_by = rule.spec.get("merge_by")
        findings.extend(_merge(rule, frame, kept, _per_host(merge_by)) if merge_by else kept)
    return sorted(findings, key=_finding_order)


def _merge(rule: Rule, frame: pd.DataFrame, findings: list[Finding], columns: list[str]
           ) -> list[Finding]:
    """One finding per value of ``columns`` (taken from each finding's evidence)."""
    groups: dict[tuple, set[int]] = {}
    for finding in findings:
        values = frame.loc[list(finding.evidence), columns]
        key = tuple(_single(values[column]) for column in columns)
        groups.setdefault(key, set()).update(finding.evidence)
    return [make_finding(rule, frame, rows) for _, rows in sorted(
        groups.items(), key=lambda item: min(item[1]))]


def _context_holds(spec: Mapping[str, Any], frame: pd.DataFrame, finding: Finding) -> bool:
    """Rule-level ``only_if`` (all must find a row) and ``unless`` (none may)."""
    for key, wanted in (("only_if", True), ("unless", False)):
        items = spec.get(key)
        for item in (items if isinstance(items, list) else [items]) if items else []:
            if _context_found(item, frame, finding) != wanted:
                return False
    return True


def _context_found(item: Mapping[str, Any], frame: pd.DataFrame, finding: Finding) -> bool:
    columns = _per_host(list(item["by"]))
    evidence = frame.loc[list(finding.evidence), columns].dropna()
    if evidence.empty:
        return False
    same = pd.Series(True, index=frame.index)
    for column, value in zip(columns, evidence.iloc[0], strict=True):
        same &= (frame[column] == value).fillna(False).astype(bool)
    return bool((same & evaluate(frame, item["select"])).any())


def _finding_order(finding: Finding) -> tuple:
    start = finding.start.value if finding.start is not None else 0
    return (start, finding.rule.id, finding.host or "", finding.mpio_disk or -1,
            finding.path_id or -1)


def make_finding(rule: Rule, frame: pd.DataFrame, rows: Iterable[int]) -> Finding:
    """A finding whose host/disk/path/time window come from its evidence rows."""
    evidence = tuple(sorted(set(rows)))
    subset = frame.loc[list(evidence), _only(frame, "host", "mpio_disk", "path_id", "time")]
    return Finding(rule, _single(subset["host"]), _single(subset["mpio_disk"]),
                   _single(subset["path_id"]) if "path_id" in subset else None,
                   subset["time"].min() if len(subset) else None,
                   subset["time"].max() if len(subset) else None, evidence)


def _only(frame: pd.DataFrame, *names: str | None) -> list[str]:
    """The columns of ``frame`` among ``names`` (each once, in that order): a step takes the
    rows it selects with the columns it reads, not every column of them."""
    return [name for name in dict.fromkeys(names) if name is not None and name in frame]


def _single(series: pd.Series) -> Any:
    values = series.dropna().unique()
    if len(values) != 1:
        return None
    value = values[0]
    return int(value) if not isinstance(value, str) else value


def _per_host(columns: list[str]) -> list[str]:
    """``columns`` with ``host`` first: no grouping of any rule ever joins two hosts."""
    return ["host", *[c for c in columns if c != "host"]]


def _groups(frame: pd.DataFrame, columns: list[str]) -> Iterator[tuple[tuple, pd.DataFrame]]:
    if frame.empty:
        return
    keyed = frame.dropna(subset=columns)
    for key, group in keyed.groupby(columns, sort=True, dropna=True):
        yield (key if isinstance(key, tuple) else (key,)), group


def _match(rule: Rule, spec: Mapping[str, Any], frame: pd.DataFrame, _timelines: pd.DataFrame
           ) -> list[Finding]:
    group_by = spec.get("group_by")
    hits = frame.loc[evaluate(frame, spec["select"]), _only(frame, *_per_host(group_by or []))]
    if not group_by:
        return [make_finding(rule, frame, [index]) for index in hits.index]
    return [make_finding(rule, frame, group.index)
            for _, group in _groups(hits, _per_host(group_by))]


def _threshold(rule: Rule, spec: Mapping[str, Any], frame: pd.DataFrame,
               _timelines: pd.DataFrame) -> list[Finding]:
    found: dict[tuple, set[int]] = {}
    for condition in spec["conditions"]:
        condition = {**condition, "group_by": _per_host(condition["group_by"])}
        hits = frame.loc[evaluate(frame, condition["select"]),
                         _only(frame, *condition["group_by"], "time", condition.get("distinct"))]
        for key, group in _groups(hits, condition["group_by"]):
            rows = _threshold_rows(frame, group, condition, key)
            if rows:
                found.setdefault(key, set()).update(rows)
    return [make_finding(rule, frame, rows) for _, rows in sorted(found.items())]


def _threshold_rows(frame: pd.DataFrame, group: pd.DataFrame, condition: Mapping[str, Any],
                    key: tuple) -> list[int]:
    window = condition.get("window")
    candidates = [group] if window is None else _windows(group, float(window))
    for candidate in candidates:
        distinct = condition.get("distinct")
        count = candidate[distinct].nunique() if distinct else len(candidate)
        if count < condition["min"]:
            continue
        required = _required_rows(frame, condition, key)
        if required is None:
            continue
        return [*candidate.index, *required]
    return []


def _windows(group: pd.DataFrame, seconds: float) -> Iterator[pd.DataFrame]:
    times = group["time"]
    span = seconds_delta(seconds)
    for start in times.unique():
        yield group.loc[(times >= start) & (times <= shift(start, span))]


def _required_rows(frame: pd.DataFrame, condition: Mapping[str, Any], key: tuple
                   ) -> list[int] | None:
    rows: list[int] = []
    in_group = pd.Series(True, index=frame.index)
    for column, value in zip(condition["group_by"], key, strict=True):
        in_group &= (frame[column] == value).fillna(False).astype(bool)
    for requirement in condition.get("require", []) or []:
        hits = frame.index[in_group & evaluate(frame, requirement)]
        if len(hits) == 0:
            return None
        rows.extend(hits)
    return rows


def _sequence(rule: Rule, spec: Mapping[str, Any], frame: pd.DataFrame,
              _timelines: pd.DataFrame) -> list[Finding]:
    steps = spec["steps"]
    window = seconds_delta(float(spec["window"]))
    masks = [evaluate(frame, step) for step in steps]
    relevant = frame.loc[pd.concat(masks, axis=1).any(axis=1),
                         _only(frame, *_per_host(spec["group_by"]), "time")]
    findings = []
    for _, group in _groups(relevant, _per_host(spec["group_by"])):
        for rows in _ordered_matches(group, [m.loc[group.index] for m in masks], window):
            findings.append(make_finding(rule, frame, rows))
    return findings


def _ordered_matches(group: pd.DataFrame, masks: list[pd.Series], window: pd.Timedelta
                     ) -> Iterator[list[int]]:
    used: set[int] = set()
    for first in group.index[masks[0]]:
        if first in used:
            continue
        start = group.at[first, "time"]
        rows, last, end = [first], start, shift(start, window)
        for mask in masks[1:]:
            later = group.index[mask & (group["time"] >= last) & (group["time"] <= end)
                                & ~group.index.isin(rows)]
            if len(later) == 0:
                break
            rows.append(later[0])
            last = group.at[later[0], "time"]
        else:
            used.update(rows)
            yield rows


def _transition(rule: Rule, spec: Mapping[str, Any], frame: pd.DataFrame,
                timelines: pd.DataFrame) -> list[Finding]:
    if timelines.empty:
        return []
    mask = (timelines["scope"] == spec["scope"]) & timelines["from_state"].isin(spec["from"])
    mask &= timelines["to_state"].isin(spec["to"])
    if spec.get("source", "any") != "any":
        mask &= timelines["source"] == spec["source"]
    return [make_finding(rule, frame, evidence)
            for evidence in timelines.loc[mask.fillna(False).astype(bool), "evidence"]]


_KINDS = {"match": _match, "threshold": _threshold, "sequence": _sequence,
          "transition": _transition}
