"""Where cases run: a local pool of isolated processes, or an existing Dask cluster.

Both run :func:`evtxmpio.triage.supervisor.run_isolated`, so a case gives the same outcome
either way. Locally, ``workers`` dispatcher threads each drive one warm analyzer process. On Dask,
each worker thread drives its own analyzer process the same way; the timeout is enforced on
the worker, so a hung case costs its timeout and never keeps a Dask worker busy, and a
crashing case kills only its analyzer process, not the Dask worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from evtxmpio.errors import Error
from evtxmpio.triage.outcome import CaseOutcome, CaseSpec, failed, one_line, transient
from evtxmpio.triage.supervisor import CHILD_MODULE, CRASH_REASON, close_runners, run_isolated

if TYPE_CHECKING:
    import distributed

CONNECT_TIMEOUT_S = 30.0
# With no worker left, wait this long for one to join, then stop the run (README).
WORKER_WAIT_S = 60.0
POLL_S = 0.2
PROBE_S = 1.0
CLOSE_TIMEOUT_S = 5.0
START_FAILURE = "not run: no analyzer process could be started"


class InfrastructureError(Error):
    """The machinery that runs cases failed (scheduler lost, no workers): not a case failure."""


class Executor(Protocol):
    """Runs cases and yields their outcomes as they complete."""

    name: str

    def run(self, specs: Sequence[CaseSpec], timeout: float) -> Iterator[CaseOutcome]:
        """Outcomes of ``specs`` in completion order."""
        ...

    def close(self) -> None:
        """Release processes and connections."""
        ...


def default_workers() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


def guarded_run(spec: CaseSpec, timeout: float, child_module: str = CHILD_MODULE
                ) -> CaseOutcome:
    """:func:`run_isolated`; an analyzer process that cannot be started is the machine's fault,
    a transient outcome (the case is retried by the next run)."""
    try:
        return run_isolated(spec, timeout, child_module)
    except (OSError, RuntimeError) as exc:
        return transient(spec, START_FAILURE, one_line(f"{type(exc).__name__}: {exc}"))


class LocalExecutor:
    """``workers`` isolated analyzer processes on this machine (each runs ``child_module``)."""

    name = "local"

    def __init__(self, workers: int | None = None, child_module: str = CHILD_MODULE) -> None:
        self.workers = workers or default_workers()
        self.child_module = child_module
        self._pool = ThreadPoolExecutor(max_workers=self.workers,
                                        thread_name_prefix="evtxmpio-triage")

    def run(self, specs: Sequence[CaseSpec], timeout: float) -> Iterator[CaseOutcome]:
        """Outcomes of ``specs`` in completion order."""
        pending: set[Future[CaseOutcome]] = {
            self._pool.submit(guarded_run, spec, timeout, self.child_module) for spec in specs}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()

    def close(self) -> None:
        """Stop dispatching and end the analyzer processes."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        close_runners(kill=True)
        self._pool.shutdown(wait=True)


def run_on_dask_worker(spec: CaseSpec, timeout: float, child_module: str = CHILD_MODULE
                       ) -> CaseOutcome:
    """The Dask task: one case in this worker thread's analyzer process."""
    from distributed import get_worker

    outcome = guarded_run(spec, timeout, child_module)
    outcome.worker = f"{get_worker().address} ({outcome.worker})"
    return outcome


class DaskExecutor:
    """An existing Dask distributed cluster (every worker needs evtxmpio and the inbox path).

    The cluster failing is not a case failing: when the scheduler is lost, or no worker is left
    for ``worker_wait`` seconds, :meth:`run` raises :class:`InfrastructureError` and the cases
    still out are not recorded (the next run picks them up).
    """

    name = "dask"

    def __init__(self, address: str, connect_timeout: float | None = None,
                 child_module: str = CHILD_MODULE, worker_wait: float = WORKER_WAIT_S,
                 note: Callable[[str], None] | None = None) -> None:
        self.address, self.child_module, self.worker_wait = address, child_module, worker_wait
        self.note = note or (lambda _text: None)
        try:
            from distributed import Client
        except ImportError as exc:  # an optional part: pip install 'evtxmpio[dask]'
            raise Error("--scheduler needs the 'distributed' package: "
                        "pip install 'evtxmpio[dask]'") from exc
        # The client's own log lines (reconnect attempts, tracebacks) would bury the one-line
        # error of a lost cluster.
        logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
        try:
            self.client: distributed.Client = Client(
                address, timeout=connect_timeout or CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InfrastructureError(f"{address}: cannot reach the Dask scheduler: "
                                      f"{one_line(str(exc))}") from exc

    def run(self, specs: Sequence[CaseSpec], timeout: float) -> Iterator[CaseOutcome]:
        """Outcomes of ``specs`` in completion order.

        Raises:
            InfrastructureError: the scheduler was lost, or no worker was left for too long.
        """
        pending = {self.client.submit(run_on_dask_worker, spec, timeout, self.child_module,
                                      pure=False): spec for spec in specs}
        watch = _WorkerWatch(self, len(pending))
        try:
            while pending:
                done = [future for future in pending if future.done()]
                for future in done:
                    yield self._outcome(future, pending.pop(future), len(pending))
                if not done:
                    watch.check(len(pending))
                    time.sleep(POLL_S)
        finally:
            if self.client.status == "running":
                self.client.cancel([f for f in pending if not f.done()])

    def _outcome(self, future: Any, spec: CaseSpec, left: int) -> CaseOutcome:
        try:
            return future.result()
        except Exception as exc:
            # Cancelled (scheduler-connection-lost), or any error while the client has lost
            # its scheduler: the cluster failed, not the case.
            if isinstance(exc, CancelledError) or self.client.status != "running":
                reason = getattr(exc, "reason", None) or one_line(str(exc)) or \
                    type(exc).__name__
                raise InfrastructureError(
                    f"{self.address}: lost the Dask scheduler ({reason}); {left + 1} case(s) "
                    "not triaged, run again when the cluster is back") from exc
            # KilledWorker: the case killed every worker it ran on.
            return failed(spec, CRASH_REASON, f"dask: {type(exc).__name__}: {exc}")

    def workers(self) -> int | None:
        """Workers the scheduler knows now (``None`` when it cannot be asked)."""
        try:
            return len(self.client.nthreads())
        except Exception:  # any failure to ask means "unknown"
            return None

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        with contextlib.suppress(Exception):
            self.client.close(timeout=CLOSE_TIMEOUT_S)


class _WorkerWatch:
    """Says when the cluster has no worker left and gives up after ``worker_wait`` seconds."""

    def __init__(self, executor: DaskExecutor, total: int) -> None:
        self.executor, self.total = executor, total
        self.since: float | None = None
        self.last_probe = 0.0

    def check(self, left: int) -> None:
        executor = self.executor
        if executor.client.status not in ("running", "connecting"):
            raise InfrastructureError(f"{executor.address}: lost the Dask scheduler; {left} "
                                      "case(s) not triaged, run again when the cluster is back")
        now = time.monotonic()
        if executor.client.status != "running" or now - self.last_probe < PROBE_S:
            return
        self.last_probe = now
        if executor.workers() != 0:
            self.since = None
            return
        if self.since is None:
            self.since = now
            executor.note(f"dask: no worker left on {executor.address}; waiting up to "
                          f"{executor.worker_wait:g} s for one to join")
        elif now - self.since > executor.worker_wait:
            raise InfrastructureError(
                f"{executor.address}: no Dask worker for {executor.worker_wait:g} s; {left} "
                "case(s) not triaged, run again when workers are back")
