"""The verdict policy as data: ``rules/verdicts.yaml`` loaded, merged and validated.

The policy file sits beside the rules. It holds, for every verdict, its rank (triage order,
0 = most severe), headline, explanation and advice (``verdicts:``); an ordered list of
decision items (``decide:``), each naming a verdict, the findings and facts it needs
(``when:``), a starting confidence and the reasons that raise or lower it (``because:``);
and adjustments applied whatever the verdict (``adjust:``). The language is documented in
``rules/README.md``. A user's rule folder may hold its own ``verdicts.yaml``: its verdict
entries are merged key by key, its items replace shipped items of the same id or are inserted
(``before:``/``after:`` an item, else before the final catch-all), and ``remove:`` drops items.

Every problem is named ``file:line: problem``; rule ids are checked against the rules loaded.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evtxmpio.detect.policy_facts import FACTS, TEXT_FIELDS, check_fact_value
from evtxmpio.detect.policy_model import Because, Condition, Policy, PolicyItem, VerdictInfo
from evtxmpio.detect.ruleyaml import LineDict, LineList, LineLoader, line_of
from evtxmpio.errors import RuleError

POLICY_FILE = "verdicts.yaml"
SCHEMA = "evtxmpio.verdicts/1"
VERDICT_KEYS = ("rank", "headline", "explanation", "advice")
WHEN_KEYS = ("findings", "any_finding", "no_finding", "facts")
ITEM_KEYS = {"id", "verdict", "when", "confidence", "because", "before", "after"}
BECAUSE_KEYS = {"id", "when", "reason", "add", "times", "before", "after"}
TOP_KEYS = {"policy", "verdicts", "decide", "adjust", "remove", "confidence_bounds"}


def at(node: Any, key: Any = None) -> int:
    """The line of ``node[key]`` (or of ``node``), 1 when unknown."""
    return line_of(node, key) or 1


def load_located(path: Path) -> Any:
    """One YAML document with line numbers (:mod:`.ruleyaml`).

    Raises:
        RuleError: ``path:line: YAML error: ...`` or ``path: cannot read: ...``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from exc
    try:
        return yaml.load(text, Loader=LineLoader)  # a SafeLoader: no Python objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}{line}: YAML error: {getattr(exc, 'problem', exc)}") from exc


class _Errors(list):
    def add(self, source: str, line: int, text: str) -> None:
        self.append(RuleError(f"{source}:{line}: {text}"))


@dataclass(slots=True)
class _Draft:
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: list[tuple[PolicyItem, Any, Any]] = field(default_factory=list)
    adjust: list[tuple[Because, Any, Any]] = field(default_factory=list)
    bounds: tuple[float, float] = (0.05, 0.99)
    sources: list[str] = field(default_factory=list)


def policy_files(folders: Iterable[Path]) -> list[Path]:
    """The ``verdicts.yaml`` of each folder that has one, in folder order."""
    return [folder / POLICY_FILE for folder in folders if (folder / POLICY_FILE).is_file()]


def load_policy(folders: Iterable[Path], rule_ids: Iterable[str]
                ) -> tuple[Policy | None, list[RuleError]]:
    """Load, merge and validate the policy files of ``folders`` (shipped folder first).

    Returns:
        the policy (``None`` when it has errors) and every error, each ``file:line: problem``.
    """
    errors = _Errors()
    draft = _Draft()
    files = policy_files(folders)
    if not files:
        return None, [RuleError(f"{POLICY_FILE}: no verdict policy found in the rule folders")]
    for path in files:
        try:
            data = load_located(path)
        except RuleError as exc:
            errors.append(exc)
            continue
        _merge_file(draft, data, str(path), errors)
    policy = _finish(draft, set(rule_ids), errors)
    return (None if errors else policy), list(errors)


