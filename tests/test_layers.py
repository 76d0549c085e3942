"""Imports flow one way through the pipeline stages (STYLE.md "Layout")."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evtxmpio"
# stage -> stages it must never import
FORBIDDEN = {
    # The catalogue of Windows facts is a leaf: every stage may read it, it reads no stage.
    "catalog": {"model", "ingest", "normalize", "timeline", "detect", "report", "replay", "triage",
                "cli", "pipeline"},
    "ingest": {"normalize", "timeline", "detect", "report", "replay", "triage", "cli",
               "pipeline"},
    "normalize": {"timeline", "detect", "report", "replay", "triage", "cli", "pipeline"},
    "timeline": {"detect", "report", "replay", "triage", "cli", "pipeline"},
    "detect": {"report", "replay", "triage", "cli", "pipeline"},
    "report": {"ingest.evtx", "ingest.eventxml", "replay", "triage", "cli", "pipeline"},
    "replay": {"ingest", "normalize", "timeline", "detect", "report", "triage", "cli"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n.removeprefix("evtxmpio.") for n in names if n.startswith("evtxmpio.")}


def test_stages_import_only_downward() -> None:
    problems = []
    for stage, forbidden in FORBIDDEN.items():
        folder = PACKAGE / stage
        assert folder.is_dir(), stage
        for module in folder.rglob("*.py"):
            for imported in _imports(module):
                if any(imported == f or imported.startswith(f + ".") for f in forbidden):
                    problems.append(f"{module.relative_to(PACKAGE)} imports evtxmpio.{imported}")
    assert problems == []
