"""One function per CLI command; the CLI only parses options and prints.

``analyze`` runs the whole pipeline on one case: ingest -> normalize -> timeline -> detect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evtxmpio.catalog.relevance import relevance
from evtxmpio.detect import (
    CaseResult,
    Policy,
    Rule,
    correlate_delayed_writes,
    delayed_write_failures,
    judge,
    load_policy,
    load_rules,
    lun_outcomes,
    rule_folders,
    run_rules,
    shipped_policy,
    shipped_rules,
    unify_hosts,
)
from evtxmpio.detect.examples import ExampleResult, example_frames, example_result
from evtxmpio.detect.groundtruth import compare_with_truth
from evtxmpio.detect.impact import attribute_impact
from evtxmpio.detect.rules import check_rule_file
from evtxmpio.errors import InputError, RuleError
from evtxmpio.ingest import IngestResult, ingest_paths
from evtxmpio.ingest.collect import ProgressHook
from evtxmpio.ingest.limits import Limits
from evtxmpio.model import check_analysis_frame, check_frame
from evtxmpio.normalize import EventFrameBuilder, is_relevant, normalize_records, sort_events
from evtxmpio.pathtext import path_text
from evtxmpio.timeline import align_trace_clocks, analysis_frame, build_timelines
from evtxmpio.timeline.cluster_clock import align_cluster_clocks


def analyze(inputs: Iterable[Path], rules_dirs: Iterable[Path] = (),
            all_events: bool = False, backend: str = "auto", prefilter: bool = True,
            tz: str | None = None, strict: bool = False, limits: Limits | None = None,
            progress: ProgressHook | None = None,
            on_stage: Callable[[str], None] | None = None, jobs: int = 1,
            relative_to: Path | None = None, input_names: list[str] | None = None
            ) -> CaseResult:
    """Analyze one case made of files and directories.

    Args:
        inputs: .evtx files, exports, archives and folders of them.
        rules_dirs: the user's extra rule folders (added to the shipped ``rules/``).
        all_events: keep every record as an event, not only the MPIO-relevant providers.
        backend: .evtx reader: ``auto`` (the fastest available), ``python`` or ``rust``.
        prefilter: skip .evtx chunks that cannot hold a relevant provider, undecoded
            (lossless; ignored with ``all_events``).
        tz: IANA time zone of CSV exports that carry local times without an offset.
        strict: raise on the first input problem instead of reporting it.
        limits: resource limits per input file and archive (defaults: :class:`Limits`).
        progress: told how far the reading of each file is (the command line's progress).
        on_stage: told ``"analysing"`` when reading is done and the analysis starts.
        jobs: processes that may read one large .evtx at once (``0``: one per core); the
            result is the same as with ``1``.
        relative_to: name every file by its path relative to this folder, not as given
            (triage: names within the case, wherever the case was unpacked).
        input_names: the inputs as the result names them (default: their paths).

    Raises:
        InputError: when an input path does not exist, nothing could be read at all, or
            (``strict``) any input had a problem.
        RuleError: when a rule file is invalid.
    """
    paths = list(inputs)
    rules = shipped_rules(rules_dirs)
    # Without --all-events, records that cannot matter (catalog/relevance.yaml: provider, event
    # id, content) are dropped before they are built; ``prefilter`` decides whether whole chunks
    # without a relevant provider are even decoded.
    # Kept records are normalized a batch at a time as they are read, then freed.
    builder = EventFrameBuilder()
    result = ingest_paths(
        paths, keep=None if all_events else is_relevant, backend=backend, tz=tz,
        relevance=None if all_events else relevance(),
        chunk_prefilter=prefilter, limits=limits, progress=progress,
        jobs=jobs, relative_to=relative_to, sink=builder.add)
    names = input_names or [path_text(p) for p in paths]
    if result.accounts and all(a.records_read == 0 and a.errors for a in result.accounts):
        problems = "; ".join(f"{a.file}: {a.errors[0]}" for a in result.accounts)
        raise InputError(f"no input could be read ({problems})")
    if not result.accounts:
        raise InputError("no input files found in " + ", ".join(names))
    if strict:
        problems = [f"{a.file}: {a.errors[0]}" for a in result.accounts if a.errors]
        if problems:
            raise InputError(f"--strict: {problems[0]}")
    if on_stage is not None:
        on_stage("analysing")
    return analyze_events(builder.frame(), result, rules, names, shipped_policy(rules_dirs))


def analyze_ingested(result: IngestResult, rules: list[Rule], inputs: list[str],
                     policy: Policy | None = None) -> CaseResult:
    """Everything after ingest: normalize, one name per host, align clocks, timelines, rules,
    verdict per host and for the case (``policy``: the shipped one when not given)."""
    return analyze_events(normalize_records(result.records), result, rules, inputs, policy)


def analyze_events(events: pd.DataFrame, result: IngestResult, rules: list[Rule],
                   inputs: list[str], policy: Policy | None = None) -> CaseResult:
    """:func:`analyze_ingested` of records already normalized into ``events`` (``result``
    gives the accounts and issues)."""
    policy = policy or shipped_policy()
    events, names = unify_hosts(events)
    events, clocks = align_trace_clocks(check_frame(events))
    events, clusters = align_cluster_clocks(check_frame(events))
    events, timelines = timeline_stage(sort_events(events))
    luns = lun_outcomes(events, timelines)
    findings = correlate_delayed_writes(run_rules(rules, events, timelines), luns, events)
    judged = judge(policy, events, findings, luns, names, result.attempted)
    return CaseResult(
        inputs=inputs, events=check_analysis_frame(events), timelines=timelines,
        findings=findings,
        verdict=judged.verdict, delayed_write_failures=delayed_write_failures(events, luns),
        accounts=result.accounts, issues=result.issues, rules=rules, luns=luns,
        hotfix=judged.hotfix, clock_alignment=clocks, hosts=judged.hosts, host_names=names,
        policy=policy, clusters=clusters,
        impact=attribute_impact(events, timelines, luns, findings, clusters),
    )


def timeline_stage(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sorted event frame -> the checked analysis frame (the timeline's per-event columns)
    and the disk and path state timelines built on it: what detect reads."""
    frame = analysis_frame(check_frame(events))
    return frame, build_timelines(frame)


def run_examples(rule: Rule) -> list[ExampleResult]:
    """Every example of ``rule`` through the timeline and the rule engine, as a case would go."""
    return [example_result(rule, expected, index, *timeline_stage(frame))
            for expected, index, frame in example_frames(rule)]


NOT_LOGS = frozenset({"ground_truth.json", "workload.yaml", "stream.csv", "stream.parquet"})


@dataclass(frozen=True, slots=True)
class SampleCheck:
    """One sample case analysed and compared with its ground truth."""

    case: str
    verdict: str
    truth: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the analysis agrees with the ground truth."""
        return not self.problems


def sample_logs(case_dir: Path) -> list[Path]:
    """The log files of a replayed sample case (workload, stream and truth left out)."""
    return sorted(p for p in case_dir.rglob("*") if p.is_file() and p.name not in NOT_LOGS
                  and p.suffix not in (".py", ".md") and "expected" not in p.parts)


def checkout_samples_dir() -> Path | None:
    """``samples/`` of the checkout, or ``None`` (an installed package has none)."""
    candidate = Path(__file__).resolve().parent.parent / "samples"
    return candidate if candidate.is_dir() else None


def default_samples_dir() -> Path:
    """``samples/`` of the checkout (not shipped in the wheel).

    Raises:
        InputError: when there is none (pass a folder explicitly).
    """
    candidate = checkout_samples_dir()
    if candidate is None:
        raise InputError("no samples/ folder beside the package; pass --samples DIR")
    return candidate


def rules_test(rules_dirs: Iterable[Path] = (), samples_dir: Path | None = None,
               with_samples: bool = True) -> tuple[list[ExampleResult], list[SampleCheck]]:
    """Run every rule's examples, then (``with_samples``) every sample case of
    ``samples_dir`` (default: the checkout's ``samples/``) against its ground truth."""
    rules = shipped_rules(rules_dirs)
    examples = [result for rule in rules for result in run_examples(rule)]
    checks: list[SampleCheck] = []
    if not with_samples:
        return examples, checks
    folder = samples_dir or default_samples_dir()
    for truth_file in sorted(folder.glob("*/ground_truth.json")):
        truth = json.loads(truth_file.read_text(encoding="utf-8"))
        case = analyze(sample_logs(truth_file.parent), rules_dirs=rules_dirs)
        checks.append(SampleCheck(truth_file.parent.name, case.verdict.id,
                                  truth["verdict"], tuple(compare_with_truth(case, truth))))
    return examples, checks


def rules_validate(files: Iterable[Path] = (), rules_dirs: Iterable[Path] = ()
                   ) -> tuple[list[Rule], list[RuleError]]:
    """Validate rule files (default: the shipped rules plus ``rules_dirs``, and the verdict
    policy of those folders against those rules)."""
    files = list(files)
    if not files:
        folders = rule_folders(rules_dirs)
        rules, errors = load_rules(folders)
        _, policy_errors = load_policy(folders, [rule.id for rule in rules])
        return rules, [*errors, *policy_errors]
    rules: list[Rule] = []
    errors: list[RuleError] = []
    for path in files:
        rule, problems = check_rule_file(path)
        errors.extend(problems)
        if rule is not None:
            rules.append(rule)
    return rules, errors