def _merge_file(draft: _Draft, data: Any, source: str, errors: _Errors) -> None:
    if not isinstance(data, LineDict):
        errors.add(source, 1, "a verdict policy file must hold a mapping")
        return
    draft.sources.append(source)
    for key in sorted(set(data) - TOP_KEYS, key=str):
        errors.add(source, at(data, key), f"unknown key {key!r} (known: "
                   f"{', '.join(sorted(TOP_KEYS))})")
    if data.get("policy", SCHEMA) != SCHEMA:
        errors.add(source, at(data, "policy"), f"policy must be {SCHEMA!r}")
    if "confidence_bounds" in data:
        draft.bounds = _bounds(data["confidence_bounds"], source, at(data,
            "confidence_bounds"), errors) or draft.bounds
    _merge_verdicts(draft, data.get("verdicts"), source, errors)
    removed = data.get("remove") or []
    if not isinstance(removed, list):
        errors.add(source, at(data, "remove"), "remove must be a list of item ids")
        removed = []
    draft.items = [entry for entry in draft.items if entry[0].id not in removed]
    draft.adjust = [entry for entry in draft.adjust if entry[0].id not in removed]
    for raw in _entries(data, "decide", source, errors):
        item = _item(raw, source, errors)
        if item is not None:
            _place(draft.items, item, raw, source, errors, catch_all_last=True)
    for raw in _entries(data, "adjust", source, errors):
        because = _because(raw, source, errors, need_id=True)
        if because is not None:
            _place(draft.adjust, because, raw, source, errors, catch_all_last=False)


def _bounds(value: Any, source: str, line: int, errors: _Errors) -> tuple[float, float] | None:
    if (isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value)
            and 0 <= value[0] <= value[1] <= 1):
        return float(value[0]), float(value[1])
    errors.add(source, line, "confidence_bounds must be [low, high] with 0 <= low <= high <= 1")
    return None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _entries(data: LineDict, key: str, source: str, errors: _Errors) -> list[LineDict]:
    entries = data.get(key)
    if entries is None:
        return []
    if not isinstance(entries, LineList):
        errors.add(source, at(data, key), f"{key} must be a list")
        return []
    good = []
    for index, entry in enumerate(entries):
        if isinstance(entry, LineDict):
            good.append(entry)
        else:
            errors.add(source, at(entries, index), f"{key} entries must be mappings")
    return good


def _merge_verdicts(draft: _Draft, verdicts: Any, source: str, errors: _Errors) -> None:
    if verdicts is None:
        return
    if not isinstance(verdicts, LineDict):
        errors.add(source, 1, "verdicts must map verdict ids to rank and texts")
        return
    for verdict_id, entry in verdicts.items():
        line = at(verdicts, verdict_id)
        if not isinstance(entry, LineDict):
            errors.add(source, line, f"verdict {verdict_id!r}: expected a mapping")
            continue
        for key in sorted(set(entry) - set(VERDICT_KEYS), key=str):
            errors.add(source, at(entry, key), f"verdict {verdict_id!r}: unknown key "
                       f"{key!r} (known: {', '.join(VERDICT_KEYS)})")
        if "rank" in entry and (not isinstance(entry["rank"], int) or isinstance(
                entry["rank"], bool) or entry["rank"] < 0):
            errors.add(source, at(entry, "rank"), f"verdict {verdict_id!r}: rank must be "
                       "a non-negative integer")
        for key in VERDICT_KEYS[1:]:
            if key in entry:
                _text(entry[key], source, at(entry, key), f"verdict {verdict_id!r}: {key}",
                      errors)
        merged = draft.verdicts.setdefault(str(verdict_id), {"where": f"{source}:{line}"})
        merged.update({k: entry[k] for k in VERDICT_KEYS if k in entry})


