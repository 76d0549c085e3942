"""A rule's ``examples`` (true positives and true negatives) as event frames.

An example is a list of events given as column values; ``name`` (``mpio:16``,
``MPIO:FailoverStart``) stands for provider, event id and kind. Each example becomes an event
frame that :func:`evtxmpio.pipeline.run_examples` sends through the same timeline and rule code
as a real case (detect does not call the timeline itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evtxmpio.catalog import trace_events
from evtxmpio.detect.engine import run_rules
from evtxmpio.detect.rules import Rule
from evtxmpio.model import EventRecord, check_analysis_frame, check_frame, to_frame
from evtxmpio.normalize import add_names, sort_events


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """Outcome of one example: did the rule behave as the example says?"""

    rule_id: str
    expected: str
    index: int
    fired: bool

    @property
    def ok(self) -> bool:
        """True when a ``match`` example fired and a ``no_match`` example did not."""
        return self.fired == (self.expected == "match")


def example_event(values: Mapping[str, Any], number: int) -> EventRecord:
    """One example event dict to an :class:`EventRecord`."""
    values = dict(values)
    provider, _, what = str(values.pop("name", "")).partition(":")
    trace = what in trace_events()
    event_id = trace_events()[what].event_id if trace else (int(what) if what.isdigit() else None)
    time = pd.Timestamp(values.pop("time", "2011-01-01T00:00:00Z"))
    base: dict[str, Any] = {
        "time": time if time.tzinfo else time.tz_localize("UTC"),
        "host": values.pop("host", "HOST"), "channel": "" if trace else "System",
        "provider": values.pop("provider", provider), "event_id": values.pop("event_id", event_id),
        "level": None, "record_id": number, "kind": "etw:mpio:trace" if trace else
        "system:example:event", "source_file": "example", "source_offset": None,
        "reader": "example",
    }
    base.update(values)
    return EventRecord(**base)


def example_frame(events: list[Mapping[str, Any]]) -> pd.DataFrame:
    """An event frame built from example events (``name`` as normalize sets it), checked and
    sorted."""
    return to_frame(example_event(e, n) for n, e in enumerate(events, 1)).pipe(
        add_names).pipe(sort_events).pipe(check_frame)


def example_frames(rule: Rule) -> list[tuple[str, int, pd.DataFrame]]:
    """``(expected, index, event frame)`` of every example of ``rule``; ``expected`` is
    ``match`` or ``no_match``."""
    frames = []
    for expected in ("match", "no_match"):
        for index, example in enumerate(rule.examples.get(expected, []) or []):
            events = [example] if isinstance(example, Mapping) else list(example)
            frames.append((expected, index, example_frame(events)))
    return frames


def example_result(rule: Rule, expected: str, index: int, frame: pd.DataFrame,
                   timelines: pd.DataFrame) -> ExampleResult:
    """Run ``rule`` on one example's analysis frame and timelines."""
    findings = run_rules([rule], check_analysis_frame(frame), timelines)
    return ExampleResult(rule.id, expected, index, bool(findings))
