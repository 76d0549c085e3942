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
from evtxmpio.errors import RuleError
from evtxmpio.model import EVENT_COLUMNS

SEVERITIES = ("info", "low", "medium", "high", "critical")
KINDS = ("match", "threshold", "sequence", "transition", "any")
RULE_COLUMNS = set(EVENT_COLUMNS) | {"name", "episode", "paths_left"}
TIMELINE_STATES = {"ABSENT", "NORMAL", "IN_FO", "WAIT1", "WAIT2", "WAIT3", "DEGRADED", "REMOVED",
                   "active", "failed", "removed", "restored"}
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
            RuleError: ``source: rule 'id': problem``.
        """
        if not isinstance(data, Mapping):
            raise RuleError(f"{source}: a rule file must hold a mapping")
        rule_id = data.get("id")
        where = f"{source}: rule {rule_id!r}"
        missing = [key for key in _REQUIRED if key not in data]
        if missing:
            raise RuleError(f"{where}: missing {', '.join(missing)}")
        if Path(source).suffix in (".yaml", ".yml") and Path(source).stem != rule_id:
            raise RuleError(f"{where}: id must equal the file stem {Path(source).stem!r}")
        if data["severity"] not in SEVERITIES:
            raise RuleError(f"{where}: severity {data['severity']!r} not one of {SEVERITIES}")
        if data["kind"] not in KINDS:
            raise RuleError(f"{where}: kind {data['kind']!r} not one of {KINDS}")
        if not isinstance(data["references"], list):
            raise RuleError(f"{where}: references must be a list of links")
        spec = {k: v for k, v in data.items() if k not in (*_REQUIRED, "examples")}
        _VALIDATORS[data["kind"]](spec, where)
        _validate_context(spec, where)
        return cls(str(rule_id), str(data["title"]), str(data["description"]).strip(),
                   data["severity"], data["kind"], tuple(map(str, data["references"])),
                   str(data["remediation"]).strip(), spec, source,
                   data.get("examples") or {})


def _group_by(spec: Mapping[str, Any], where: str, required: bool) -> None:
    group_by = spec.get("group_by")
    if group_by is None and not required:
        return
    if not isinstance(group_by, list) or not group_by:
        raise RuleError(f"{where}: group_by must be a non-empty list")
    unknown = set(group_by) - GROUP_COLUMNS
    if unknown:
        raise RuleError(f"{where}: cannot group by {sorted(unknown)}")


def _validate_match(spec: Mapping[str, Any], where: str) -> None:
    validate_conditions(spec.get("select"), RULE_COLUMNS, f"{where}: select")
    _group_by(spec, where, required=False)


def _validate_threshold(spec: Mapping[str, Any], where: str) -> None:
    conditions = spec.get("conditions")
    if not isinstance(conditions, list) or not conditions:
        raise RuleError(f"{where}: threshold needs a non-empty list 'conditions'")
    for number, condition in enumerate(conditions, start=1):
        at = f"{where}: conditions[{number}]"
        if not isinstance(condition, Mapping):
            raise RuleError(f"{at}: expected a mapping")
        validate_conditions(condition.get("select"), RULE_COLUMNS, f"{at}: select")
        _group_by(condition, at, required=True)
        if not isinstance(condition.get("min"), int) or condition["min"] < 1:
            raise RuleError(f"{at}: 'min' must be a positive integer")
        if "distinct" in condition and condition["distinct"] not in RULE_COLUMNS:
            raise RuleError(f"{at}: unknown distinct column {condition['distinct']!r}")
        _number(condition, "window", at)
        for item in condition.get("require", []) or []:
            validate_conditions(item, RULE_COLUMNS, f"{at}: require")


def _validate_sequence(spec: Mapping[str, Any], where: str) -> None:
    _group_by(spec, where, required=True)
    steps = spec.get("steps")
    if not isinstance(steps, list) or len(steps) < 2:
        raise RuleError(f"{where}: sequence needs at least two steps")
    for number, step in enumerate(steps, start=1):
        validate_conditions(step, RULE_COLUMNS, f"{where}: steps[{number}]")
    _number(spec, "window", where, required=True)


def _validate_transition(spec: Mapping[str, Any], where: str) -> None:
    if spec.get("scope") not in ("disk", "path"):
        raise RuleError(f"{where}: transition scope must be 'disk' or 'path'")
    for key in ("from", "to"):
        states = spec.get(key)
        if not isinstance(states, list) or not states or set(states) - TIMELINE_STATES:
            raise RuleError(f"{where}: '{key}' must list states from {sorted(TIMELINE_STATES)}")
    if spec.get("source", "any") not in ("any", "trace", "system"):
        raise RuleError(f"{where}: source must be any, trace or system")


def _number(spec: Mapping[str, Any], key: str, where: str, required: bool = False) -> None:
    value = spec.get(key)
    if value is None and not required:
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise RuleError(f"{where}: '{key}' must be a positive number of seconds")


def _validate_any(spec: Mapping[str, Any], where: str) -> None:
    alternatives = spec.get("alternatives")
    if not isinstance(alternatives, list) or not alternatives:
        raise RuleError(f"{where}: kind 'any' needs a non-empty list 'alternatives'")
    for number, alternative in enumerate(alternatives, start=1):
        at = f"{where}: alternatives[{number}]"
        if not isinstance(alternative, Mapping) or alternative.get("kind") not in _VALIDATORS:
            raise RuleError(f"{at}: needs a kind among match, threshold, sequence, transition")
        if alternative["kind"] == "any":
            raise RuleError(f"{at}: alternatives cannot nest")
        _VALIDATORS[alternative["kind"]](alternative, at)
        _validate_context(alternative, at)


def _validate_context(spec: Mapping[str, Any], where: str) -> None:
    """``requires`` / ``unless``: ``{by: [columns], select: selector}`` or a list of them;
    ``merge_by``: group columns."""
    if "merge_by" in spec:
        _group_by({"group_by": spec["merge_by"]}, f"{where}: merge_by", required=True)
    for key in ("requires", "unless"):
        items = spec.get(key)
        if items is None:
            continue
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, Mapping) or "by" not in item or "select" not in item:
                raise RuleError(f"{where}: {key} entries need 'by' and 'select'")
            _group_by({"group_by": item["by"]}, f"{where}: {key}", required=True)
            validate_conditions(item["select"], RULE_COLUMNS, f"{where}: {key}: select")


_VALIDATORS = {"match": _validate_match, "threshold": _validate_threshold,
               "sequence": _validate_sequence, "transition": _validate_transition,
               "any": _validate_any}


def rule_files(folders: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file in ``folders``, in a stable order."""
    files: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(f"{folder}: rules folder not found")
        files.extend(sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]))
    return files


def load_rule_file(path: Path) -> Rule:
    """Load one rule file.

    Raises:
        RuleError: on YAML syntax errors or invalid rules, naming the file.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}{line}: YAML error: {getattr(exc, 'problem', exc)}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from exc
    return Rule.from_dict(data, source=str(path))


def load_rules(folders: Iterable[Path]) -> tuple[list[Rule], list[RuleError]]:
    """Load every rule in ``folders``; collect errors instead of stopping at the first."""
    rules: list[Rule] = []
    errors: list[RuleError] = []
    seen: dict[str, str] = {}
    for path in rule_files(folders):
        try:
            rule = load_rule_file(path)
        except RuleError as exc:
            errors.append(exc)
            continue
        if rule.id in seen:
            errors.append(RuleError(f"{path}: rule {rule.id!r}: duplicate id (also in "
                                    f"{seen[rule.id]})"))
            continue
        seen[rule.id] = str(path)
        rules.append(rule)
    return rules, errors
