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


THRESHOLD = """\
id: {id}
title: t
description: d
severity: urgent
kind: threshhold
references: []
remediation: r
conditions:
  - select:
      nmae: {{equals: "mpio:16"}}
      provider: {{equal: mpio}}
    group_by: [host, colour]
    min: 0
"""


def test_issue_16_every_problem_of_every_file_with_its_line(tmp_path: Path) -> None:
    from evtxmpio import pipeline

    first = _write(tmp_path, "first", THRESHOLD.format(id="first"))
    second = _write(tmp_path, "second", GOOD.format(id="other").replace("kind: match",
                                                                        "kind: sequence"))
    rules, errors = pipeline.rules_validate([first, second])
    lines = [str(error) for error in errors]
    assert rules == []
    # line numbers counted in the texts above (1-based)
    assert f"{first}:4: rule 'first': severity 'urgent'" in "\n".join(lines)
    assert f"{first}:5: rule 'first': kind 'threshhold'" in "\n".join(lines)
    assert f"{second}:1: rule 'other': id must equal the file stem 'second'" in "\n".join(lines)
    assert any(line.startswith(f"{second}:") and "sequence needs at least two steps" in line
               for line in lines)
    assert len([line for line in lines if line.startswith(f"{second}:")]) >= 3


def test_issue_16_threshold_problems_all_named(tmp_path: Path) -> None:
    text = THRESHOLD.format(id="third").replace("kind: threshhold", "kind: threshold")
    path = _write(tmp_path, "third", text)
    _, errors = pipeline_check(path)
    joined = "\n".join(map(str, errors))
    assert f"{path}:4: rule 'third': severity 'urgent'" in joined
    assert f"{path}:10: rule 'third': conditions[1]: select: unknown column 'nmae'" in joined
    assert f"{path}:11: rule 'third': conditions[1]: select: unknown operator 'equal'" in joined
    assert f"{path}:12: rule 'third': conditions[1]: cannot group by ['colour']" in joined
    assert f"{path}:13: rule 'third': conditions[1]: 'min' must be a positive integer" in joined
    assert len(errors) == 5


def pipeline_check(path: Path) -> tuple[object, list[RuleError]]:
    from evtxmpio.detect.rules import check_rule_file

    return check_rule_file(path)


def test_issue_16_rules_validate_command_prints_all(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from evtxmpio.cli import app

    first = _write(tmp_path, "first", THRESHOLD.format(id="first"))
    result = CliRunner().invoke(app, ["rules", "validate", str(first)])
    assert result.exit_code == 1
    assert f"Error: {first}:4: rule 'first': severity 'urgent'" in result.output
    assert f"Error: {first}:5: rule 'first': kind 'threshhold'" in result.output
    assert "0 rule(s) valid, 2 problem(s) in 1 file(s)" in result.output


CONTEXT = GOOD + """\
{key}:
  by: [host, episode]
  select:
    name: {{equals: "mpio:32"}}
"""


def test_the_old_requires_spelling_is_refused_naming_file_and_line(tmp_path: Path) -> None:
    from evtxmpio import pipeline

    old = _write(tmp_path, "old", CONTEXT.format(id="old", key="requires"))
    wrong = _write(tmp_path, "wrong", CONTEXT.format(id="wrong", key="require"))
    new = _write(tmp_path, "new", CONTEXT.format(id="new", key="only_if"))
    rules, errors = pipeline.rules_validate([old, wrong, new])
    assert [rule.id for rule in rules] == ["new"]
    assert [str(error) for error in errors] == [
        f"{old}:10: rule 'old': 'requires' is now 'only_if' (keep a finding only if an event "
        "sharing its 'by' values matches 'select'); a threshold condition's own key is "
        "'require'",
        f"{wrong}:10: rule 'wrong': 'require' belongs in a threshold condition; a context "
        "filter is 'only_if'"]


def test_requires_inside_a_threshold_condition_is_refused(tmp_path: Path) -> None:
    text = GOOD.format(id="limit").replace("kind: match", "kind: threshold").replace(
        "select:\n  name: {equals: \"mpio:16\"}\n",
        "conditions:\n  - select: {name: {equals: \"mpio:16\"}}\n    group_by: [host]\n"
        "    min: 2\n    requires:\n      - {name: {equals: \"mpio:17\"}}\n")
    with pytest.raises(RuleError) as raised:
        load_rule_file(_write(tmp_path, "limit", text))
    assert str(raised.value).startswith(f"{tmp_path / 'limit.yaml'}:12: rule 'limit': ")
    assert "'requires' is not a threshold condition key" in str(raised.value)
