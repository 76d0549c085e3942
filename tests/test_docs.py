"""Documentation stays true: commands have --help and are in the README; rules are complete."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from evtxmpio.catalog import flapping_threshold
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


def _readme_rules_table() -> dict[str, str]:
    """``rule id -> kind`` from the README's table of shipped rules."""
    table = README[README.index("\n| id | kind |"):]
    table = table[:table.index("\n\n")]
    return dict(re.findall(r"^\| `([a-z0-9-]+)` \| ([a-z]+)", table, re.MULTILINE))


def test_readme_lists_every_shipped_rule_with_its_kind() -> None:
    """The README's rule table is the shipped rules, no more, no fewer, each with its kind."""
    table = _readme_rules_table()
    assert table == {rule.id: rule.kind for rule in shipped_rules()}


def test_every_rule_has_examples_both_ways() -> None:
    """``examples`` is optional for Rule.from_dict; a shipped rule shows a hit and a miss."""
    missing = [rule.id for rule in shipped_rules()
               if not (rule.examples.get("match") and rule.examples.get("no_match"))]
    assert missing == []


def test_readme_flapping_words_match_the_threshold() -> None:
    """The README says the flapping threshold in words; they follow the rule's numbers."""
    threshold = flapping_threshold()
    words = {2: "two", 3: "three", 4: "four", 5: "five"}[threshold.min_epochs]
    period = {3600: "an hour", 86400: "a day"}[threshold.window_s]
    row = next(line for line in README.splitlines() if line.startswith("| `mpio-path-flapping`"))
    assert f"{words} or more epochs within {period}" in row


def test_ruff_is_clean() -> None:
    completed = subprocess.run([sys.executable, "-m", "ruff", "check", str(REPO)],
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
