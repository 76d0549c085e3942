"""Every third-party module the package imports is declared: core at module level, an extra
only inside the function that needs it (so a core install imports and runs without it)."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evtxmpio"


def _requirements() -> tuple[set[str], dict[str, set[str]]]:
    """Core distribution names and extra -> distribution names, from the installed metadata."""
    core: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in importlib.metadata.requires("evtxmpio") or []:
        name = re.match(r"[A-Za-z0-9_.-]+", line).group().lower().replace("_", "-")
        extra = re.search(r"extra == ['\"]([\w-]+)['\"]", line)
        if extra:
            extras.setdefault(extra.group(1), set()).add(name)
        else:
            core.add(name)
    return core, extras


def _imports() -> list[tuple[str, str, bool]]:
    """(module file, top-level module imported, at module level?) for non-stdlib imports."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {id(child) for node in tree.body if _type_checking(node)
                       for child in ast.walk(node)}  # never imported at run time
        top_level = {id(node) for node in tree.body} | {
            id(child) for node in tree.body if isinstance(node, ast.If | ast.Try)
            for child in ast.walk(node)}
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                if root != "evtxmpio" and root not in sys.stdlib_module_names:
                    found.append((str(path.relative_to(PACKAGE)), root, id(node) in top_level))
    return found


def _type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def test_every_import_is_declared() -> None:
    core, extras = _requirements()
    optional = set().union(*(extras[name] for name in ("parquet", "dask")))
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, root, at_top in _imports():
        names = {d.lower().replace("_", "-") for d in distributions.get(root, [root])}
        if names & core:
            continue
        if names & optional and not at_top:
            continue
        where = "at module level" if at_top else "anywhere"
        problems.append(f"{module}: {root} ({', '.join(sorted(names))}) not declared {where}")
    assert problems == []


def test_the_extras_are_what_the_readme_says() -> None:
    core, extras = _requirements()
    assert {"pyarrow", "distributed", "matplotlib"}.isdisjoint(core)
    assert extras["parquet"] == {"pyarrow"} and extras["dask"] == {"distributed"}
    assert extras["bench"] == {"matplotlib"}
    assert {"pyarrow", "distributed", "matplotlib"} <= extras["test"]
