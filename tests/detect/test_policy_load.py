"""Loading the verdict policy: every problem named file:line; a rule folder extends it."""

from __future__ import annotations

import ast
import dataclasses
import textwrap
from pathlib import Path

import pytest

from evtxmpio import pipeline
from evtxmpio.detect import load_policy, rule_folders, shipped_policy, shipped_rules
from evtxmpio.errors import RuleError
from evtxmpio.resources import data_dir
from tests.detect.test_policy_table import BASE, RACE, _finding

SHIPPED_IDS = [rule.id for rule in shipped_rules()]


def _user(tmp_path: Path, text: str, rules: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "myrules"
    folder.mkdir()
    (folder / "verdicts.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name, body in (rules or {}).items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return folder


def _errors(tmp_path: Path, text: str) -> list[str]:
    folder = _user(tmp_path, text)
    policy, errors = load_policy(rule_folders([folder]), SHIPPED_IDS)
    assert (policy is None) == bool(errors)
    return [str(error) for error in errors]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("decide:\n  - id: x\n    verdict: inconclusive\n    when: {findings: [mpio-duplicate-failovr]}"
     "\n    confidence: 0.5\n    before: race\n", 4, "unknown rule id 'mpio-duplicate-failovr'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n"
     "    when:\n      facts: {kb_applies: true}\n", 7, "unknown fact 'kb_applies'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n"
     "    when:\n      facts: {kb2406705_os: yes}\n", 7, "True is not a str"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n"
     "    when:\n      facts: {hotfix: installed}\n", 7, "not one of"),
    ("decide:\n  - id: x\n    verdict: no-such-verdict\n    before: race\n    confidence: 0.5\n"
     "    when: {findings: [mpio-disk-torn-down]}\n", 2, "unknown verdict 'no-such-verdict'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 1.5\n"
     "    when: {findings: [mpio-disk-torn-down]}\n", 5, "confidence must be a number"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n"
     "    when: {findinds: [mpio-disk-torn-down]}\n", 6, "unknown condition 'findinds'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n"
     "    when: {findings: [mpio-disk-torn-down]}\n    because:\n      - reason: '{nope}'\n",
     8, "unknown placeholder(s) ['nope']"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n    confidence: 0.5\n",
     2, "only the last decide item may lack 'when'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    after: anything-else\n"
     "    confidence: 0.5\n    when: {findings: [mpio-disk-torn-down]}\n", 1,
     "the last decide item must have no 'when'"),
    ("decide:\n  - id: x\n    verdict: inconclusive\n    before: nowhere\n    confidence: 0.5\n"
     "    when: {findings: [mpio-disk-torn-down]}\n", 2, "no item 'nowhere'"),
    ("verdicts:\n  vendor-bug:\n    rank: 1\n", 2, "missing headline, explanation, advice"),
    ("verdicts:\n  inconclusive:\n    rank: -1\n", 3, "rank must be a non-negative integer"),
    ("adjust:\n  - when: {facts: {system_log: false}}\n    reason: x\n", 2,
     "adjust entries need an id"),
    ("decide: [\n", 2, "YAML error"),
    ("colour: blue\n", 1, "unknown key 'colour'"),
])
def test_problems_are_named_with_file_and_line(tmp_path: Path, text: str, line: int,
                                               words: str) -> None:
    errors = _errors(tmp_path, text)
    where = f"{tmp_path / 'myrules' / 'verdicts.yaml'}:{line}:"
    assert any(error.startswith(where) and words in error for error in errors), errors


def test_the_shipped_policy_is_valid() -> None:
    policy, errors = load_policy([data_dir("rules")], SHIPPED_IDS)
    assert errors == [] and policy is not None


def test_an_unknown_rule_id_in_the_shipped_policy_is_an_error(tmp_path: Path) -> None:
    ids = [rule_id for rule_id in SHIPPED_IDS if rule_id != "mpio-healthy-failover"]
    _, errors = load_policy([data_dir("rules")], ids)
    assert any("verdicts.yaml:" in str(e) and "'mpio-healthy-failover'" in str(e)
               for e in errors)


