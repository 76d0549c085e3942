"""A real terminal for the command-line tests: Debian's ``tmux`` runs a command in a pane of a
given width; ``send-keys`` types (Ctrl-C included) and ``capture-pane`` reads the screen.

``ensure_tmux`` installs the Debian package when ``tmux`` is missing (root and apt-get needed;
otherwise the caller skips with the reason), as :mod:`tests.report.browser` does for Chromium.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

WAIT_S = 120.0  # how long a wait for the screen may take before the test fails (not a timing)


def ensure_tmux() -> str | None:
    """Install Debian's tmux if needed; return why it is unavailable, or ``None``."""
    if shutil.which("tmux"):
        return None
    if os.geteuid() != 0:
        return "tmux is missing and the tests are not root (cannot apt-get install tmux)"
    if shutil.which("apt-get") is None:
        return "tmux is missing and there is no apt-get to install Debian's tmux"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "tmux"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-300:]}"
    return None if shutil.which("tmux") else "apt-get installed tmux but it is not on PATH"


@dataclass(slots=True)
class Pane:
    """One tmux session with a single pane running a shell."""

    session: str

    def run(self, command: list[str], cwd: str) -> None:
        """Type ``command`` into the shell, followed by ``echo exit=$?``."""
        line = f"cd {shlex.quote(cwd)} && {shlex.join(command)}; echo exit=$?"
        self._tmux("send-keys", "-t", self.session, line, "Enter")

    def keys(self, *keys: str) -> None:
        """Type keys (``C-c`` is Ctrl-C)."""
        self._tmux("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        """The pane's text, scroll-back included."""
        return self._tmux("capture-pane", "-p", "-t", self.session, "-S", "-200")

    def wait_for(self, found: Callable[[str], bool]) -> str:
        """Poll the screen until ``found(screen)``; fail with the screen after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            text = self.screen()
            if found(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"screen never matched; it shows:\n{text}")
            time.sleep(0.1)

    def _tmux(self, *args: str) -> str:
        # every session has its own tmux server (socket named after it): tests never meet
        return subprocess.run(["tmux", "-L", self.session, *args], capture_output=True,
                              text=True, check=True).stdout


@contextmanager
def tmux_pane(width: int = 100, height: int = 50, env: dict[str, str] | None = None
              ) -> Iterator[Pane]:
    """A detached tmux session ``width`` x ``height`` running ``bash --norc``."""
    session = f"evtxmpio-test-{uuid.uuid4().hex[:8]}"
    environment = dict(os.environ, **(env or {}))
    environment.pop("TMUX", None)
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM"):
        environment.pop(name, None)
    environment["TERM"] = "xterm-256color"
    subprocess.run(["tmux", "-L", session, "new-session", "-d", "-s", session, "-x", str(width),
                    "-y", str(height), "bash --norc --noprofile"], env=environment, check=True)
    pane = Pane(session)
    try:
        pane.wait_for(lambda text: text.strip() != "")  # the prompt
        yield pane
    finally:
        subprocess.run(["tmux", "-L", session, "kill-server"], capture_output=True, check=False)
