"""Log text is hostile: every string the template shows is escaped, never markup."""

from __future__ import annotations

import dataclasses

from evtxmpio.report.context import ReportContext, build_context
from evtxmpio.report.html import render_context, render_html
from evtxmpio.resources import data_dir
from tests.report.cases import JS_URL, hostile_case


def test_every_string_field_is_escaped() -> None:
    html = render_html(hostile_case())
    assert "<script>window" not in html
    assert "<img src=x" not in html
    assert "<svg onload" not in html
    assert f'href="{JS_URL}' not in html
    assert html.count("&lt;script&gt;window.__pwned_script=1&lt;/script&gt;") >= 10
    assert html.count("<script") == 0  # the report itself carries no script at all


def test_only_http_references_become_links() -> None:
    html = render_html(hostile_case())
    assert 'href="https://support.microsoft.com/kb/2406705"' in html
    assert 'href="javascript' not in html
    assert f'<span class="mono">{JS_URL}</span>' in html  # shown, not linked


def test_context_fields_are_all_rendered() -> None:
    """Every ReportContext field reaches the template (a marker per string field shows up)."""
    context = build_context(hostile_case())
    markers = {}
    for field in dataclasses.fields(ReportContext):
        value = getattr(context, field.name)
        if isinstance(value, str) and field.name not in ("verdict",):
            markers[field.name] = f"MARK-{field.name}"
    html = render_context(dataclasses.replace(context, **markers))
    for field_name, marker in markers.items():
        assert marker in html, field_name
    # report.html.j2 and the partials it includes (hosts.html.j2 ...)
    source = "".join(path.read_text(encoding="utf-8")
                     for path in sorted(data_dir("reports").glob("*.j2")))
    for field in dataclasses.fields(ReportContext):
        assert field.name in source, field.name