def _condition(raw: Any, source: str, line: int, what: str, errors: _Errors
               ) -> Condition | None:
    if not isinstance(raw, LineDict) or not raw:
        errors.add(source, line, f"{what}: when must be a non-empty mapping of "
                   f"{', '.join(WHEN_KEYS)}")
        return None
    for key in sorted(set(raw) - set(WHEN_KEYS), key=str):
        errors.add(source, at(raw, key), f"{what}: unknown condition {key!r} (known: "
                   f"{', '.join(WHEN_KEYS)})")
    lists, lines = {}, []
    for key in WHEN_KEYS[:3]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.add(source, at(raw, key), f"{what}: {key} must be a list of rule ids")
            value = []
        lists[key] = tuple(value)
        lines += [(rule_id, line_of(value, index) or at(raw, key))
                  for index, rule_id in enumerate(value)]
    facts = _fact_tests(raw.get("facts", {}), source, at(raw, "facts"), what, errors)
    return Condition(lists["findings"], lists["any_finding"], lists["no_finding"], facts,
                     tuple(lines))


def _fact_tests(raw: Any, source: str, line: int, what: str, errors: _Errors
                ) -> tuple[tuple[str, str, Any], ...]:
    if not isinstance(raw, dict):
        errors.add(source, line, f"{what}: facts must map fact names to values or tests")
        return ()
    tests = []
    for name, test in raw.items():
        here = at(raw, name)
        if name not in FACTS:
            errors.add(source, here, f"{what}: unknown fact {name!r} (known: "
                       f"{', '.join(sorted(FACTS))})")
            continue
        pairs = test.items() if isinstance(test, dict) else [("equals", test)]
        for op, value in pairs:
            problem = check_fact_value(name, op, value)
            if problem:
                errors.add(source, here, f"{what}: fact {name!r}: {problem}")
            else:
                tests.append((str(name), str(op), tuple(value) if op == "in" else value))
    return tuple(tests)


def _text(raw: Any, source: str, line: int, what: str, errors: _Errors) -> str:
    if not isinstance(raw, str) or not raw.strip():
        errors.add(source, line, f"{what}: must be non-empty text")
        return ""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(raw) if name is not None}
    except ValueError as exc:
        errors.add(source, line, f"{what}: bad placeholder in reason: {exc}")
        return ""
    unknown = names - set(FACTS) - set(TEXT_FIELDS)
    if unknown:
        errors.add(source, line, f"{what}: unknown placeholder(s) {sorted(unknown)} (known: "
                   f"{', '.join(sorted({*FACTS, *TEXT_FIELDS}))})")
    return " ".join(raw.split())


def _because(raw: LineDict, source: str, errors: _Errors, need_id: bool = False
             ) -> Because | None:
    what = f"reason {raw.get('id', raw.get('reason', ''))!r}"[:80]
    for key in sorted(set(raw) - BECAUSE_KEYS, key=str):
        errors.add(source, at(raw, key), f"{what}: unknown key {key!r} (known: "
                   f"{', '.join(sorted(BECAUSE_KEYS))})")
    if need_id and not isinstance(raw.get("id"), str):
        errors.add(source, raw.line, f"{what}: adjust entries need an id")
        return None
    when = Condition() if "when" not in raw else _condition(
        raw["when"], source, at(raw, "when"), what, errors)
    effect = {}
    for key, neutral in (("add", 0.0), ("times", 1.0)):
        value = raw.get(key, neutral)
        if not _number(value) or (key == "times" and value < 0) or abs(value) > 1e6:
            errors.add(source, at(raw, key), f"{what}: {key} must be a number"
                       + (" >= 0" if key == "times" else ""))
            value = neutral
        effect[key] = float(value)
    reason = _text(raw.get("reason"), source, at(raw, "reason"), what, errors)
    if when is None:
        return None
    return Because(raw.get("id"), when, reason, effect["add"], effect["times"],
                   f"{source}:{raw.line}")


