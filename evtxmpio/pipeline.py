"""One function per CLI command; the CLI only parses options and prints.

``analyze`` runs the whole pipeline on one case: ingest -> normalize -> timeline -> detect.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from evtxmpio.detect import (
    CaseResult,
    analysis_frame,
    case_facts,
    decide,
    delayed_write_failures,
    run_rules,
    shipped_rules,
)
from evtxmpio.errors import InputError
from evtxmpio.ingest import ingest_paths
from evtxmpio.normalize import is_relevant, normalize_records
from evtxmpio.timeline import build_timelines


def analyze(inputs: Iterable[Path], rules_dirs: Iterable[Path] = (),
            all_events: bool = False) -> CaseResult:
    """Analyze one case made of files and directories.

    Args:
        inputs: .evtx files, exports and folders of them.
        rules_dirs: the user's extra rule folders (added to the shipped ``rules/``).
        all_events: keep every record as an event, not only the MPIO-relevant providers.

    Raises:
        InputError: when an input path does not exist or nothing could be read at all.
        RuleError: when a rule file is invalid.
    """
    paths = list(inputs)
    rules = shipped_rules(rules_dirs)
    result = ingest_paths(paths, keep=None if all_events else is_relevant)
    if result.accounts and all(a.records_read == 0 and a.errors for a in result.accounts):
        problems = "; ".join(f"{a.file}: {a.errors[0]}" for a in result.accounts)
        raise InputError(f"no input could be read ({problems})")
    if not result.accounts:
        raise InputError("no input files found in " + ", ".join(map(str, paths)))
    events = analysis_frame(normalize_records(result.records))
    timelines = build_timelines(events)
    findings = run_rules(rules, events, timelines)
    verdict = decide(findings, case_facts(events))
    return CaseResult(
        inputs=[str(p) for p in paths], events=events, timelines=timelines, findings=findings,
        verdict=verdict, delayed_write_failures=delayed_write_failures(events),
        accounts=result.accounts, issues=result.issues, rules=rules,
    )
