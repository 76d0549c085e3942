"""YAML for rule files with line numbers, and the locations rule problems are reported at.

A rule file is loaded by :class:`LineLoader`, a ``yaml.SafeLoader`` whose mappings and lists
remember the line of each key and item, so every problem can be reported as
``rules/x.yaml:12: rule 'x': conditions[2]: select: unknown column 'nmae'`` (pySigma's
``SigmaRuleLocation``). :func:`plain` turns the loaded data back into plain dicts and lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml


class LineDict(dict):
    """A mapping that knows its line and the line of each key (1-based)."""

    line: int = 0
    lines: dict[Any, int]


class LineList(list):
    """A list that knows its line and the line of each item (1-based)."""

    line: int = 0
    lines: list[int]


class LineLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` building :class:`LineDict` and :class:`LineList`."""


def _mapping(loader: LineLoader, node: yaml.MappingNode) -> LineDict:
    data = LineDict(loader.construct_mapping(node, deep=True))
    data.line = node.start_mark.line + 1
    # construct_mapping checked that the keys are hashable; constructed nodes are cached
    data.lines = {loader.construct_object(key, deep=True): key.start_mark.line + 1
                  for key, _ in node.value}
    return data


def _sequence(loader: LineLoader, node: yaml.SequenceNode) -> LineList:
    data = LineList(loader.construct_sequence(node, deep=True))
    data.line = node.start_mark.line + 1
    data.lines = [item.start_mark.line + 1 for item in node.value]
    return data


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


def line_of(node: Any, key: Any = None) -> int | None:
    """The line of ``node[key]`` (or of ``node`` itself), when the loader recorded it."""
    if isinstance(node, LineDict):
        return node.lines.get(key, node.line) if key is not None else node.line
    if isinstance(node, LineList):
        if isinstance(key, int) and 0 <= key < len(node.lines):
            return node.lines[key]
        return node.line
    return None


def plain(data: Any) -> Any:
    """``data`` with every :class:`LineDict`/:class:`LineList` made a plain dict/list."""
    if isinstance(data, dict):
        return {key: plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(item) for item in data]
    return data


@dataclass(frozen=True, slots=True)
class Where:
    """Where a problem is: ``source:line: label`` (``label`` names the rule and the key)."""

    source: str
    line: int | None
    label: str

    def __str__(self) -> str:
        line = f":{self.line}" if self.line else ""
        return f"{self.source}{line}: {self.label}"

    def on(self, node: Any, key: Any) -> Where:
        """The same label, at the line of ``node[key]``."""
        return Where(self.source, line_of(node, key) or self.line, self.label)

    def at(self, node: Any, key: Any, label: str | None = None) -> Where:
        """The location of ``node[key]``, labelled ``label`` (default: the key)."""
        return Where(self.source, line_of(node, key) or self.line,
                     f"{self.label}: {key if label is None else label}")
