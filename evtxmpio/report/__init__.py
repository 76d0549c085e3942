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
from evtxmpio.report.redact import Redactor, collect
from evtxmpio.report.tabular import render_csv, render_timesketch
from evtxmpio.report.terminal import print_summary

__all__ = [
    "FORMATS",
    "SCHEMA",
    "Redactor",
    "ReportContext",
    "build_context",
    "case_dict",
    "collect",
    "default_map_path",
    "print_summary",
    "render",
    "render_context",
    "render_csv",
    "render_html",
    "render_json",
    "render_timesketch",
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


def _write(out: Path, text: str, what: str) -> None:
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{out}: cannot write {what}: {exc.strerror}") from exc


def write_report(case: CaseResult, out: Path, output_format: str,
                 redactor: Redactor | None = None) -> None:
    """Render ``case`` as ``output_format`` and write it to ``out`` (UTF-8).

    Raises:
        ReportError: when the format is unknown or the file cannot be written.
    """
    _write(out, render(case, output_format, redactor), "report")


def write_outputs(case: CaseResult, out: Path, output_format: str, redact: bool = False,
                  redact_map: Path | None = None) -> Path | None:
    """Write the report; with ``redact``, pseudonymize it and write the mapping beside it.

    Returns:
        where the redaction mapping went (``None`` without ``redact``).

    Raises:
        ReportError: when the format is unknown or a file cannot be written.
    """
    redactor = collect(case) if redact else None
    write_report(case, out, output_format, redactor)
    if redactor is None:
        return None
    map_path = redact_map or default_map_path(out)
    write_redaction_map(redactor, map_path)
    return map_path


def default_map_path(out: Path) -> Path:
    """Where the redaction mapping goes by default: ``<out>.redaction.json``."""
    return out.with_name(out.name + ".redaction.json")


def write_redaction_map(redactor: Redactor, path: Path) -> None:
    """Write the pseudonym -> original mapping (the engineer keeps it; it is not redacted)."""
    _write(path, json.dumps(redactor.mapping_document(), indent=2, ensure_ascii=False) + "\n",
           "redaction map")
