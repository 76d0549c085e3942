"""Field conditions of the rule language: ``{column: {operator: value}}`` -> a boolean mask.

A *selector* is one condition mapping (all must hold) or a list of them (any may hold).
Operators are one registry; an unknown operator is a load-time :class:`RuleError`.
Missing values never satisfy a condition (except ``exists: false``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from evtxmpio.catalog import GROUPS, event_group
from evtxmpio.errors import RuleError

Mask = pd.Series
Operator = Callable[[pd.Series, Any], Mask]


def _lower(series: pd.Series) -> pd.Series:
    return series.astype("string").str.lower()


def _in(series: pd.Series, values: Any) -> Mask:
    return series.isin(list(values))


def _iin(series: pd.Series, values: Any) -> Mask:
    return _lower(series).isin([str(v).lower() for v in values])


def _regex(series: pd.Series, pattern: Any) -> Mask:
    return series.astype("string").str.contains(re.compile(str(pattern)), regex=True)


OPERATORS: dict[str, Operator] = {
    "equals": lambda s, v: s == v,
    "not_equals": lambda s, v: s != v,
    "iequals": lambda s, v: _lower(s) == str(v).lower(),
    "in": _in,
    "iin": _iin,
    "gte": lambda s, v: s >= v,
    "gt": lambda s, v: s > v,
    "lte": lambda s, v: s <= v,
    "lt": lambda s, v: s < v,
    "regex": _regex,
    "icontains": lambda s, v: _lower(s).str.contains(str(v).lower(), regex=False),
    "exists": lambda s, v: s.notna() if v else s.isna(),
    # an event-name group of the catalogue (evtxmpio/catalog/events.yaml), e.g. delayed-write
    "in_group": lambda s, v: s.isin(sorted(event_group(str(v)))),
}
LIST_OPERATORS = frozenset({"in", "iin"})


def validate_conditions(conditions: Any, columns: set[str], where: str) -> Any:
    """Check a selector (a condition mapping or a list of them) against columns and operators.

    Raises:
        RuleError: naming ``where`` and the problem.
    """
    if isinstance(conditions, list) and conditions:
        for number, item in enumerate(conditions, start=1):
            _validate_mapping(item, columns, f"{where}[{number}]")
        return conditions
    return _validate_mapping(conditions, columns, where)


def _validate_mapping(conditions: Any, columns: set[str], where: str) -> dict[str, dict]:
    if not isinstance(conditions, Mapping) or not conditions:
        raise RuleError(f"{where}: expected a non-empty mapping of column: {{operator: value}}")
    for column, spec in conditions.items():
        if column not in columns:
            raise RuleError(f"{where}: unknown column {column!r}")
        if not isinstance(spec, Mapping) or not spec:
            raise RuleError(f"{where}: column {column!r} needs {{operator: value}}")
        for operator, value in spec.items():
            if operator not in OPERATORS:
                raise RuleError(f"{where}: unknown operator {operator!r} on {column!r} "
                                f"(known: {', '.join(sorted(OPERATORS))})")
            if operator in LIST_OPERATORS and not isinstance(value, list):
                raise RuleError(f"{where}: operator {operator!r} on {column!r} needs a list")
            if operator == "in_group" and value not in GROUPS:
                raise RuleError(f"{where}: unknown event group {value!r} on {column!r} "
                                f"(known: {', '.join(GROUPS)})")
            if operator == "regex":
                try:
                    re.compile(str(value))
                except re.error as exc:
                    raise RuleError(f"{where}: bad regex on {column!r}: {exc}") from exc
    return dict(conditions)


def evaluate(frame: pd.DataFrame, conditions: Any) -> Mask:
    """Rows of ``frame`` satisfying the selector (missing values count as no match)."""
    if isinstance(conditions, list):
        mask = pd.Series(False, index=frame.index)
        for item in conditions:
            mask |= evaluate(frame, item)
        return mask
    mask = pd.Series(True, index=frame.index)
    for column, spec in conditions.items():
        for operator, value in spec.items():
            result = OPERATORS[operator](frame[column], value)
            mask &= result.fillna(operator == "exists" and not value).astype(bool)
    return mask
