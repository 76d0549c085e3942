"""What counts as path flapping: one definition, the shipped rule the verdict policy
(``rules/verdicts.yaml``) requires for the ``path-flapping`` verdict.

The rule's threshold condition (``min`` failure epochs of one Path ID within ``window``
seconds) is the definition; the verdict and the replay ground truth read it from here instead
of writing their own number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from evtxmpio.errors import Error
from evtxmpio.resources import data_dir

VERDICT = "path-flapping"


@dataclass(frozen=True, slots=True)
class FlappingThreshold:
    """``min_epochs`` failure epochs of one Path ID on one host within ``window_s`` seconds."""

    min_epochs: int
    window_s: int


@cache
def flapping_threshold() -> FlappingThreshold:
    """The threshold of the shipped ``mpio-path-flapping`` rule.

    Raises:
        Error: the rule file is missing or has no ``min``/``window`` in its first condition.
    """
    path = data_dir("rules") / "verdicts.yaml"
    try:
        policy = yaml.safe_load(path.read_text(encoding="utf-8"))
        # No rule id is written in Python: the policy names the rule of the verdict.
        when = next(item["when"] for item in policy["decide"] if item["verdict"] == VERDICT)
        rule_id = [*when.get("findings", []), *when.get("any_finding", [])][0]
        path = data_dir("rules") / f"{rule_id}.yaml"
        rule = yaml.safe_load(path.read_text(encoding="utf-8"))
        condition = rule["conditions"][0]
        return FlappingThreshold(int(condition["min"]), int(condition["window"]))
    except (OSError, yaml.YAMLError, LookupError, TypeError, ValueError, StopIteration) as exc:
        raise Error(f"{path}: no flapping threshold (conditions[0].min/window): {exc}") from exc
