"""The committed replay samples: reproducible, small, readable, with the expected truth."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import evtx as evtx_rs
import Evtx.Evtx as python_evtx
import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EXPECTED = {
    "kb2406705-race": "kb2406705-race",
    "healthy-failover": "healthy-failover",
    "all-paths-down": "all-paths-down",
    "path-flapping": "path-flapping",
    "four-luns-race-noise": "kb2406705-race",
    "duplicated-export": "healthy-failover",
    "cluster-race": "kb2406705-race",
    "cluster-all-paths-down": "all-paths-down",
}


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_sample_is_listed() -> None:
    assert set(_make_samples().SAMPLES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_regenerating_gives_identical_bytes(name: str, tmp_path: Path) -> None:
    folder = _make_samples().make_sample(name, tmp_path)
    committed = sorted(p.name for p in (SAMPLES / name).iterdir())
    assert sorted(p.name for p in folder.iterdir()) == committed
    for file_name in committed:
        assert (folder / file_name).read_bytes() == (SAMPLES / name / file_name).read_bytes(), \
            file_name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_truth_and_size(name: str) -> None:
    truth = json.loads((SAMPLES / name / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["verdict"] == EXPECTED[name]
    assert truth["data_loss"] == (EXPECTED[name] in ("kb2406705-race", "all-paths-down"))
    assert sum(p.stat().st_size for p in (SAMPLES / name).iterdir()) < 1_000_000


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_evtx_read_by_both_readers(name: str) -> None:
    for path in (SAMPLES / name).glob("*.evtx"):
        with python_evtx.Evtx(str(path)) as log:
            ids = [record.record_num() for record in log.records()]
        records = list(evtx_rs.PyEvtxParser(str(path)).records())
        assert not [r for r in records if isinstance(r, Exception)]
        assert [r["event_record_id"] for r in records] == ids and ids


def test_duplicated_export_overlaps() -> None:
    folder = SAMPLES / "duplicated-export"
    first = (folder / "System-FS02-export1.xml").read_text(encoding="utf-8").splitlines()
    second = (folder / "System-FS02-export2.xml").read_text(encoding="utf-8").splitlines()
    overlap = set(first) & set(second)
    assert overlap and len(set(first) | set(second)) > len(first)
    assert any("<EventID Qualifiers='49160'>16</EventID>" in line for line in overlap)


def test_cli_replay(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import evtxmpio.cli.replay  # noqa: F401  (registers the command at run time only)
    from evtxmpio.cli.app import app

    args = ["replay", str(SAMPLES / "kb2406705-race" / "workload.yaml"), "--model", "fixed",
            "--out", str(tmp_path), "--formats", "xml,etw-csv"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Verdict: healthy-failover" in result.output
    assert {p.name for p in tmp_path.iterdir()} == {
        "stream.csv", "System-FS01.xml", "MPIO-FS01.etw.csv", "ground_truth.json"}
    bad = CliRunner().invoke(app, [*args[:4], "--model", "fixed", "--out", str(tmp_path),
                                   "--formats", "pdf"])
    assert bad.exit_code == 1 and "Error:" in bad.output
