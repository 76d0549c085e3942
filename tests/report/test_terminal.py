"""The terminal summary shows customer text literally: never as Rich markup."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from evtxmpio import pipeline
from evtxmpio.report import print_summary
from tests.conftest import RACE_XML_CASE


def test_markup_in_host_and_file_names_is_printed_literally(tmp_path: Path) -> None:
    text = (RACE_XML_CASE / "System.xml").read_text(encoding="utf-8")
    hostile = text.replace("FS01.contoso.local", "[bold red]FS01[/bold red][/]")
    target = tmp_path / "[red]System.xml"
    target.write_text(hostile, encoding="utf-8")
    case = pipeline.analyze([target])
    console = Console(record=True, width=300)
    print_summary(case, console)
    output = console.export_text()
    assert "[bold red]FS01[/bold red][/]" in output
    assert "[red]System.xml" in output
    assert "Verdict: KB 2406705 duplicate-failover race" in output
    assert "KB 2406705 fix on [bold red]FS01[/bold red][/]: unknown" in output
