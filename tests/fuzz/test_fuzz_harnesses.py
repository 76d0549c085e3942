"""Every fuzz harness runs briefly under libFuzzer, and every saved regression input replays.

The short runs (a few seconds each, from a small seed set built in a temporary folder) prove
that each harness starts, loads its seeds and fuzzes without a finding; long runs are for
people (tests/fuzz/README.md). The regression replay needs no atheris: it calls each harness's
``TestOneInput`` on the minimized inputs saved under ``tests/fuzz/regressions/<harness>/``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.common import FUZZ_DIR, ROOT, regression_inputs
from tests.fuzz.seeds import SEEDERS, write_seeds

HARNESSES = sorted(SEEDERS)
# Seconds of fuzzing per harness in the suite (after the seeds are loaded), and a cap on runs;
# a fixed libFuzzer seed and hash seed make a run repeatable.
FUZZ_SECONDS = 8
MAX_RUNS = 20_000
HANG_SECONDS = 15
DONE = re.compile(r"Done (\d+) runs in \d+ second")
STATS = re.compile(r"#(\d+)\s+(?:INITED|NEW|REDUCE|pulse|DONE)\b")
ATHERIS = importlib.util.find_spec("atheris") is not None
# Findings reported and not fixed yet: (harnesses, pattern of the crash or hang log, note). A
# brief run that ends in one of them is an expected failure; any other finding fails. Remove
# the entry when the fix lands, and save the minimized input under regressions/<harness>/.
OPEN_FINDINGS: list[tuple[tuple[str, ...], str, str]] = []


def executions(log: str) -> int:
    """Inputs executed, from libFuzzer's final ``Done N runs`` line or its last status line."""
    done = DONE.findall(log)
    if done:
        return int(done[-1])
    stats = STATS.findall(log)
    return int(stats[-1]) if stats else 0


def open_finding(harness: str, log: str) -> str | None:
    """The note of the open finding ``log`` shows, if any."""
    for harnesses, pattern, note in OPEN_FINDINGS:
        if harness in harnesses and re.search(pattern, log, re.DOTALL):
            return note
    return None


@pytest.mark.skipif(not ATHERIS, reason="atheris is not installed (it has wheels for x86_64 "
                                        "Linux only)")
@pytest.mark.parametrize("harness", HARNESSES)
def test_harness_fuzzes_briefly(harness: str, tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seed_count = len(write_seeds(harness, seeds, small=True))
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    command = [sys.executable, str(FUZZ_DIR / f"{harness}.py"), f"-max_total_time={FUZZ_SECONDS}",
               f"-runs={MAX_RUNS}", f"-timeout={HANG_SECONDS}", "-seed=1",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(seeds)]
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, errors="replace",
                         timeout=300, check=False, env={**os.environ, "PYTHONHASHSEED": "0"})
    log = run.stdout + run.stderr
    # slow-unit-* files only say an input took over 10 s; crash-, timeout-, oom- are findings
    findings = sorted(p.name for p in artifacts.iterdir() if not p.name.startswith("slow-unit"))
    if run.returncode != 0 or findings:
        note = open_finding(harness, log)
        if note is not None:
            pytest.xfail(f"open finding: {note}")
    assert run.returncode == 0, f"{harness} exited {run.returncode}, {findings}:\n{log[-4000:]}"
    assert not findings, findings
    assert executions(log) > seed_count, log[-2000:]


@pytest.mark.parametrize("harness", HARNESSES)
def test_harness_accepts_its_seeds(harness: str, tmp_path: Path) -> None:
    """The seeds themselves hold every invariant (no atheris needed)."""
    module = importlib.import_module(f"tests.fuzz.{harness}")
    for path in write_seeds(harness, tmp_path, small=True):
        module.TestOneInput(path.read_bytes())


@pytest.mark.parametrize("harness", HARNESSES)
def test_regression_inputs_replay(harness: str) -> None:
    """Minimized inputs of fixed findings (regressions/<harness>/) hold every invariant."""
    module = importlib.import_module(f"tests.fuzz.{harness}")
    for path in regression_inputs(harness):
        try:
            module.TestOneInput(path.read_bytes())
        except Exception as exc:
            raise AssertionError(f"regressions/{harness}/{path.name}: {exc!r}") from exc


def test_regression_folders_name_harnesses() -> None:
    folders = [p.name for p in (FUZZ_DIR / "regressions").iterdir() if p.is_dir()]
    assert set(folders) <= set(HARNESSES), folders
    assert (ROOT / "tests" / "fuzz" / "README.md").is_file()
