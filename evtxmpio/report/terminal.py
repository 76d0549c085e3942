"""The Rich terminal summary printed by every ``analyze``: verdict, findings, inputs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evtxmpio.detect import CaseResult
from evtxmpio.report.context import VERDICT_TEXT
from evtxmpio.report.jsonout import iso, path_id_text

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}


def print_summary(case: CaseResult, console: Console) -> None:
    """Print the verdict, a findings table and the per-file accounting."""
    verdict = case.verdict
    console.print(f"[bold]Verdict:[/bold] {VERDICT_TEXT[verdict.verdict]} "
                  f"([bold]{verdict.verdict}[/bold], confidence {verdict.confidence:.0%})",
                  highlight=False)
    for reason in verdict.reasons:
        console.print(f"  - {reason}", highlight=False, markup=False)
    for status in case.hotfix:
        console.print(f"KB 2406705 fix on {status.host}: {status.status}"
                      + (f" ({status.os}; fixed from mpio.sys {status.fixed_version})"
                         if status.os else ""), highlight=False, markup=False)
    table = Table(title=f"Findings ({len(case.findings)})", title_justify="left")
    for column in ("severity", "rule", "host", "disk", "path id", "start (UTC)", "evidence"):
        table.add_column(column)
    for finding in case.findings:
        table.add_row(
            f"[{SEVERITY_STYLE[finding.severity]}]{finding.severity}[/]", escape(finding.rule.id),
            escape(finding.host or ""),
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
        inputs.add_row(escape(account.file), account.format, str(account.records_read),
                       str(account.records_used), str(account.records_skipped),
                       str(len(account.errors)))
    console.print(inputs)