def test_rules_validate_reports_policy_problems(tmp_path: Path) -> None:
    folder = _user(tmp_path, "decide:\n  - id: x\n    verdict: inconclusive\n    before: race\n"
                   "    confidence: 0.5\n    when: {findings: [renamed-rule]}\n")
    _, errors = pipeline.rules_validate(rules_dirs=[folder])
    assert any(f"{folder / 'verdicts.yaml'}:6:" in str(e) for e in errors)
    with pytest.raises(RuleError, match="renamed-rule"):
        shipped_policy([folder])


VENDOR_RULE = """\
    id: vendor-dsm-reset
    title: Vendor DSM reset storm
    description: A vendor DSM logged a reset storm.
    severity: high
    kind: match
    references: []
    remediation: Call the DSM vendor.
    select:
      name: {equals: "vendordsm:7"}
    examples:
      match:
        - {name: "vendordsm:7", host: FS01, time: "2011-06-14T07:47:10Z"}
      no_match:
        - {name: "vendordsm:8", host: FS01, time: "2011-06-14T07:47:10Z"}
"""
VENDOR_POLICY = """\
    verdicts:
      vendor-dsm-bug:
        rank: 1
        headline: Vendor DSM defect
        explanation: The vendor DSM failed.
        advice: Call the DSM vendor.
      healthy-failover:
        headline: Failover worked
    decide:
      - id: vendor
        verdict: vendor-dsm-bug
        before: race
        when: {findings: [vendor-dsm-reset]}
        confidence: 0.7
        because:
          - reason: the vendor DSM reset its paths
      - id: race
        verdict: kb2406705-race
        when: {findings: [mpio-duplicate-failover]}
        confidence: 0.3
    adjust:
      - id: site-note
        when: {facts: {mpio_trace: false}}
        reason: no MPIO trace was captured
        add: -0.1
    remove: [host-name-uncertain]
"""


def test_a_rule_folder_adds_a_rule_and_extends_and_overrides_the_policy(tmp_path: Path) -> None:
    folder = _user(tmp_path, VENDOR_POLICY, {"vendor-dsm-reset": VENDOR_RULE})
    policy = shipped_policy([folder])
    ids = [item.id for item in policy.items]
    assert ids.index("vendor") == ids.index("race") - 1
    assert policy.verdicts["healthy-failover"].headline == "Failover worked"
    assert policy.verdicts["healthy-failover"].rank == shipped_policy().verdicts[
        "healthy-failover"].rank
    assert "host-name-uncertain" not in {b.id for b in policy.adjust}
    from evtxmpio.detect import decide
    vendor = decide(policy, [_finding("vendor-dsm-reset"), _finding("mpio-disk-torn-down")],
                    BASE)
    assert (vendor.id, vendor.headline) == ("vendor-dsm-bug", "Vendor DSM defect")
    assert vendor.reasons[-1] == "no MPIO trace was captured"
    assert vendor.confidence == pytest.approx(0.6)
    race = decide(policy, [_finding("mpio-duplicate-failover")], BASE)
    assert (race.id, race.confidence, race.reasons) == (
        "kb2406705-race", pytest.approx(0.2), ("no MPIO trace was captured",))
    shipped = decide(shipped_policy(), [_finding(r) for r in RACE], BASE)
    assert shipped.id == "kb2406705-race" and shipped.confidence > 0.5


def test_no_rule_id_is_a_string_literal_in_the_package() -> None:
    ids = {path.stem for path in data_dir("rules").glob("*.yaml")} - {"verdicts"}
    package = Path(pipeline.__file__).resolve().parent
    found = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(
                    rule_id in node.value for rule_id in ids) and not _docstring(tree, node):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []


def _docstring(tree: ast.AST, constant: ast.Constant) -> bool:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                body[0].value is constant:
            return True
    return False


def test_the_verdict_carries_policy_texts() -> None:
    verdict = decide_race()
    assert verdict.headline and verdict.advice and verdict.explanation
    assert "6.1.7601.21720" in verdict.advice  # the catalogue's fixed versions, filled in


def decide_race():
    from evtxmpio.detect import decide
    return decide(shipped_policy(), [_finding(r) for r in RACE], dataclasses.replace(BASE))
