"""YAML loaded with line numbers, so a data file's problems can be named ``file:line``.

``load_located`` returns plain Python values, except that mappings are :class:`LineMap` and
lists :class:`LineList`: each remembers the line of every value it holds. Only safe YAML
(PyYAML's ``SafeLoader`` types) is accepted; the file never holds code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from evtxmpio.errors import RuleError


class LineMap(dict):
    """A mapping that knows the line (1-based) of itself and of each of its values."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        """The line of ``key``'s value (the mapping's own line when absent)."""
        return self.lines.get(key, self.line)


class LineList(list):
    """A list that knows the line of itself and of each item."""

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        """The line of item ``index``."""
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


def line_of(value: Any, default: int) -> int:
    """The line of a located mapping or list, else ``default``."""
    return value.line if isinstance(value, LineMap | LineList) else default


def _convert(node: yaml.Node, constructor: yaml.SafeLoader) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        constructor.flatten_mapping(node)
        mapping = LineMap(line)
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            mapping[key] = _convert(value_node, constructor)
            mapping.lines[key] = value_node.start_mark.line + 1
        return mapping
    if isinstance(node, yaml.SequenceNode):
        items = LineList(line)
        for item in node.value:
            items.append(_convert(item, constructor))
            items.lines.append(item.start_mark.line + 1)
        return items
    return constructor.construct_object(node, deep=True)


def load_located(path: Path) -> Any:
    """Parse one YAML document from ``path`` with line numbers.

    Raises:
        RuleError: ``path:line: YAML error: ...`` or ``path: cannot read: ...``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{path}: cannot read: {exc}") from exc
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            return None if node is None else _convert(node, loader)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise RuleError(f"{path}{line}: YAML error: {getattr(exc, 'problem', exc)}") from exc
