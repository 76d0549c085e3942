"""Render the self-contained HTML report from the Jinja2 templates in ``reports/``.

Autoescaping is on for every template and undefined names are errors (``StrictUndefined``):
log text is hostile and must only ever appear as text. Every printed string first goes through
:func:`evtxmpio.report.visible.show_hidden` (the ``finalize`` hook), so controls and bidi
overrides in log text show as visible marks instead of acting on the page.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError

from evtxmpio.detect import CaseResult
from evtxmpio.errors import ReportError
from evtxmpio.report.context import ReportContext, build_context
from evtxmpio.report.redact import Redactor
from evtxmpio.report.visible import finalize
from evtxmpio.resources import data_dir

TEMPLATE = "report.html.j2"


def percent(value: float) -> str:
    """0.75 -> ``75 %``."""
    return f"{round(value * 100)} %"


def make_environment(templates_dir: Path | None = None) -> Environment:
    """A Jinja2 environment over ``templates_dir`` (default: the shipped ``reports/``)."""
    environment = Environment(
        loader=FileSystemLoader(str(templates_dir or data_dir("reports"))),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    environment.filters["percent"] = percent
    environment.filters["px"] = px
    environment.filters["ms"] = milliseconds
    environment.filters["basename"] = basename
    return environment


def render_context(context: ReportContext, templates_dir: Path | None = None) -> str:
    """Render a context with the report template."""
    try:
        template = make_environment(templates_dir).get_template(TEMPLATE)
        return template.render(**asdict(context))
    except TemplateError as exc:
        raise ReportError(f"{TEMPLATE}: {exc}") from exc


def milliseconds(value: str | None) -> str:
    """``2011-06-14T07:47:10.402113200Z`` -> ``2011-06-14 07:47:10.402``: what a reader needs;
    the template keeps the full value in the element's ``title`` (a tooltip)."""
    if not value:
        return ""
    date, _, clock = value.removesuffix("Z").partition("T")
    whole, dot, fraction = clock.partition(".")
    return f"{date} {whole}{dot}{fraction[:3]}" if clock else value


def basename(value: str | None) -> str:
    """The last component of a Windows or POSIX path (archive members: after ``!``)."""
    if not value:
        return ""
    return re.split(r"[\\/!]", value.rstrip("\\/"))[-1] or value


def px(value: float) -> str:
    """An SVG coordinate: at most one decimal, no trailing ``.0``."""
    return f"{value:.1f}".removesuffix(".0")


def render_html(case: CaseResult, templates_dir: Path | None = None,
                redactor: Redactor | None = None) -> str:
    """The case's HTML report as text; with ``redactor``, every string is pseudonymized."""
    context = build_context(case, redacted=redactor is not None)
    if redactor is not None:
        context = redactor.walk(context)
    return render_context(context, templates_dir)