def _item(raw: LineDict, source: str, errors: _Errors) -> PolicyItem | None:
    item_id = raw.get("id")
    what = f"item {item_id!r}"
    for key in sorted(set(raw) - ITEM_KEYS, key=str):
        errors.add(source, at(raw, key), f"{what}: unknown key {key!r} (known: "
                   f"{', '.join(sorted(ITEM_KEYS))})")
    if not isinstance(item_id, str) or not isinstance(raw.get("verdict"), str):
        errors.add(source, raw.line, f"{what}: decide items need an id and a verdict")
        return None
    when = None if "when" not in raw else _condition(
        raw["when"], source, at(raw, "when"), what, errors)
    confidence = raw.get("confidence")
    if not _number(confidence) or not 0 <= confidence <= 1:
        errors.add(source, at(raw, "confidence"), f"{what}: confidence must be a number "
                   "from 0 to 1")
        confidence = 0.0
    because = []
    for entry in _entries(raw, "because", source, errors):
        found = _because(entry, source, errors)
        if found is not None:
            because.append(found)
    if "when" in raw and when is None:
        return None
    return PolicyItem(item_id, raw["verdict"], when, float(confidence), tuple(because),
                      f"{source}:{raw.line}")


def _place(entries: list, entry: Any, raw: LineDict, source: str, errors: _Errors,
           catch_all_last: bool) -> None:
    """Replace the entry of the same id in place, or insert it where ``raw`` says."""
    ids = [existing[0].id for existing in entries]
    record = (entry, raw.get("before"), raw.get("after"))
    if entry.id is not None and entry.id in ids:
        entries[ids.index(entry.id)] = record
        return
    anchor = raw.get("before") or raw.get("after")
    if anchor is not None:
        if anchor not in ids:
            errors.add(source, raw.line, f"{entry.id!r}: no item {anchor!r} to place it "
                       "before or after")
            return
        entries.insert(ids.index(anchor) + (0 if raw.get("before") else 1), record)
        return
    last_is_catch_all = catch_all_last and entries and entries[-1][0].when is None
    if last_is_catch_all and getattr(entry, "when", True) is not None:
        entries.insert(len(entries) - 1, record)
    else:
        entries.append(record)


def _finish(draft: _Draft, rule_ids: set[str], errors: _Errors) -> Policy | None:
    verdicts = _verdict_infos(draft, errors)
    items = tuple(entry[0] for entry in draft.items)
    adjust = tuple(entry[0] for entry in draft.adjust)
    for item in items:
        source, line = item.where.rsplit(":", 1)
        if item.verdict not in verdicts:
            errors.add(source, int(line), f"item {item.id!r}: unknown verdict {item.verdict!r}")
        conditions = [(item.when, item.where)] if item.when else []
        conditions += [(b.when, b.where) for b in item.because]
        _check_rule_ids(conditions, rule_ids, errors)
    _check_rule_ids([(b.when, b.where) for b in adjust], rule_ids, errors)
    if not items or items[-1].when is not None:
        errors.add(draft.sources[-1] if draft.sources else POLICY_FILE, 1,
                   "the last decide item must have no 'when': the catch-all verdict")
    for item in items[:-1]:
        if item.when is None:
            source, line = item.where.rsplit(":", 1)
            errors.add(source, int(line), f"item {item.id!r}: only the last decide item may "
                       "lack 'when' (items after it could never decide)")
    return Policy(verdicts, items, adjust, draft.bounds, tuple(draft.sources))


def _check_rule_ids(conditions: list[tuple[Condition, str]], rule_ids: set[str],
                    errors: _Errors) -> None:
    for condition, where in conditions:
        source, line = where.rsplit(":", 1)
        exact = dict(condition.lines)
        for rule_id in condition.rule_ids():
            if rule_id not in rule_ids:
                errors.add(source, exact.get(rule_id, int(line)), f"unknown rule id "
                           f"{rule_id!r} (no such rule file in the rule folders)")


def _verdict_infos(draft: _Draft, errors: _Errors) -> dict[str, VerdictInfo]:
    infos = {}
    for verdict_id, entry in draft.verdicts.items():
        missing = [key for key in VERDICT_KEYS if key not in entry]
        if missing:
            source, line = entry["where"].rsplit(":", 1)
            errors.add(source, int(line), f"verdict {verdict_id!r}: missing "
                       f"{', '.join(missing)}")
            continue
        infos[verdict_id] = VerdictInfo(
            verdict_id, int(entry["rank"]), " ".join(str(entry["headline"]).split()),
            " ".join(str(entry["explanation"]).split()), " ".join(str(entry["advice"]).split()))
    return infos
