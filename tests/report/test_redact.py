"""``--redact``: no original host, file, volume, IP or iSCSI name survives in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evtxmpio import pipeline, report
from evtxmpio.cli import app
from tests.conftest import RACE_XML_CASE, REPO
from tests.report.cases import make_case, make_rule, race_events

SAMPLE_SECRETS = ("FS01", "contoso", "orders", "ledger", "HarddiskVolume4", "System.xml",
                  "kb2406705-race-xml")
SYNTHETIC_SECRETS = ("FS01", "contoso", "orders", "HarddiskVolume4", "10.20.30.40",
                     "iqn.1991-05.com.microsoft", "fs01-target", "System.evtx")


def _assert_clean(text: str, secrets: tuple[str, ...]) -> None:
    lowered = text.lower()
    for secret in secrets:
        assert secret.lower() not in lowered, secret
        escaped = json.dumps(secret)[1:-1].lower()
        assert escaped not in lowered, escaped


@pytest.mark.parametrize("output_format", report.FORMATS)
def test_sample_outputs_keep_no_original_name(output_format: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    case = pipeline.analyze([Path("samples/kb2406705-race-xml/case")])
    redactor = report.collect(case)
    text = report.render(case, output_format, redactor)
    _assert_clean(text, SAMPLE_SECRETS)
    assert "HOST-1" in text
    if output_format in ("html", "json", "csv"):
        assert "FILE-" in text and ".mdb" in text  # pseudonyms keep the extension


@pytest.mark.parametrize("output_format", report.FORMATS)
def test_ips_iscsi_names_and_free_text_are_redacted(output_format: str) -> None:
    case = make_case(race_events(), make_rule())
    redactor = report.collect(case)
    text = report.render(case, output_format, redactor)
    _assert_clean(text, SYNTHETIC_SECRETS)
    if output_format in ("csv", "timesketch"):  # the outputs that carry every message
        assert "IP-1" in text and "IQN-1" in text


def test_pseudonyms_are_consistent_and_the_map_inverts_them() -> None:
    case = make_case(race_events(), make_rule())
    redactor = report.collect(case)
    document = redactor.mapping_document()["pseudonyms"]
    assert document["host"]["HOST-1"] == ["FS01.contoso.local", "FS01"]
    assert redactor.text("fs01.CONTOSO.local and FS01$") == "HOST-1 and HOST-1$"
    assert redactor.text('{"f": "\\\\Device\\\\HarddiskVolume4"}') == '{"f": "VOLUME-1"}'
    assert document["ip"]["IP-1"] == ["10.20.30.40"]


def test_json_stays_case_1_compatible() -> None:
    case = make_case(race_events(), make_rule())
    plain = json.loads(report.render(case, "json"))
    redacted = json.loads(report.render(case, "json", report.collect(case)))
    assert redacted["schema"] == "evtxmpio.case/1" and redacted["redacted"] is True
    assert set(plain) <= set(redacted)
    assert redacted["findings"][0]["evidence"][0]["record_id"] == \
        plain["findings"][0]["evidence"][0]["record_id"]


def test_cli_redact_writes_the_map_beside_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["analyze", str(RACE_XML_CASE), "-o", str(out), "--redact"])
    assert result.exit_code == 0, result.output
    mapping = json.loads((tmp_path / "report.html.redaction.json").read_text(encoding="utf-8"))
    assert mapping["schema"] == "evtxmpio.redaction/1"
    originals = [name for kind in mapping["pseudonyms"].values() for names in kind.values()
                 for name in names]
    assert "FS01.contoso.local" in originals
    html = out.read_text(encoding="utf-8")
    _assert_clean(html, ("FS01", "contoso", "orders.mdb", "HarddiskVolume4", str(RACE_XML_CASE)))
    assert "redacted: names replaced by pseudonyms" in html


def test_cli_redact_map_option(tmp_path: Path) -> None:
    out, keep = tmp_path / "t.csv", tmp_path / "private" / "map.json"
    result = CliRunner().invoke(app, ["analyze", str(RACE_XML_CASE), "-f", "csv", "-o", str(out),
                                      "--redact", "--redact-map", str(keep)])
    assert result.exit_code == 0, result.output
    assert keep.is_file() and not (tmp_path / "t.csv.redaction.json").exists()
    _assert_clean(out.read_text(encoding="utf-8"), ("FS01", "orders.mdb"))
