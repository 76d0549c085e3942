"""Report: a :class:`CaseResult` -> HTML (templates in ``reports/``), JSON, terminal summary.

The report stage never reads raw input; it renders what detect produced.
"""

from __future__ import annotations

from pathlib import Path

from evtxmpio.detect import CaseResult
from evtxmpio.errors import ReportError
from evtxmpio.report.context import ReportContext, build_context
from evtxmpio.report.html import render_context, render_html
from evtxmpio.report.jsonout import SCHEMA, case_dict, render_json
from evtxmpio.report.terminal import print_summary

__all__ = ["SCHEMA", "ReportContext", "build_context", "case_dict", "print_summary",
           "render_context", "render_html", "render_json", "write_report"]

RENDERERS = {"html": render_html, "json": render_json}


def write_report(case: CaseResult, out: Path, output_format: str) -> None:
    """Render ``case`` as ``output_format`` and write it to ``out`` (UTF-8).

    Raises:
        ReportError: when the format is unknown or the file cannot be written.
    """
    if output_format not in RENDERERS:
        raise ReportError(f"unknown output format {output_format!r}")
    text = RENDERERS[output_format](case)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportError(f"{out}: cannot write report: {exc.strerror}") from exc
