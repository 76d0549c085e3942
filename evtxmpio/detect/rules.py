"""Rules as data: load and validate ``rules/*.yaml`` into :class:`Rule` objects.

The language is documented in ``rules/README.md``. ``load_rules`` returns the rules *and*
every error it met, so ``evtxmpio rules validate`` can show them all at once; each error names
the file, the rule id and the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evtxmpio.detect.conditions import validate_conditions
from evtxmpio.detect.policy import POLICY_FILE
from evtxmpio.detect.ruleyaml import LineDict, LineLoader, Where, line_of, plain
from evtxmpio.errors import RuleError
from evtxmpio.model import ANALYSIS_COLUMNS

SEVERITIES = ("info", "low", "medium", "high", "critical")
KINDS = ("match", "threshold", "sequence", "transition", "any")
RULE_COLUMNS = set(ANALYSIS_COLUMNS)
TIMELINE_STATES = {"ABSENT", "NORMAL", "IN_FO", "WAIT1", "WAIT2", "WAIT3", "DEGRADED", "REMOVED",
                   "active", "failed", "removed", "restored", "unknown"}
GROUP_COLUMNS = {"host", "mpio_disk", "path_id", "episode", "file", "volume", "failover_id"}
_REQUIRED = ("id", "title", "description", "severity", "kind", "references", "remediation")


@dataclass(frozen=True, slots=True)
class Rule:
    """One validated rule; ``spec`` keeps the kind-specific part as loaded."""

    id: str
    title: str
    description: str
    severity: str
    kind: str
    references: tuple[str, ...]
    remediation: str
    spec: Mapping[str, Any]
    source: str
    examples: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, source: str) -> Rule:
        """Validate ``data`` (one YAML document) and build the rule.

        Raises:
            RuleError: ``source[:line]: rule 'id': problem``; several problems are joined
                with ``; `` (:func:`check_rule` returns them one by one).
        """
        rule, errors = check_rule(data, source)
        if errors:
            raise RuleError("; ".join(map(str, errors)))
        assert rule is not None
        return rule


Errors = list[RuleError]


def _fail(errors: Errors, where: Where, message: str) -> None:
    errors.append(RuleError(f"{where}: {message}"))


def check_rule(data: Any, source: str) -> tuple[Rule | None, Errors]:
    """Validate one YAML document as a rule; return the rule (``None`` if invalid) and every
    problem found, each naming the file, the line, the rule id and the key."""
    errors: Errors = []
    if not isinstance(data, Mapping):
        _fail(errors, Where(source, line_of(data), "rule file"), "a rule file must hold a mapping")
        return None, errors
    rule_id = data.get("id")
    where = Where(source, line_of(data), f"rule {rule_id!r}")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        _fail(errors, where, f"missing {', '.join(missing)}")
    if Path(source).suffix in (".yaml", ".yml") and Path(source).stem != rule_id:
        _fail(errors, where.on(data, "id"), f"id must equal the file stem {Path(source).stem!r}")
    if "severity" in data and data["severity"] not in SEVERITIES:
        _fail(errors, where.on(data, "severity"),
              f"severity {data['severity']!r} not one of {SEVERITIES}")
    if "kind" in data and data["kind"] not in KINDS:
        _fail(errors, where.on(data, "kind"), f"kind {data['kind']!r} not one of {KINDS}")
    if "references" in data and not isinstance(data["references"], list):
        _fail(errors, where.on(data, "references"), "references must be a list of links")
    spec = _spec_of(data)
    if data.get("kind") in _VALIDATORS:
        _VALIDATORS[data["kind"]](spec, where, errors)
    _validate_context(spec, where, errors)
    if errors:
        return None, errors
    return _build_rule(data, spec, source), errors


def _spec_of(data: Mapping[str, Any]) -> LineDict:
    """The kind-specific keys of a rule document, keeping their line numbers."""
    spec = LineDict({k: v for k, v in data.items() if k not in (*_REQUIRED, "examples")})
    spec.line = line_of(data) or 0
    spec.lines = dict(getattr(data, "lines", {}))
    return spec


def _build_rule(data: Mapping[str, Any], spec: Mapping[str, Any], source: str) -> Rule:
    """Build a :class:`Rule` from validated data (plain dicts and lists inside)."""
    return Rule(str(data["id"]), str(data["title"]), str(data["description"]).strip(),
                data["severity"], data["kind"], tuple(map(str, data["references"])),
                str(data["remediation"]).strip(), plain(spec), source,
                plain(data.get("examples") or {}))


def _selector(selector: Any, where: Where, errors: Errors) -> None:
    """Check a selector, one column (or list item) at a time, so every problem is named."""
    if isinstance(selector, list) and selector:
        for index, item in enumerate(selector):
            _selector(item, Where(where.source, line_of(selector, index) or where.line,
                                  f"{where.label}[{index + 1}]"), errors)
        return
    if not isinstance(selector, Mapping) or not selector:
        _try(errors, validate_conditions, selector, RULE_COLUMNS, str(where))
        return
    for column, spec in selector.items():
        _try(errors, validate_conditions, {column: spec}, RULE_COLUMNS,
             str(where.on(selector, column)))


def _try(errors: Errors, check: Any, *args: Any) -> None:
    try:
        check(*args)
    except RuleError as exc:
        errors.append(exc)


def _group_by(spec: Mapping[str, Any], where: Where, errors: Errors, required: bool,
              key: str = "group_by") -> None:
    group_by = spec.get(key)
    if group_by is None and not required:
        return
    at = where.on(spec, key)
    if not isinstance(group_by, list) or not group_by:
        _fail(errors, at, f"{key} must be a non-empty list")
        return
    unknown = set(map(str, group_by)) - GROUP_COLUMNS
    if unknown:
        _fail(errors, at, f"cannot group by {sorted(unknown)}")


def _validate_match(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    _selector(spec.get("select"), where.at(spec, "select"), errors)
    _group_by(spec, where, errors, required=False)


def _validate_threshold(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    conditions = spec.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        _fail(errors, where.on(spec, "conditions"),
              "threshold needs a non-empty list 'conditions'")
        return
    for index, condition in enumerate(conditions):
        at = where.at(conditions, index, f"conditions[{index + 1}]")
        if not isinstance(condition, Mapping):
            _fail(errors, at, "expected a mapping")
            continue
        _selector(condition.get("select"), at.at(condition, "select"), errors)
        _group_by(condition, at, errors, required=True)
        if not isinstance(condition.get("min"), int) or condition["min"] < 1:
            _fail(errors, at.on(condition, "min"), "'min' must be a positive integer")
        if "distinct" in condition and condition["distinct"] not in RULE_COLUMNS:
            _fail(errors, at.on(condition, "distinct"),
                  f"unknown distinct column {condition['distinct']!r}")
        _number(condition, "window", at, errors)
        for key in ("requires", "only_if"):
            if key in condition:
                _fail(errors, at.on(condition, key), f"{key!r} is not a threshold condition "
                      "key: events the group must also hold are 'require'")
        require = condition.get("require", []) or []
        for number, item in enumerate(require if isinstance(require, list) else [require]):
            _selector(item, at.at(require, number, "require"), errors)


def _validate_sequence(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    _group_by(spec, where, errors, required=True)
    steps = spec.get("steps")
    if not isinstance(steps, list) or len(steps) < 2:
        _fail(errors, where.on(spec, "steps"), "sequence needs at least two steps")
    else:
        for index, step in enumerate(steps):
            _selector(step, where.at(steps, index, f"steps[{index + 1}]"), errors)
    _number(spec, "window", where, errors, required=True)


def _validate_transition(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    if spec.get("scope") not in ("disk", "path"):
        _fail(errors, where.on(spec, "scope"), "transition scope must be 'disk' or 'path'")
    for key in ("from", "to"):
        states = spec.get(key)
        if not isinstance(states, list) or not states or set(map(str, states)) - TIMELINE_STATES:
            _fail(errors, where.on(spec, key),
                  f"'{key}' must list states from {sorted(TIMELINE_STATES)}")
    if spec.get("source", "any") not in ("any", "trace", "system"):
        _fail(errors, where.on(spec, "source"), "source must be any, trace or system")


def _number(spec: Mapping[str, Any], key: str, where: Where, errors: Errors,
            required: bool = False) -> None:
    value = spec.get(key)
    if value is None and not required:
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        _fail(errors, where.on(spec, key), f"'{key}' must be a positive number of seconds")


def _validate_any(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    alternatives = spec.get("alternatives")
    if not isinstance(alternatives, list) or not alternatives:
        _fail(errors, where.on(spec, "alternatives"),
              "kind 'any' needs a non-empty list 'alternatives'")
        return
    for index, alternative in enumerate(alternatives):
        at = where.at(alternatives, index, f"alternatives[{index + 1}]")
        if not isinstance(alternative, Mapping) or alternative.get("kind") not in _VALIDATORS:
            _fail(errors, at, "needs a kind among match, threshold, sequence, transition")
        elif alternative["kind"] == "any":
            _fail(errors, at.on(alternative, "kind"), "alternatives cannot nest")
        else:
            _VALIDATORS[alternative["kind"]](alternative, at, errors)
            _validate_context(alternative, at, errors)


def _validate_context(spec: Mapping[str, Any], where: Where, errors: Errors) -> None:
    """``only_if`` / ``unless``: ``{by: [columns], select: selector}`` or a list of them;
    ``merge_by``: group columns."""
    if "merge_by" in spec:
        _group_by(spec, where, errors, required=True, key="merge_by")
    for key, problem in _MISPLACED_CONTEXT.items():
        if key in spec:
            _fail(errors, where.on(spec, key), problem)
    for key in ("only_if", "unless"):
        items = spec.get(key)
        if items is None:
            continue
        at = where.at(spec, key)
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, Mapping) or "by" not in item or "select" not in item:
                _fail(errors, at, "entries need 'by' and 'select'")
                continue
            _group_by(item, at, errors, required=True, key="by")
            _selector(item["select"], at.at(item, "select"), errors)


# ``requires`` (a context filter until it was renamed ``only_if``, the pair of ``unless``) and
# ``require`` (a threshold condition's key) were too alike: the old spelling is refused.
_RENAMED = ("'requires' is now 'only_if' (keep a finding only if an event sharing its 'by' "
            "values matches 'select'); a threshold condition's own key is 'require'")
_MISPLACED_CONTEXT = {
    "requires": _RENAMED,
    "require": "'require' belongs in a threshold condition; a context filter is 'only_if'",
}

_VALIDATORS = {"match": _validate_match, "threshold": _validate_threshold,
               "sequence": _validate_sequence, "transition": _validate_transition,
               "any": _validate_any}


def rule_files(folders: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file in ``folders``, in a stable order.

    The verdict policy (``verdicts.yaml``, :mod:`evtxmpio.detect.policy`) is not a rule.
    """
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(f"{folder}: rules folder not found")
        files.extend(sorted(p for p in [*folder.glob("*.yaml"), *folder.glob("*.yml")]
                            if p.name != POLICY_FILE))
    return files


