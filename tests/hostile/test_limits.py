"""Resource limits: a pathological file stops at its limit, keeps what it read, costs no other.

Each limit is forced low so that an ordinary sample file hits it; the other files of the case
must be read exactly as without the limit.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evtxmpio.cli import app
from evtxmpio.errors import Error
from evtxmpio.ingest import ArchiveLimits, ingest_paths
from evtxmpio.ingest.limits import Limits, describe, parse_limits, parse_value
from tests.conftest import RACE_XML_CASE, SAMPLES

TRACE = SAMPLES / "kb2406705-race" / "MPIO-FS01.etw.xml"
BIG = SAMPLES / "four-luns-race-noise" / "System-FS01.eventviewer.xml"
SYSTEM = RACE_XML_CASE / "System.xml"


def _accounts(limits: Limits, big: bool = False) -> dict:
    result = ingest_paths([SYSTEM, BIG if big else TRACE], limits=limits)
    for account in result.accounts:
        assert account.records_read == account.records_used + account.records_skipped
    return {Path(a.file).name: a for a in result.accounts}


def test_record_limit_keeps_exactly_that_many_and_the_other_file_whole() -> None:
    full = _accounts(Limits())
    limited = _accounts(Limits(file_records=5))
    for name, account in limited.items():
        assert account.records_used == min(5, full[name].records_used)
        if full[name].records_used > 5:
            assert account.errors[-1].startswith("limit.file-records: 5 records kept")
            assert account.skip_reasons["over-limit"] == 1


@pytest.mark.parametrize(("limits", "code"), [
    (Limits(file_seconds=1e-9), "limit.file-seconds"),
    (Limits(memory_bytes=1), "limit.memory"),
])
def test_time_and_memory_limits_stop_the_file_and_keep_what_was_read(limits: Limits,
                                                                    code: str) -> None:
    full = _accounts(Limits(), big=True)
    limited = _accounts(limits, big=True)
    big = limited[BIG.name]  # more records than one check interval: it is stopped
    assert full[BIG.name].records_read > 64
    assert any(error.startswith(code) for error in big.errors)
    assert 0 < big.records_read < full[BIG.name].records_read
    assert "raise with --limit" in big.errors[-1]
    small = limited[SYSTEM.name]  # fewer records than one check interval: read whole
    assert (small.records_used, small.errors) == (full[SYSTEM.name].records_used, [])


def _bomb(tmp_path: Path) -> Path:
    events = SYSTEM.read_text(encoding="utf-8")
    padded = events + " " * (4 << 20)  # compresses about 1000:1
    archive = tmp_path / "case.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("System.xml", padded)
    return archive


def test_archive_limits_refuse_a_bomb_and_can_be_raised(tmp_path: Path) -> None:
    archive = _bomb(tmp_path)
    refused = ingest_paths([archive])
    assert refused.records == []
    assert "compression ratio" in refused.accounts[0].errors[0]
    accepted = ingest_paths([archive], limits=parse_limits(["archive-ratio=100000"]))
    assert len(accepted.records) == 19
    total = ingest_paths([archive], limits=parse_limits(["archive-ratio=100000",
                                                         "archive-total=1MiB"]))
    assert total.records == [] and "total size limit" in total.accounts[0].errors[0]


def test_gzip_members_are_charged_to_the_archive_budget(tmp_path: Path) -> None:
    member = gzip.compress(SYSTEM.read_bytes() + b" " * 400_000)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for k in range(4):
            bundle.writestr(f"System{k}.xml.gz", member)
    archive = tmp_path / "case.zip"
    archive.write_bytes(buffer.getvalue())
    result = ingest_paths([archive], limits=ArchiveLimits(max_total_bytes=1 << 20), dedupe=False)
    read = sum(len(Path(a.file).name) > 0 and a.records_read for a in result.accounts)
    assert 19 <= read < 4 * 19  # some members fit, the budget stops the rest
    assert any("total size limit" in e for a in result.accounts for e in a.errors)


def test_an_oversized_xml_event_is_skipped_by_the_limit(tmp_path: Path) -> None:
    text = SYSTEM.read_text(encoding="utf-8")
    at = text.index("</EventData>")
    target = tmp_path / "big.xml"
    target.write_text(text[:at] + "<Data>" + "x" * 9000 + "</Data>" + text[at:],
                      encoding="utf-8")
    result = ingest_paths([target], limits=parse_limits(["xml-event=8KiB"]))
    account = result.accounts[0]
    assert account.records_used == 18 and account.skip_reasons["undecodable"] == 1
    assert any(e.startswith("xml.event-too-large") for e in account.errors)


def test_limit_values_and_errors() -> None:
    assert parse_value("16MiB", "bytes") == 16 << 20
    assert parse_value("4g", "bytes") == 4 << 30
    assert parse_value("10m", "seconds") == 600
    assert parse_value("1.5h", "seconds") == 5400
    limits = parse_limits(["memory=2GiB", "archive-ratio=50", "file-records=7"])
    assert (limits.memory_bytes, limits.archive.max_ratio, limits.file_records) == (
        2 << 30, 50, 7)
    for bad in ["memory", "nope=1", "memory=-1", "memory=12parsecs", "file-seconds=soon"]:
        with pytest.raises(Error, match="--limit"):
            parse_limits([bad])
    assert [row[0] for row in describe(limits)][:3] == ["file-seconds", "file-records", "memory"]


def test_cli_limit_option(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.json"
    ok = runner.invoke(app, ["analyze", str(SYSTEM), "-f", "json", "-o", str(out),
                             "--limit", "file-records=3"])
    assert ok.exit_code == 0, ok.output
    assert "limit.file-records" in out.read_text(encoding="utf-8")
    bad = runner.invoke(app, ["analyze", str(SYSTEM), "-o", str(out), "--limit", "memory=lots"])
    assert bad.exit_code == 1
    listed = runner.invoke(app, ["limits", "--limit", "archive-ratio=7"])
    assert listed.exit_code == 0 and "archive-ratio" in listed.output
