"""Documentation stays true: commands have --help and are in the README; rules are complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from evtxmpio.cli import app
from evtxmpio.detect import shipped_rules

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def _command_names() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():
        sub = getattr(command, "commands", None)
        names.extend(f"{name} {s}" for s in sub) if sub else names.append(name)
    return sorted(names)


@pytest.mark.parametrize("command", _command_names())
def test_command_has_help_and_is_documented(command: str) -> None:
    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert f"evtxmpio {command}" in README


def test_readme_opens_with_the_two_setup_commands() -> None:
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", README, re.DOTALL)
    assert blocks, "README has no code block"
    first = [line for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]
    assert len(first) == 2
    assert "analyze" in first[0] and "report.html" in first[0]
    assert "pytest" in first[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert first[1] in ci


def test_rules_are_complete() -> None:
    for rule in shipped_rules():
        assert rule.id and rule.title and rule.severity and rule.remediation, rule.id
        assert rule.examples, rule.id
        assert rule.id in README or rule.id in (REPO / "rules" / "README.md").read_text(
            encoding="utf-8")


def test_ruff_is_clean() -> None:
    completed = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)],
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
