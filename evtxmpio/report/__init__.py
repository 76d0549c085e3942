"""Report: a :class:`CaseResult` -> HTML (templates in ``reports/``), JSON, CSV, Timesketch JSONL,
terminal summary; optionally redacted (:mod:`evtxmpio.report.redact`).

The report stage never reads raw input; it renders what detect produced.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from evtxmpio.detect import CaseResult
from evtxmpio.errors import ReportError
from evtxmpio.report.context import ReportContext, build_context
from evtxmpio.report.html import render_context, render_html
from evtxmpio.report.jsonout import SCHEMA, case_dict, render_json
from evtxmpio.report.outputs import (
    OutputPlan,
    check_output_path,
    default_map_path,
    plan_outputs,
    write_atomic,
    write_files,
)
from evtxmpio.report.redact import Redactor, collect
from evtxmpio.report.tabular import render_csv, render_timesketch
from evtxmpio.report.terminal import print_summary

__all__ = [
    "FORMATS",
    "SCHEMA",
    "OutputPlan",
    "Redactor",
    "ReportContext",
    "build_context",
    "case_dict",
    "check_output_path",
    "collect",
    "default_map_path",
    "plan_outputs",
    "print_summary",
    "render",
    "render_context",
    "render_csv",
    "render_html",
    "render_json",
    "render_timesketch",
    "write_atomic",
    "write_files",
    "write_outputs",
    "write_redaction_map",
    "write_report",
]

FORMATS = ("html", "json", "csv", "timesketch")


def _identity(value: object) -> object:
    return value


def render(case: CaseResult, output_format: str, redactor: Redactor | None = None) -> str:
    """The case as ``output_format`` text; ``redactor`` pseudonymizes every string in it.

    Raises:
        ReportError: when the format is unknown.
    """
    transform: Callable | None = redactor.walk if redactor is not None else None
    if output_format == "html":
        return render_html(case, redactor=redactor)
    if output_format == "json":
        return render_json(case, transform)
    if output_format == "csv":
        return render_csv(case, transform or _identity)
    if output_format == "timesketch":
        return render_timesketch(case, transform or _identity)
    raise ReportError(f"unknown output format {output_format!r}")


def write_report(case: CaseResult, out: Path, output_format: str,
                 redactor: Redactor | None = None) -> None:
    """Render ``case`` as ``output_format`` and write it to ``out`` (UTF-8, atomically).

    Raises:
        ReportError: when the format is unknown or the file cannot be written.
    """
    write_atomic(out, render(case, output_format, redactor), "report")


def write_outputs(case: CaseResult, out: Path | OutputPlan, output_format: str,
                  redact: bool = False, redact_map: Path | None = None) -> Path | None:
    """Write the report; with ``redact``, pseudonymize it and write the mapping beside it.

    Every output is rendered and every path checked (:func:`plan_outputs`) before anything is
    written, and the files are written atomically as one set: either the report and its
    redaction map are both in place or neither is new. ``out`` may be the plan made before
    the analysis (then ``redact`` and ``redact_map`` come from it).

    Returns:
        where the redaction mapping went (``None`` without ``redact``).

    Raises:
        ReportError: when the format is unknown or a file cannot be written.
    """
    planned = out if isinstance(out, OutputPlan) else plan_outputs(out, redact, redact_map)
    redactor = collect(case) if planned.redaction_map is not None else None
    files = [(planned.report, render(case, output_format, redactor), "report")]
    if redactor is None:
        write_files(files)
        return None
    files.append((planned.redaction_map, _map_text(redactor), "redaction map"))
    write_files(files, private=frozenset({planned.redaction_map}))
    return planned.redaction_map


def _map_text(redactor: Redactor) -> str:
    return json.dumps(redactor.mapping_document(), indent=2, ensure_ascii=False) + "\n"


def write_redaction_map(redactor: Redactor, path: Path) -> None:
    """Write the pseudonym -> original mapping (the engineer keeps it; it is not redacted);
    mode 0600, atomically."""
    write_files([(path, _map_text(redactor), "redaction map")], private=frozenset({path}))
