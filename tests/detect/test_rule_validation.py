"""Bad rule files fail on load with a message naming file, rule id and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from evtxmpio.detect import load_rules
from evtxmpio.detect.rules import load_rule_file
from evtxmpio.errors import RuleError

GOOD = """\
id: {id}
title: t
description: d
severity: high
kind: match
references: []
remediation: r
select:
  name: {{equals: "mpio:16"}}
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("equals:", "equal:"), "unknown operator 'equal'"),
    (GOOD.replace("severity: high", "severity: huge"), "severity 'huge'"),
    (GOOD.replace("kind: match", "kind: magic"), "kind 'magic'"),
    (GOOD.replace("title: t\n", ""), "missing title"),
    (GOOD.replace("name: {", "nmae: {"), "unknown column 'nmae'"),
    (GOOD + "  : [unclosed\n", "YAML error"),
])
def test_bad_rule_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "bad-rule", text.format(id="bad-rule"))
    with pytest.raises(RuleError) as raised:
        load_rule_file(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_id_must_match_file_stem(tmp_path: Path) -> None:
    path = _write(tmp_path, "one-name", GOOD.format(id="other-name"))
    with pytest.raises(RuleError, match="rule 'other-name': id must equal the file stem"):
        load_rule_file(path)


def test_load_rules_collects_every_error(tmp_path: Path) -> None:
    _write(tmp_path, "good", GOOD.format(id="good"))
    _write(tmp_path, "bad-a", GOOD.format(id="bad-a").replace("kind: match", "kind: x"))
    _write(tmp_path, "bad-b", GOOD.format(id="bad-b").replace("severity: high", "severity: y"))
    rules, errors = load_rules([tmp_path])
    assert [rule.id for rule in rules] == ["good"]
    assert len(errors) == 2
