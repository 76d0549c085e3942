"""The Rich terminal summary printed by every ``analyze``: verdict, findings, inputs.

Host, file and OS names and the verdict reasons come from the customer's logs: they are
printed literally, never as Rich markup, with controls (an ESC that would start a terminal
escape sequence) and bidi overrides made visible (:mod:`evtxmpio.report.visible`).
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evtxmpio.detect import CaseResult
from evtxmpio.report.context import VERDICT_TEXT
from evtxmpio.report.jsonout import iso, path_id_text
from evtxmpio.report.visible import show_hidden_terminal

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}


def literal(text: object) -> str:
    """Log text for a Rich markup string: controls visible, markup escaped."""
    return escape(show_hidden_terminal("" if text is None else str(text)))


def print_summary(case: CaseResult, console: Console) -> None:
    """Print the verdict, a findings table and the per-file accounting."""
    verdict = case.verdict
    console.print(f"[bold]Verdict:[/bold] {VERDICT_TEXT[verdict.verdict]} "
                  f"([bold]{verdict.verdict}[/bold], confidence {verdict.confidence:.0%})",
                  highlight=False)
    for reason in verdict.reasons:
        console.print(f"  - {show_hidden_terminal(reason)}", highlight=False, markup=False)
    for status in case.hotfix:
        line = (f"KB 2406705 fix on {status.host}: {status.status}"
                + (f" ({status.os}; fixed from mpio.sys {status.fixed_version})"
                   if status.os else ""))
        console.print(show_hidden_terminal(line), highlight=False, markup=False)
    table = Table(title=f"Findings ({len(case.findings)})", title_justify="left")
    for column in ("severity", "rule", "host", "disk", "path id", "start (UTC)", "evidence"):
        table.add_column(column)
    for finding in case.findings:
        table.add_row(
            f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity}[/]", literal(finding.rule.id),
            literal(finding.host),
            "" if finding.mpio_disk is None else str(finding.mpio_disk),
            path_id_text(finding.path_id) or "", iso(finding.start) or "",
            str(len(finding.evidence)))
    console.print(table)
    if case.delayed_write_failures:
        console.print(f"Delayed-write failures: {len(case.delayed_write_failures)} file(s)")
    inputs = Table(title="Inputs", title_justify="left")
    for column in ("file", "format", "read", "used", "skipped", "problems"):
        inputs.add_column(column)
    for account in case.accounts:
        # Host and file names come from the customer: never let them act as Rich markup.
        inputs.add_row(literal(account.file), literal(account.format), str(account.records_read),
                       str(account.records_used), str(account.records_skipped),
                       str(len(account.errors)))
    console.print(inputs)