def load_rule_file(path: Path) -> Rule:
    """Load one rule file.

    Raises:
        RuleError: on YAML syntax errors or invalid rules, naming the file and the line
            (several problems joined with ``; ``).
    """
    rule, errors = check_rule_file(path)
    if errors:
        raise RuleError("; ".join(map(str, errors)))
    assert rule is not None
    return rule


def check_rule_file(path: Path) -> tuple[Rule | None, Errors]:
    """Load and validate one rule file; return the rule (``None`` if invalid) and *every*
    problem, each as ``FILE:LINE: rule 'ID': key: problem``."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        return None, [RuleError(f"{path}{line}: YAML error: {getattr(exc, 'problem', exc)}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [RuleError(f"{path}: cannot read: {exc}")]
    return check_rule(data, source=str(path))


def load_rules(folders: Iterable[Path]) -> tuple[list[Rule], list[RuleError]]:
    """Load every rule in ``folders``; collect every problem of every file instead of
    stopping at the first."""
    rules: list[Rule] = []
    errors: list[RuleError] = []
    seen: dict[str, str] = {}
    for path in rule_files(folders):
        rule, problems = check_rule_file(path)
        errors.extend(problems)
        if rule is None:
            continue
        if rule.id in seen:
            errors.append(RuleError(f"{path}: rule {rule.id!r}: duplicate id (also in "
                                    f"{seen[rule.id]})"))
            continue
        seen[rule.id] = str(path)
        rules.append(rule)
    return rules, errors
