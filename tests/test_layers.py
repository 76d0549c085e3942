"""Imports flow one way through the pipeline stages (STYLE.md "Layout"), with no cycles.

Every ``import`` counts, wherever it is: at module level, inside a function, under
``if TYPE_CHECKING:``, relative or ``from evtxmpio import x``. Each part of the package (a
stage folder or a top-level module) may import only the parts listed for it; and no two
modules import each other, directly or round a longer loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "evtxmpio"
BASE = {"errors", "resources", "runtime", "catalog", "pathtext", "timearith", "(package)"}
# part -> the parts it may import (besides itself)
ALLOWED = {
    "(package)": set(),
    "errors": set(),
    "runtime": set(),
    "pathtext": set(),  # file names that are not UTF-8, as text
    "timearith": set(),  # time sums and differences that saturate at the 64-bit edge
    "resources": {"errors"},
    "catalog": {"errors", "resources"},  # the leaf every stage reads Windows facts from
    "model": BASE,
    "ingest": BASE | {"model"},
    "normalize": BASE | {"model"},
    "timeline": BASE | {"model"},
    "detect": BASE | {"model", "ingest", "normalize", "timeline"},
    "report": BASE | {"model", "timeline", "detect"},
    "replay": BASE | {"model"},
    "pipeline": BASE | {"model", "ingest", "normalize", "timeline", "detect", "report"},
    "triage": BASE | {"model", "ingest", "normalize", "timeline", "detect", "report",
                      "pipeline"},
    "cli": BASE | {"model", "ingest", "normalize", "timeline", "detect", "report", "replay",
                   "pipeline", "triage"},
    "__main__": {"cli", "(package)"},
}
# The report never reads raw input: not even the ingest readers' helpers.
REPORT_NEVER = ("ingest",)
# Detect reads the analysis frame and timelines the pipeline hands it and never calls back
# into the timeline stage: from it, only the result types a case carries, each by name.
DETECT_FROM_TIMELINE = {
    "evtxmpio.timeline.clock": {"ClockAlignment"},
    "evtxmpio.timeline.cluster_clock": {"Cluster"},
}


def module_name(path: Path) -> str:
    """``evtxmpio/ingest/evtx.py`` -> ``evtxmpio.ingest.evtx`` (a package by its folder)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(source: str, name: str, is_package: bool, modules: set[str]) -> set[str]:
    """The package modules ``source`` (module ``name``) imports, wherever the import stands."""
    here = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(_known(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add(child if child in modules else _known(base, modules))
    found.discard("")
    found.discard(name)
    return found


def _known(name: str, modules: set[str]) -> str:
    """The longest package module that ``name`` is or lies in ("" when outside the package)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    names = set(MODULES)
    return {name: imports_of(path.read_text(encoding="utf-8"), name,
                             path.name == "__init__.py", names)
            for name, path in MODULES.items()}


def part(module: str) -> str:
    """``evtxmpio.ingest.evtx`` -> ``ingest``; ``evtxmpio`` -> ``(package)``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(package)"


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_part_has_a_rule() -> None:
    assert {part(module) for module in MODULES} == set(ALLOWED)


def test_parts_import_only_what_they_may() -> None:
    problems = []
    for module, targets in sorted(graph().items()):
        source = part(module)
        for target in sorted(targets):
            allowed = ALLOWED[source] | {source}
            if part(target) not in allowed or (
                    source == "report" and part(target) in REPORT_NEVER):
                problems.append(f"{module} imports {target}")
    assert problems == []


def names_taken(source: str) -> set[tuple[str, str]]:
    """``(module, name)`` of every ``from evtxmpio.x import name`` (``(module, "*")`` for a
    plain ``import``), absolute imports only (the package uses no relative ones)."""
    taken: set[tuple[str, str]] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            taken.update((alias.name, "*") for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            taken.update((node.module, alias.name) for alias in node.names)
    return taken


def test_detect_does_not_call_back_into_the_timeline() -> None:
    problems = []
    for module, path in sorted(MODULES.items()):
        if part(module) != "detect":
            continue
        for source, name in sorted(names_taken(path.read_text(encoding="utf-8"))):
            if _from_timeline(source, name) and name not in DETECT_FROM_TIMELINE.get(source,
                                                                                   set()):
                problems.append(f"{module} takes {name} from {source}")
    assert problems == []


def _from_timeline(source: str, name: str) -> bool:
    return source.startswith("evtxmpio.timeline") or (source, name) == ("evtxmpio", "timeline")


@pytest.mark.parametrize(("source", "allowed"), [
    ("from evtxmpio.timeline import analysis_frame\n", False),
    ("from evtxmpio.timeline.episodes import assign_episodes\n", False),
    ("import evtxmpio.timeline.states\n", False),
    ("from evtxmpio import timeline\n", False),
    ("from evtxmpio.timeline.cluster_clock import cluster_rows\n", False),
    ("from evtxmpio.timeline.saturate import shift\n", False),
    ("from evtxmpio.timeline.cluster_clock import Cluster\n", True),
    ("from evtxmpio.timearith import shift\n", True),
])
def test_the_detect_rule_sees_each_way_in(source: str, allowed: bool) -> None:
    taken = [(m, n) for m, n in names_taken(source) if _from_timeline(m, n)]
    assert all(n in DETECT_FROM_TIMELINE.get(m, set()) for m, n in taken) == allowed


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_no_reader_imports_another_reader() -> None:
    """A format module (one that registers an InputFormat) shares code with its siblings
    through helper modules, never by importing another format module."""
    readers = {name for name, path in MODULES.items()
               if "register(InputFormat(" in path.read_text(encoding="utf-8")}
    assert len(readers) >= 4
    edges = graph()
    assert {reader: sorted(edges[reader] & (readers - {reader})) for reader in readers} == {
        reader: [] for reader in readers}


@pytest.mark.parametrize(("source", "expected"), [
    ("def f():\n    from evtxmpio.ingest.evtx_rust import x\n", {"evtxmpio.ingest.evtx_rust"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import evtxmpio.report\n",
     {"evtxmpio.report"}),
    ("from evtxmpio import pipeline, __version__\n", {"evtxmpio.pipeline", "evtxmpio"}),
    ("from . import evtx_rust\nfrom .base import Source\n",
     {"evtxmpio.ingest.evtx_rust", "evtxmpio.ingest.base"}),
    ("import os\nfrom lxml import etree\n", set()),
])
def test_every_kind_of_import_is_seen(source: str, expected: set[str]) -> None:
    assert imports_of(source, "evtxmpio.ingest.evtx", False, set(MODULES)) == expected


def test_a_cycle_is_found() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
