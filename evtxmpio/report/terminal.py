"""The terminal summary printed by every ``analyze``: verdict, findings, inputs, problems.

On a terminal it is Rich tables whose time, rule and file columns fold rather than being cut.
Anywhere else (a pipe, a file, a CI log) it is plain lines, one per item, never truncated or
wrapped, with the same facts: ``grep`` and ``cut`` see every rule id and every full time.

Host, file and OS names and the verdict reasons come from the customer's logs: they are
printed literally, never as Rich markup, with controls (an ESC that would start a terminal
escape sequence) and bidi overrides made visible (:mod:`evtxmpio.report.visible`); plain
lines also show line feeds and tabs as marks, so one item stays one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from evtxmpio.report.hostview import host_views
from evtxmpio.report.impactview import NODE_COLUMNS, UNATTRIBUTED_COLUMNS, impact_views
from evtxmpio.report.jsonout import iso, path_id_text
from evtxmpio.report.problems import input_problems
from evtxmpio.report.visible import show_hidden_terminal

if TYPE_CHECKING:
    from rich.console import Console

    from evtxmpio.detect import CaseResult

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan",
                  "info": "dim"}
FINDING_COLUMNS = ("severity", "rule", "host", "disk", "path id", "start (UTC)", "evidence")
INPUT_COLUMNS = ("file", "format", "read", "used", "skipped", "problems")


def literal(text: object) -> str:
    """Log text for a Rich markup string: controls visible, markup escaped."""
    return escape(show_hidden_terminal("" if text is None else str(text)))


def one_line(text: object) -> str:
    """Log text for a plain line: controls visible, line feeds and tabs as marks."""
    shown = show_hidden_terminal("" if text is None else str(text))
    return shown.replace("\n", "\u240a").replace("\t", "\u2409")


def verdict_lines(case: CaseResult) -> list[str]:
    """The verdict, its reasons and the hotfix status per host, as plain text."""
    verdict = case.verdict
    lines = [f"Verdict: {verdict.headline or verdict.id} ({verdict.id}, confidence "
             f"{verdict.confidence:.0%})"]
    lines.extend(f"  - {one_line(reason)}" for reason in verdict.reasons)
    for status in case.hotfix:
        facts = [status.os] if status.os else []
        if status.fixed_version:
            facts.append(f"fixed from mpio.sys {status.fixed_version}")
        lines.append(one_line(f"KB 2406705 fix on {status.host}: {status.status}"
                              + (f" ({'; '.join(facts)})" if facts else "")))
    return lines


def finding_rows(case: CaseResult) -> list[tuple[str, ...]]:
    """One row per finding, in :data:`FINDING_COLUMNS` order, times in full."""
    return [(finding.severity, one_line(finding.rule.id), one_line(finding.host),
             "" if finding.mpio_disk is None else str(finding.mpio_disk),
             path_id_text(finding.path_id) or "", iso(finding.start) or "",
             str(len(finding.evidence))) for finding in case.findings]


def input_rows(case: CaseResult) -> list[tuple[str, ...]]:
    """One row per input file, in :data:`INPUT_COLUMNS` order."""
    return [(one_line(a.file), one_line(a.format), str(a.records_read), str(a.records_used),
             str(a.records_skipped), str(len(a.errors))) for a in case.accounts]


def print_summary(case: CaseResult, console: Console) -> None:
    """Print the verdict, the findings, the per-file accounting and every input problem.

    Rich tables when ``console`` is a terminal, plain untruncated lines otherwise.
    """
    if console.is_terminal:
        _print_rich(case, console)
    else:
        for line in plain_lines(case):
            console.out(line, highlight=False)
    print_hosts(case, console)
    print_impact(case, console)


def plain_lines(case: CaseResult) -> list[str]:
    """The summary as plain lines: ``column value`` pairs, two spaces apart."""
    lines = verdict_lines(case)
    lines.append(f"Findings ({len(case.findings)}):")
    lines.extend("  " + _pairs(FINDING_COLUMNS, row) for row in finding_rows(case))
    if case.delayed_write_failures:
        lines.append(f"Delayed-write failures: {len(case.delayed_write_failures)} file(s)")
    lines.append(f"Inputs ({len(case.accounts)}):")
    lines.extend("  " + _pairs(INPUT_COLUMNS, row) for row in input_rows(case))
    problems = input_problems(case)
    lines.append(f"Input problems ({len(problems)}):" if problems else "Input problems: none")
    lines.extend(f"  {one_line(problem)}" for problem in problems)
    return lines


def _pairs(columns: tuple[str, ...], row: tuple[str, ...]) -> str:
    return "  ".join(f"{column}: {value or '-'}" for column, value in zip(columns, row,
                                                                            strict=True))


def _print_rich(case: CaseResult, console: Console) -> None:
    _, *rest = verdict_lines(case)
    verdict = case.verdict
    console.print(f"[bold]Verdict:[/bold] {escape(verdict.headline or verdict.id)} "
                  f"([bold]{verdict.id}[/bold], confidence {verdict.confidence:.0%})",
                  highlight=False)
    for line in rest:
        console.print(line, highlight=False, markup=False)
    table = Table(title=f"Findings ({len(case.findings)})", title_justify="left")
    for column in FINDING_COLUMNS:
        table.add_column(column, no_wrap=True)
    for row in finding_rows(case):
        # milliseconds on a terminal; the plain lines, JSON and CSV keep every digit
        shown = (*row[:5], row[5][:23].replace("T", " ") + "Z" if row[5] else "", row[6])
        table.add_row(f"[{SEVERITY_STYLE[row[0]]}]{row[0]}[/]", *map(escape, shown[1:]))
    unbounded = console.options.update_width(100_000)
    if Measurement.get(console, unbounded, table).maximum <= console.width:
        console.print(table)
    else:  # too narrow for the table: the plain lines, wrapped by the terminal, never cut
        console.print(f"Findings ({len(case.findings)}):", highlight=False)
        for row in finding_rows(case):
            console.print("  " + _pairs(FINDING_COLUMNS, row), highlight=False, markup=False)
    if case.delayed_write_failures:
        console.print(f"Delayed-write failures: {len(case.delayed_write_failures)} file(s)")
    inputs = Table(title="Inputs", title_justify="left")
    for column in INPUT_COLUMNS:
        inputs.add_column(column, overflow="fold")
    for row in input_rows(case):
        inputs.add_row(*map(escape, row))
    console.print(inputs)
    problems = input_problems(case)
    console.print(f"Input problems ({len(problems)})" if problems else "Input problems: none",
                  highlight=False)
    for problem in problems:
        console.print(f"  {one_line(problem)}", highlight=False, markup=False)


def print_rows(console: Console, title: str, columns: tuple[str, ...],
               rows: Iterable[Sequence[str]]) -> None:
    """A titled table: Rich on a terminal, plain ``column: value`` lines otherwise.

    The values are printed literally (no Rich markup), with controls made visible.
    """
    rows = [tuple(one_line(value) for value in row) for row in rows]
    if not console.is_terminal:
        console.out(f"{title}:", highlight=False)
        for row in rows:
            console.out("  " + _pairs(columns, row), highlight=False)
        return
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*map(escape, row))
    console.print(table)


HOST_COLUMNS = ("host", "verdict", "confidence", "OS", "KB 2406705 fix", "first reason")


def print_hosts(case: CaseResult, console: Console) -> None:
    """The verdict per host, when the case has more than one host (most severe first)."""
    views = host_views(case)
    if len(views) > 1:
        print_rows(console, f"Verdict per host ({len(views)})", HOST_COLUMNS, [
            (v["host"], v["verdict"], f"{v['confidence']:.0%}", v["os"], v["hotfix"],
             v["reasons"][0] if v["reasons"] else "") for v in views])


def print_impact(case: CaseResult, console: Console) -> None:
    """What the incidents cost the cluster (one sentence each), the cluster events not
    attributed and the node clocks, when the logs hold cluster events or cluster nodes."""
    views = impact_views(case)
    if views["nodes"]:
        print_rows(console, "Cluster nodes (one clock)", NODE_COLUMNS, [
            (n["cluster"], n["host"], n["offset"], str(n["pairs"]), n["applied"])
            for n in views["nodes"]])
    if not views["total"]:
        return
    console.out(f"What the storage incidents cost the cluster ({len(views['costs'])}):",
                highlight=False)
    for sentence in views["costs"] or ("none attributed",):
        console.out(f"  {one_line(sentence)}", highlight=False)
    if views["unattributed"]:
        print_rows(console, f"Cluster events not attributed ({len(views['unattributed'])})",
                   UNATTRIBUTED_COLUMNS, [(u["time"], u["host"], u["kind"], u["name"],
                                           u["reason"]) for u in views["unattributed"]])
