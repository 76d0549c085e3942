"""Limits in triage: ``--limit`` reaches every case; hostile archives, bombs and a case that
exhausts memory fail alone, with a clear reason, while the rest of the batch succeeds."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import evtxmpio.cli.triage  # noqa: F401  (registers the command)
from evtxmpio.cli import app
from evtxmpio.ingest.limits import parse_limits
from evtxmpio.triage import TriageOptions, run_triage
from evtxmpio.triage.archive import default_limits
from evtxmpio.triage.dispatch import LocalExecutor
from evtxmpio.triage.memory import memory_reason
from tests.triage.conftest import RACE_XML, race_variant
from tests.triage.faulty_child import CHILD, MEMORY_MARKER
from tests.triage.test_local import Collect

ABSOLUTE_ESCAPE = Path("/evtxmpio-test-triage-escape.xml")


def rows(db: Path) -> dict[str, list[tuple[str, str | None, str | None]]]:
    """name -> [(status, verdict, failure reason)] of every case row."""
    with duckdb.connect(str(db), read_only=True) as connection:
        found = connection.execute(
            "SELECT name, status, verdict, failure_reason FROM cases ORDER BY name, status")
        result: dict[str, list[tuple[str, str | None, str | None]]] = {}
        for name, *rest in found.fetchall():
            result.setdefault(name, []).append(tuple(rest))
        return result


def padded_zip(path: Path, padding: int = 8 << 20) -> Path:
    """The race sample as a zip whose System.xml ends in ``padding`` spaces (ratio ~700)."""
    text = RACE_XML.read_bytes() + b" " * padding
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("System.xml", text)
    return path


@pytest.mark.parametrize(("key", "low", "high", "reason"), [
    ("archive-ratio", "50", "100000",
     "padded.zip: member 'System.xml': compression ratio above 50 (zip bomb? limit "
     "archive-ratio; raise with --limit archive-ratio=N)"),
    ("archive-total", "1MiB", "64MiB",
     "padded.zip: case larger than 1048576 bytes uncompressed (limit archive-total; raise with "
     "--limit archive-total=SIZE)"),
])
def test_cli_limit_refuses_a_bomb_and_a_higher_limit_lets_it_through(
        tmp_path: Path, key: str, low: str, high: str, reason: str) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    padded_zip(inbox / "padded.zip")
    db = tmp_path / "cases.duckdb"
    base = ["triage", str(inbox), "--db", str(db), "--workers", "1"]
    refused = CliRunner().invoke(app, [*base, "--limit", f"{key}={low}"])
    assert refused.exit_code == 0, refused.output
    assert "2 triaged (1 failed)" in refused.output
    assert rows(db)["padded.zip"] == [("failed", None, reason)]
    assert rows(db)["race-1"] == [("ok", "kb2406705-race", None)]
    allowed = CliRunner().invoke(app, [*base, "--limit", f"{key}={high}"])
    assert allowed.exit_code == 0, allowed.output
    assert "1 already known, 1 triaged (0 failed)" in allowed.output
    # The refused archive was hashed over its raw bytes; read, it is a new case.
    assert rows(db)["padded.zip"] == [("failed", None, reason), ("ok", "kb2406705-race", None)]


@pytest.mark.parametrize("option", ["archive-ratio=abc", "nope=1", "memory=-1GiB",
                                    "archive-total"])
def test_cli_refuses_a_bad_limit_in_one_line(tmp_path: Path, option: str) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    result = CliRunner().invoke(app, ["triage", str(inbox), "--db", str(tmp_path / "c.duckdb"),
                                      "--limit", option])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: --limit {option!r}: ")
    assert result.output.count("\n") == 1
    assert not (tmp_path / "c.duckdb").exists()


def _hostile_zip(path: Path, name: str, data: bytes = b"<x/>", link: str | None = None) -> None:
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("System.xml", RACE_XML.read_bytes())
        info = zipfile.ZipInfo(name)
        if link is not None:
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            data = link.encode()
        out.writestr(info, data)


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_mtime_ns for p in root.rglob("*")
            if p.suffix != ".wal" and "cases.duckdb" not in p.name}


def test_hostile_archives_fail_alone_and_write_nothing_outside(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    race_variant(inbox / "race-1", 1)
    _hostile_zip(inbox / "traversal.zip", "../../escape.xml")
    _hostile_zip(inbox / "absolute.zip", str(ABSOLUTE_ESCAPE))
    _hostile_zip(inbox / "drive.zip", "C:\\escape.xml")
    _hostile_zip(inbox / "symlink.zip", "logs", link=str(tmp_path))
    _hostile_zip(inbox / "collision.zip", "system.XML")
    before = _tree(tmp_path)
    summary = run_triage(TriageOptions(inbox, tmp_path / "cases.duckdb", workers=2,
                                       case_timeout=60), Collect())
    assert (summary.ran, summary.failed) == (6, 5)
    found = {name: entries[0] for name, entries in rows(tmp_path / "cases.duckdb").items()}
    assert found["race-1"] == ("ok", "kb2406705-race", None)
    assert found["traversal.zip"][2] == ("traversal.zip: member '../../escape.xml': member path "
                                         "climbs out of the archive (..)")
    assert found["absolute.zip"][2] == (f"absolute.zip: member '{ABSOLUTE_ESCAPE}': absolute "
                                        "member path")
    assert found["drive.zip"][2] == "drive.zip: member 'C:\\\\escape.xml': absolute member path"
    assert found["symlink.zip"][2] == "symlink.zip: member 'logs': symbolic link"
    assert found["collision.zip"][2] == ("collision.zip: member 'system.XML': same file as "
                                         "'System.xml' on a case-insensitive file system")
    assert _tree(tmp_path) == before
    assert not ABSOLUTE_ESCAPE.exists() and not (tmp_path / "escape.xml").exists()


def test_a_case_that_exhausts_memory_fails_alone(tmp_path: Path) -> None:
    """One case allocates without bound, one dies as native code does when an allocation
    fails; both are recorded as out of memory and the others of the batch succeed."""
    inbox = tmp_path / "inbox"
    for number in (1, 2):
        race_variant(inbox / f"race-{number}", number)
    (race_variant(inbox / "greedy", 3) / MEMORY_MARKER).write_text("allocate\n")
    (race_variant(inbox / "aborting", 4) / MEMORY_MARKER).write_text("abort\n")
    limits = parse_limits(["memory=1GiB"], default_limits())
    summary = run_triage(TriageOptions(inbox, tmp_path / "cases.duckdb", workers=2,
                                       case_timeout=60, limits=limits), Collect(),
                         LocalExecutor(2, child_module=CHILD))
    assert (summary.ran, summary.failed) == (4, 2)
    found = {name: entries[0] for name, entries in rows(tmp_path / "cases.duckdb").items()}
    reason = memory_reason(1 << 30)
    assert reason == ("memory: the analysis exceeded the memory limit of 1024 MiB (raise with "
                      "--limit memory=SIZE)")
    assert found["greedy"] == ("failed", None, reason)
    assert found["aborting"] == ("failed", None, reason)
    assert found["race-1"] == found["race-2"] == ("ok", "kb2406705-race", None)
