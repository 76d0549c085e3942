"""Where cases run: a local pool of isolated processes, or an existing Dask cluster.

Both run :func:`evtxmpio.triage.runner.run_isolated`, so a case gives the same outcome either
way. Locally, ``workers`` dispatcher threads each drive one warm analyzer process. On Dask,
each worker thread drives its own analyzer process the same way; the timeout is enforced on
the worker, so a hung case costs its timeout and never keeps a Dask worker busy, and a
crashing case kills only its analyzer process, not the Dask worker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any, Protocol

from evtxmpio.errors import Error
from evtxmpio.triage.outcome import CaseOutcome, CaseSpec, failed
from evtxmpio.triage.runner import CHILD_MODULE, CRASH_REASON, close_runners, run_isolated

if TYPE_CHECKING:
    import distributed

CONNECT_TIMEOUT_S = 30.0


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
    """:func:`run_isolated`, with a failure to start an analyzer process recorded as a crash."""
    try:
        return run_isolated(spec, timeout, child_module)
    except (OSError, RuntimeError) as exc:
        return failed(spec, CRASH_REASON, f"{type(exc).__name__}: {exc}")


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
    """An existing Dask distributed cluster (every worker needs evtxmpio and the inbox path)."""

    name = "dask"

    def __init__(self, address: str, connect_timeout: float | None = None,
                 child_module: str = CHILD_MODULE) -> None:
        self.child_module = child_module
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise Error("--scheduler needs the 'distributed' package") from exc
        try:
            self.client: distributed.Client = Client(
                address, timeout=connect_timeout or CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise Error(f"{address}: cannot reach the Dask scheduler: {exc}") from exc

    def run(self, specs: Sequence[CaseSpec], timeout: float) -> Iterator[CaseOutcome]:
        """Outcomes of ``specs`` in completion order."""
        from distributed import as_completed

        by_key: dict[str, CaseSpec] = {}
        futures: list[Any] = []
        for spec in specs:
            future = self.client.submit(run_on_dask_worker, spec, timeout, self.child_module,
                                        pure=False)
            by_key[future.key] = spec
            futures.append(future)
        try:
            for future in as_completed(futures):
                yield self._outcome(future, by_key[future.key])
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    @staticmethod
    def _outcome(future: Any, spec: CaseSpec) -> CaseOutcome:
        try:
            return future.result()
        except Exception as exc:  # a lost worker, KilledWorker ...
            return failed(spec, CRASH_REASON, f"dask: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()
