"""The core install is enough for analyze; each optional part fails with a one-line hint.

pyarrow (Parquet I/O streams of replay), distributed (triage --scheduler) and matplotlib (the
benchmark's plots) are extras (pyproject, README "Set up"). Here they are made unimportable in
a child process, as on a core-only install.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import RACE_XML_CASE, SAMPLES

OPTIONAL = ("pyarrow", "distributed", "dask", "matplotlib")
RUN_WITHOUT_EXTRAS = (
    "import sys\n"
    f"for name in {OPTIONAL!r}:\n"
    "    sys.modules[name] = None  # import raises ImportError, as when not installed\n"
    "from evtxmpio.__main__ import main\n"
    "sys.argv = ['evtxmpio', *sys.argv[1:]]\n"
    "main()\n"
)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN_WITHOUT_EXTRAS, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_analyze_needs_no_extra(tmp_path: Path) -> None:
    completed = _run("analyze", str(RACE_XML_CASE), "-o", str(tmp_path / "r.json"),
                     "--format", "json", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "kb2406705-race" in (tmp_path / "r.json").read_text(encoding="utf-8")


def test_parquet_without_pyarrow_names_the_extra(tmp_path: Path) -> None:
    completed = _run("replay", str(SAMPLES / "healthy-failover" / "workload.yaml"), "--model",
                     "buggy", "--out", str(tmp_path / "out"), "--stream-format", "parquet",
                     cwd=tmp_path)
    assert completed.returncode == 1
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'evtxmpio[parquet]'" in lines[0], completed.stderr


def test_scheduler_without_distributed_names_the_extra(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "case").mkdir(parents=True)
    completed = _run("triage", str(inbox), "--db", str(tmp_path / "cases.duckdb"),
                     "--scheduler", "tcp://127.0.0.1:9", cwd=tmp_path)
    assert completed.returncode == 1
    assert "pip install 'evtxmpio[dask]'" in completed.stderr, completed.stderr
