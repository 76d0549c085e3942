"""The command line in a real terminal (tmux) and under a real SIGINT: progress on stderr only
when it is a terminal, Ctrl-C as one line and exit 130 with no output left behind, tables that
fold instead of cutting ids and times (issue 16)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import RACE_XML_CASE
from tests.terminal import ensure_tmux, tmux_pane

PYTHON = sys.executable


@pytest.fixture(scope="module")
def tmux() -> None:
    reason = ensure_tmux()
    if reason is not None:
        pytest.skip(reason)


def _finished(text: str) -> bool:
    return re.search(r"(?m)^exit=\d+$", text) is not None


def test_issue_16_progress_and_closing_line_on_a_terminal(tmux: None, tmp_path: Path) -> None:
    with tmux_pane(width=100) as pane:
        # stdout to a file: what is left on the screen is stderr, a terminal
        pane.run([PYTHON, "-m", "evtxmpio", "analyze", str(RACE_XML_CASE), "-o", "r.html"],
                 cwd=str(tmp_path))
        pane.wait_for(_finished)
        screen = pane.screen()
    assert "System.xml" in screen and "19 records read, 19 kept" in screen
    assert "Read 1 file(s), 19 records (19 kept), analysed in " in screen
    assert "Verdict: KB 2406705 duplicate-failover race" in screen
    assert re.search(r"(?m)^exit=0$", screen)


@pytest.mark.parametrize(("width", "time"), [
    (80, "2011-06-14T07:47:10.402113200Z"),  # too narrow for the table: whole lines
    (120, "2011-06-14 07:47:10.402Z"),  # the table, milliseconds
])
def test_issue_16_terminal_never_cuts_ids_and_times(tmux: None, tmp_path: Path, width: int,
                                                    time: str) -> None:
    with tmux_pane(width=width) as pane:
        pane.run([PYTHON, "-m", "evtxmpio", "analyze", str(RACE_XML_CASE), "-o", "r.html"],
                 cwd=str(tmp_path))
        screen = pane.wait_for(_finished)
    assert re.search(r"(?m)^exit=0$", screen)
    assert "\u2026" not in screen  # no "mpio-dupl…", no "2011-06-…"
    for rule_id in ("mpio-duplicate-failover", "mpio-normal-to-degraded",
                    "mpio-dsm-no-valid-path", "mpio-disk-torn-down", "delayed-write-failed"):
        assert rule_id in screen
    assert time in screen


def test_issue_16_ctrl_c_in_a_terminal(tmux: None, tmp_path: Path, corpus: Path) -> None:
    source = corpus / "evtx" / "michkoll__fakenevtx" / "System.evtx"
    copies = []
    for number in range(4):  # python-evtx takes seconds per copy: time to press Ctrl-C
        copy = tmp_path / f"copy{number}.evtx"
        copy.symlink_to(source)
        copies.append(str(copy))
    out = tmp_path / "r.html"
    with tmux_pane(width=100) as pane:
        pane.run([PYTHON, "-m", "evtxmpio", "analyze", "--backend", "python", "--no-prefilter",
                  "--all-events", *copies, "-o", str(out)], cwd=str(tmp_path))
        pane.wait_for(lambda text: "records read" in text)
        pane.keys("C-c")
        screen = pane.wait_for(_finished)
    # what the command showed: between the typed line and the exit status
    after = screen[screen.index("echo exit=$?") + len("echo exit=$?"):screen.index("\nexit=")]
    assert re.search(r"(?m)^exit=130$", screen)
    assert "Traceback" not in screen and "KeyboardInterrupt" not in screen
    # the progress display is cleared: only the one line is left
    assert [line for line in after.splitlines() if line.strip()] == ["interrupted"]
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [Path(c).name for c in copies]


SIGINT_ON_IMPORT = """\
import importlib.abc, os, signal, sys

class _Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == os.environ["INTERRUPT_ON_IMPORT"]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, _Interrupt())
"""


@pytest.mark.parametrize("module", ["typer", "evtxmpio.cli.analyze", "pandas", "jinja2"])
def test_issue_16_ctrl_c_during_start_up_imports(tmp_path: Path, module: str) -> None:
    """A real SIGINT while ``module`` is being imported (a sitecustomize of the test sends it):
    during the command line's own imports, or the pipeline's inside the command."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SIGINT_ON_IMPORT, encoding="utf-8")
    env = dict(os.environ, INTERRUPT_ON_IMPORT=module,
               PYTHONPATH=os.pathsep.join([str(hook), *filter(None, [
                   os.environ.get("PYTHONPATH")])]))
    out = tmp_path / "r.html"
    completed = subprocess.run([PYTHON, "-m", "evtxmpio", "analyze", str(RACE_XML_CASE), "-o",
                                str(out)], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert completed.stderr == "interrupted\n"
    assert completed.returncode == 130
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hook"]
