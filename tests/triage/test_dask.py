"""Triage on a real Dask cluster (a scheduler and two worker processes on loopback) gives the
same database as a local run, with the broken, hanging and crashing cases isolated; a lost
scheduler or the last worker gone stops the run without recording a case as failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

import evtxmpio.cli.triage  # noqa: F401  (registers the command)
from evtxmpio.cli import app
from evtxmpio.triage import TriageOptions, dump_tables, run_triage
from evtxmpio.triage.dispatch import DaskExecutor, InfrastructureError, LocalExecutor
from evtxmpio.triage.store import CONTENT_TABLES
from tests.triage.conftest import ROOT, build_inbox, race_variant
from tests.triage.faulty_child import CHILD, PID_MARKER, hold_file
from tests.triage.test_faults import PATIENCE_S
from tests.triage.test_local import TIMEOUT_S, Collect


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """The address of a two-worker cluster."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield cluster.scheduler_address


def test_cluster_and_local_runs_give_identical_databases(tmp_path: Path, scheduler: str
                                                         ) -> None:
    inbox = build_inbox(tmp_path, hang=True, crash=True)
    local_db, cluster_db = tmp_path / "local.duckdb", tmp_path / "cluster.duckdb"
    run_triage(TriageOptions(inbox, local_db, workers=2, case_timeout=TIMEOUT_S), Collect(),
               LocalExecutor(2, child_module=CHILD))
    options = TriageOptions(inbox, cluster_db, scheduler=scheduler, case_timeout=TIMEOUT_S)
    summary = run_triage(options, Collect(), DaskExecutor(scheduler, child_module=CHILD))
    assert (summary.ran, summary.failed) == (11, 3)
    local, cluster = dump_tables(local_db), dump_tables(cluster_db)
    # No case of this inbox is a cluster: its impact table stays empty (tests/cluster fills it).
    assert all(local[table] for table in CONTENT_TABLES if table != "impact")
    assert local == cluster
    with duckdb.connect(str(cluster_db), read_only=True) as connection:
        runs = connection.execute("SELECT DISTINCT executor FROM case_runs").fetchall()
        failed = dict(connection.execute(
            "SELECT name, failure_reason FROM cases WHERE status = 'failed'").fetchall())
    assert runs == [("dask",)]
    assert failed["hanging"].startswith("timeout:") and failed["crashing"].startswith("crashed:")


def test_cli_triage_on_the_cluster(tmp_path: Path, scheduler: str) -> None:
    inbox = tmp_path / "inbox"
    for number in (1, 2, 3):
        race_variant(inbox / f"race-{number}", number)
    db, reports = tmp_path / "cases.duckdb", tmp_path / "reports"
    arguments = ["triage", str(inbox), "--db", str(db), "--scheduler", scheduler,
                 "--reports", str(reports)]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert "3 case(s) found, 0 already known, 3 triaged (0 failed)" in result.output
    assert "kb2406705-race 3" in result.output and (reports / "index.html").is_file()
    again = CliRunner().invoke(app, arguments)
    assert "3 already known, 0 triaged" in again.output


class Cluster:
    """A Dask scheduler and workers as separate processes on 127.0.0.1 (killable by PID)."""

    def __init__(self, folder: Path, workers: int = 1) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.log = (folder / "cluster.log").open("wb")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        self.scheduler = subprocess.Popen(
            [*dask, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=self.log, stderr=self.log, env=env)
        self.workers = [subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads",
             "2", "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=self.log, stderr=self.log, env=env) for _ in range(workers)]
        with Client(self.address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=120)

    def close(self) -> None:
        for process in (self.scheduler, *self.workers):
            process.kill()
            process.wait()
        self.log.close()


def _held_inbox(tmp_path: Path) -> tuple[Path, Path]:
    """An inbox of two quick cases and one that waits while ``<pid file>.hold`` exists."""
    inbox, pid_file = tmp_path / "inbox", tmp_path / "held.pid"
    for number in (1, 2):
        race_variant(inbox / f"race-{number}", number)
    (race_variant(inbox / "held", 3) / PID_MARKER).write_text(str(pid_file))
    hold_file(pid_file).touch()
    return inbox, pid_file


def _wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"gave up waiting {PATIENCE_S:g} s for {path}"
        time.sleep(0.1)


def _kill_when_started(pid_file: Path, process: subprocess.Popen) -> threading.Thread:
    def kill() -> None:
        _wait_for_file(pid_file)
        process.kill()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def _statuses(db: Path) -> dict[str, str]:
    if not db.exists():
        return {}
    with duckdb.connect(str(db), read_only=True) as connection:
        return dict(connection.execute("SELECT name, status FROM cases").fetchall())


def test_a_lost_scheduler_stops_the_run_and_the_rerun_picks_the_cases_up(tmp_path: Path
                                                                         ) -> None:
    inbox, pid_file = _held_inbox(tmp_path)
    db = tmp_path / "cases.duckdb"
    cluster = Cluster(tmp_path)
    try:
        killer = _kill_when_started(pid_file, cluster.scheduler)
        options = TriageOptions(inbox, db, scheduler=cluster.address, case_timeout=3600)
        with pytest.raises(InfrastructureError) as raised:
            run_triage(options, Collect(), DaskExecutor(cluster.address, child_module=CHILD))
        killer.join()
    finally:
        cluster.close()
    message = str(raised.value)
    assert message.startswith(f"{cluster.address}: lost the Dask scheduler")
    assert "not triaged, run again" in message and "\n" not in message
    before = _statuses(db)
    assert "held" not in before and set(before.values()) <= {"ok"}  # nothing stored failed
    hold_file(pid_file).unlink()
    cluster = Cluster(tmp_path)
    try:
        options = TriageOptions(inbox, db, scheduler=cluster.address, case_timeout=3600)
        summary = run_triage(options, Collect(),
                             DaskExecutor(cluster.address, child_module=CHILD))
    finally:
        cluster.close()
    assert (summary.skipped, summary.ran, summary.failed) == (len(before), 3 - len(before), 0)
    assert _statuses(db) == {"race-1": "ok", "race-2": "ok", "held": "ok"}


class Notes(Collect):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)


def test_the_last_worker_gone_is_said_and_the_run_gives_up_after_worker_wait(
        tmp_path: Path) -> None:
    inbox, pid_file = _held_inbox(tmp_path)
    db = tmp_path / "cases.duckdb"
    cluster = Cluster(tmp_path)
    reporter = Notes()
    try:
        killer = _kill_when_started(pid_file, cluster.workers[0])
        options = TriageOptions(inbox, db, scheduler=cluster.address, case_timeout=3600)
        executor = DaskExecutor(cluster.address, child_module=CHILD, worker_wait=2.0,
                                note=reporter.note)
        with pytest.raises(InfrastructureError) as raised:
            run_triage(options, reporter, executor)
        killer.join()
        analyzer = int(pid_file.read_text())
    finally:
        cluster.close()
    assert str(raised.value).startswith(f"{cluster.address}: no Dask worker for 2 s; ")
    assert reporter.notes == [f"dask: no worker left on {cluster.address}; waiting up to 2 s "
                              "for one to join"]
    assert "held" not in _statuses(db) and set(_statuses(db).values()) <= {"ok"}
    deadline = time.monotonic() + PATIENCE_S
    while Path(f"/proc/{analyzer}").exists() and not _zombie(analyzer):
        assert time.monotonic() < deadline, "the analyzer outlived its Dask worker"
        time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True
