"""Every shipped rule's examples: true positives fire, true negatives stay quiet."""

from __future__ import annotations

import pytest

from evtxmpio.detect import shipped_rules
from evtxmpio.pipeline import run_examples

RULES = shipped_rules()
CASES = [(rule, result) for rule in RULES for result in run_examples(rule)]


def test_every_rule_has_both_kinds_of_examples() -> None:
    for rule in RULES:
        assert rule.examples.get("match"), rule.id
        assert rule.examples.get("no_match"), rule.id


@pytest.mark.parametrize(("rule", "result"), CASES,
                         ids=[f"{r.rule_id}-{r.expected}-{r.index}" for _, r in CASES])
def test_rule_example(rule: object, result: object) -> None:
    assert result.ok, f"{result.rule_id} {result.expected}[{result.index}] fired={result.fired}"
