"""Log text is hostile: every string the template shows is escaped, never markup."""

from __future__ import annotations

import dataclasses

from evtxmpio.report.context import EvidenceRow, FindingView, ReportContext
from evtxmpio.report.html import render_context

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'&javascript:alert(3)"


def hostile_context() -> ReportContext:
    row = EvidenceRow(HOSTILE, HOSTILE, HOSTILE, 26, HOSTILE, HOSTILE, 7)
    finding = FindingView("finding-1", "rule-x", HOSTILE, "high", HOSTILE, HOSTILE, (HOSTILE,),
                          HOSTILE, 1, HOSTILE, HOSTILE, HOSTILE, (row,))
    return ReportContext(
        generator="evtxmpio test", verdict="inconclusive", verdict_text=HOSTILE, confidence=0.5,
        reasons=(HOSTILE,), hotfix_advice=HOSTILE, hosts=(HOSTILE,), mpio_disks=(HOSTILE,),
        path_ids=(HOSTILE,), time_window=(HOSTILE, HOSTILE), inputs=(HOSTILE,),
        findings=(finding,),
        delayed_writes=({"time": HOSTILE, "host": HOSTILE, "file": HOSTILE, "volume": HOSTILE},),
        accounts=({"file": HOSTILE, "format": HOSTILE, "records_read": 1, "records_used": 1,
                   "records_skipped": 0, "records_recovered": 0, "chunks_damaged": 0,
                   "duplicates_removed": 0, "truncated": False},),
        issues=(HOSTILE,), event_count=1)


def test_every_string_field_is_escaped() -> None:
    html = render_context(hostile_context())
    assert "<script" not in html
    assert "<img" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 20


def test_context_fields_are_all_rendered() -> None:
    """Every ReportContext field reaches the template (a marker per field shows up)."""
    context = hostile_context()
    markers = {}
    for field in dataclasses.fields(ReportContext):
        value = getattr(context, field.name)
        if isinstance(value, str) and field.name not in ("verdict",):
            markers[field.name] = f"MARK-{field.name}"
    html = render_context(dataclasses.replace(context, **markers))
    for field_name, marker in markers.items():
        assert marker in html, field_name
