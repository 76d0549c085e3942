"""``evtxmpio rules list | validate | test``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from evtxmpio.cli.app import PlainCommand, app, fail
from evtxmpio.errors import Error

rules_app = typer.Typer(help="List, validate and test the YAML rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

RulesOption = Annotated[list[Path] | None, typer.Option(
    "--rules", metavar="DIR", help="Extra rule folder, added to the shipped rules (repeatable).")]


@rules_app.command("list", cls=PlainCommand)
def list_rules(rules: RulesOption = None) -> None:
    """List the rules: id, kind, severity and title."""
    from rich.console import Console

    from evtxmpio import pipeline
    from evtxmpio.report.terminal import print_rows

    try:
        loaded = pipeline.shipped_rules(rules or [])
    except Error as exc:
        raise fail(str(exc)) from exc
    print_rows(Console(), f"Rules ({len(loaded)})", ("id", "kind", "severity", "title"),
               [(rule.id, rule.kind, rule.severity, rule.title) for rule in loaded])


@rules_app.command("validate", cls=PlainCommand)
def validate(
    files: Annotated[list[Path] | None, typer.Argument(
        metavar="FILE", help="Rule files to check [default: the shipped rules].")] = None,
    rules: RulesOption = None,
) -> None:
    """Validate rule files; print every problem of every file (FILE:LINE); exit 1 if any."""
    from evtxmpio import pipeline

    try:
        loaded, errors = pipeline.rules_validate(files or [], rules or [])
    except Error as exc:
        raise fail(str(exc)) from exc
    for error in errors:
        typer.echo(f"Error: {error}", err=True)
    bad_files = len({str(error).split(":", 1)[0] for error in errors})
    typer.echo(f"{len(loaded)} rule(s) valid, {len(errors)} problem(s) in {bad_files} file(s)")
    if errors:
        raise typer.Exit(code=1)


@rules_app.command("test", cls=PlainCommand)
def test(
    rules: RulesOption = None,
    samples: Annotated[Path | None, typer.Option(
        "--samples", metavar="DIR", exists=True, file_okay=False,
        help="Folder of sample cases with ground_truth.json [default: samples/ of the checkout; "
        "skipped when there is none].")] = None,
) -> None:
    """Run each rule's examples and each sample case against its ground truth."""
    from rich.console import Console

    from evtxmpio import pipeline
    from evtxmpio.report.terminal import print_rows

    folder = samples or pipeline.checkout_samples_dir()
    try:
        examples, checks = pipeline.rules_test(rules or [], folder, with_samples=folder is not None)
    except Error as exc:
        raise fail(str(exc)) from exc
    failed_examples = [e for e in examples if not e.ok]
    for example in failed_examples:
        typer.echo(f"FAIL example {example.rule_id} {example.expected}[{example.index}]: "
                   f"fired={example.fired}")
    if folder is None:
        typer.echo("Sample cases skipped: no samples/ folder beside the package (an installed "
                   "package has none); pass --samples DIR to run them.")
    else:
        print_rows(Console(), "Sample cases", ("case", "verdict", "ground truth", "result"),
                   [(c.case, c.verdict, c.truth, "ok" if c.ok else "; ".join(c.problems))
                    for c in checks])
    typer.echo(f"{len(examples) - len(failed_examples)}/{len(examples)} examples ok, "
               + (f"{sum(c.ok for c in checks)}/{len(checks)} sample cases ok" if folder
                  else "sample cases skipped"))
    if failed_examples or not all(c.ok for c in checks):
        raise typer.Exit(code=1)
