"""A plain, non-editable install from a built wheel finds rules/ and reports/."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import RACE_XML_CASE

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(REPO)], check=True, capture_output=True)
    [built] = dist.glob("evtxmpio-*.whl")
    return built


def test_wheel_carries_rules_and_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "evtxmpio/_data/rules/mpio-duplicate-failover.yaml" in names
    assert "evtxmpio/_data/reports/report.html.j2" in names
    assert "evtxmpio/catalog/windows.yaml" in names


def test_installed_wheel_runs_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Dependencies come from the index as for any user; the package itself from the wheel.
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True,
                   capture_output=True)
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = subprocess.run(
        [str(venv / "bin" / "evtxmpio"), "analyze", str(RACE_XML_CASE), "-o", "out.html"],
        cwd=workdir, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert "kb2406705-race" in completed.stdout
    assert "KB 2406705" in (workdir / "out.html").read_text(encoding="utf-8")
    # issue 16: outside a checkout, `rules test` runs the rules' examples and says that the
    # sample cases were skipped, instead of failing for want of samples/
    rules_test = subprocess.run([str(venv / "bin" / "evtxmpio"), "rules", "test"], cwd=workdir,
                                env=env, capture_output=True, text=True)
    assert rules_test.returncode == 0, rules_test.stdout + rules_test.stderr
    assert "Sample cases skipped" in rules_test.stdout
    assert "examples ok, sample cases skipped" in rules_test.stdout
    location = subprocess.run([str(python), "-c", "import evtxmpio; print(evtxmpio.__file__)"],
                              cwd=workdir, env=env, capture_output=True, text=True, check=True)
    assert str(REPO) not in location.stdout
