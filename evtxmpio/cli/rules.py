"""``evtxmpio rules list | validate | test``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from evtxmpio import pipeline
from evtxmpio.cli.app import app, fail
from evtxmpio.errors import Error

rules_app = typer.Typer(help="List, validate and test the YAML rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

RulesOption = Annotated[list[Path] | None, typer.Option(
    "--rules", help="Extra rule folder, added to the shipped rules (repeatable).")]


@rules_app.command("list")
def list_rules(rules: RulesOption = None) -> None:
    """List the rules: id, kind, severity and title."""
    try:
        loaded = pipeline.shipped_rules(rules or [])
    except Error as exc:
        raise fail(str(exc)) from exc
    table = Table(title=f"Rules ({len(loaded)})", title_justify="left")
    for column in ("id", "kind", "severity", "title"):
        table.add_column(column)
    for rule in loaded:
        table.add_row(rule.id, rule.kind, rule.severity, rule.title)
    Console().print(table)


@rules_app.command("validate")
def validate(
    files: Annotated[list[Path] | None, typer.Argument(
        help="Rule files to check [default: the shipped rules].")] = None,
    rules: RulesOption = None,
) -> None:
    """Validate rule files; print every problem; exit 1 if any."""
    loaded, errors = pipeline.rules_validate(files or [], rules or [])
    for error in errors:
        typer.echo(f"Error: {error}", err=True)
    typer.echo(f"{len(loaded)} rule(s) valid, {len(errors)} invalid")
    if errors:
        raise typer.Exit(code=1)


@rules_app.command("test")
def test(
    rules: RulesOption = None,
    samples: Annotated[Path | None, typer.Option(
        "--samples", help="Folder of sample cases with ground_truth.json [default: samples/].",
        exists=True, file_okay=False)] = None,
) -> None:
    """Run each rule's examples and each sample case against its ground truth."""
    try:
        examples, checks = pipeline.rules_test(rules or [], samples)
    except Error as exc:
        raise fail(str(exc)) from exc
    failed_examples = [e for e in examples if not e.ok]
    for example in failed_examples:
        typer.echo(f"FAIL example {example.rule_id} {example.expected}[{example.index}]: "
                   f"fired={example.fired}")
    table = Table(title="Sample cases", title_justify="left")
    for column in ("case", "verdict", "ground truth", "result"):
        table.add_column(column)
    for check in checks:
        table.add_row(check.case, check.verdict, check.truth,
                      "ok" if check.ok else "; ".join(check.problems))
    Console().print(table)
    typer.echo(f"{len(examples) - len(failed_examples)}/{len(examples)} examples ok, "
               f"{sum(c.ok for c in checks)}/{len(checks)} sample cases ok")
    if failed_examples or not all(c.ok for c in checks):
        raise typer.Exit(code=1)
