"""The supervisor of one analyzer process: run cases in a warm, isolated process it can kill.

A :class:`CaseRunner` owns one child (``python -m evtxmpio.triage.analyzer_process``) that
imports the analyzer once and then analyzes one case at a time. A case that overruns its
timeout gets the child killed; a case that kills the child (``os._exit``, a segfault, native
code aborting on a failed allocation under the memory cap of :mod:`evtxmpio.triage.memory`) is
seen as the end of its answer pipe. Either way that case is recorded failed (as out of memory
when the child's last stderr lines say so), a fresh child is started for the next case, and no
other case is touched. The same runner serves the local pool (one per dispatcher thread) and
Dask workers (one per worker thread), so both give the same outcomes.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from evtxmpio.triage.analyzer_process import READY, read_frame, write_frame
from evtxmpio.triage.archive import default_limits
from evtxmpio.triage.lifeline import PARENT_ENV
from evtxmpio.triage.memory import memory_reason, ran_out_of_memory
from evtxmpio.triage.outcome import CaseOutcome, CaseSpec, failed

STARTUP_TIMEOUT_S = 120.0
CHILD_MODULE = "evtxmpio.triage.analyzer_process"
CRASH_REASON = "crashed: the analyzer process died"


def timeout_reason(timeout: float) -> str:
    """The failure reason of a case that overran ``timeout``."""
    return f"timeout: analysis exceeded --case-timeout of {timeout:g} s"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    # mimalloc (pyarrow's default) maps 1 GiB at once, which would count against the cap.
    env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    env[PARENT_ENV] = str(os.getpid())
    return env


def _exit_text(code: int | None) -> str:
    if code is None:
        return "exit status unknown"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


class CaseRunner:
    """One warm analyzer child process, restarted after a crash or a timeout.

    ``child_module`` is the module the child runs (``python -m``); tests pass one that wraps
    :mod:`evtxmpio.triage.analyzer_process` to inject faults.
    """

    def __init__(self, child_module: str = CHILD_MODULE) -> None:
        self.child_module = child_module
        self._process: subprocess.Popen[bytes] | None = None
        # Append mode: the child shares this file description, so reading the tail must not
        # move where the child writes.
        self._stderr = tempfile.TemporaryFile(mode="a+b")  # noqa: SIM115  (closed in close())
        self.closed = False

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr.truncate(0)
        process = subprocess.Popen(
            [sys.executable, "-m", self.child_module], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env=_child_env(), bufsize=0)
        if not self._wait_readable(process, STARTUP_TIMEOUT_S) or \
                read_frame(process.stdout) != READY:
            self._kill(process)
            raise RuntimeError(f"analyzer process did not start: {self._stderr_tail()}")
        return process

    @staticmethod
    def _wait_readable(process: subprocess.Popen[bytes], timeout: float) -> bool:
        readable, _, _ = select.select([process.stdout], [], [], timeout)
        return bool(readable)

    @staticmethod
    def _kill(process: subprocess.Popen[bytes]) -> int | None:
        process.kill()
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            return None

    def _stderr_size(self) -> int:
        if self._stderr.closed:
            return 0
        self._stderr.seek(0, os.SEEK_END)
        return self._stderr.tell()

    def _stderr_tail(self, limit: int = 400, start: int = 0) -> str:
        """The last lines the child wrote to stderr (since offset ``start``)."""
        if self._stderr.closed:
            return ""
        size = self._stderr_size()
        self._stderr.seek(max(start, size - limit))
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return " | ".join(text.splitlines()[-3:])

    def run(self, spec: CaseSpec, timeout: float) -> CaseOutcome:
        """Analyze ``spec`` in the child; never raises for what the case does."""
        if self._process is None or self._process.poll() is not None:
            self._process = self._start()
        process = self._process
        started, clock = datetime.now(UTC), time.perf_counter()
        outcome, timed_out, mark = None, False, self._stderr_size()
        try:
            write_frame(process.stdin, spec)
            timed_out = not self._wait_readable(process, timeout)
            # Readable but no whole frame: the pipe ended, the child died.
            outcome = None if timed_out else read_frame(process.stdout)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if outcome is None:
            code = self._kill(process)
            self._process = None
            tail = "" if timed_out else self._stderr_tail(start=mark)
            reason = timeout_reason(timeout) if timed_out else CRASH_REASON
            if ran_out_of_memory(tail):
                reason = memory_reason((spec.limits or default_limits()).memory_bytes)
            detail = "killed after timeout" if timed_out else f"{_exit_text(code)}; stderr: {tail}"
            outcome = failed(spec, reason, detail)
            outcome.started_at, outcome.duration_s = started, time.perf_counter() - clock
        return outcome

    def close(self, kill: bool = False) -> None:
        """End the child: at once with ``kill``, else at the end of its input."""
        process, self._process = self._process, None
        if process is not None and kill:
            self._kill(process)
        elif process is not None and process.poll() is None:
            process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill(process)
        self._stderr.close()
        self.closed = True


_LOCAL = threading.local()
_RUNNERS: list[CaseRunner] = []
_RUNNERS_LOCK = threading.Lock()


def run_isolated(spec: CaseSpec, timeout: float, child_module: str = CHILD_MODULE
                 ) -> CaseOutcome:
    """Analyze ``spec`` in this thread's runner of ``child_module`` (created on first use)."""
    runners = _LOCAL.__dict__.setdefault("runners", {})
    runner = runners.get(child_module)
    if runner is None or runner.closed:
        runner = runners[child_module] = CaseRunner(child_module)
        with _RUNNERS_LOCK:
            _RUNNERS.append(runner)
    return runner.run(spec, timeout)


def close_runners(kill: bool = False) -> None:
    """Close every runner of this process (their threads' next case starts a new one)."""
    with _RUNNERS_LOCK:
        runners, _RUNNERS[:] = list(_RUNNERS), []
    for runner in runners:
        runner.close(kill)


atexit.register(close_runners)
