"""Triage on a real Dask cluster (a scheduler and two worker processes on loopback) gives the
same database as a local run, with the broken, hanging and crashing cases isolated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

import evtxmpio.cli.triage  # noqa: F401  (registers the command)
from evtxmpio.cli import app
from evtxmpio.triage import TriageOptions, dump_tables, run_triage
from evtxmpio.triage.executors import DaskExecutor, LocalExecutor
from evtxmpio.triage.store import CONTENT_TABLES
from tests.triage.conftest import build_inbox, race_variant
from tests.triage.faulty_child import CHILD
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
    assert (summary.ran, summary.failed) == (10, 3)
    local, cluster = dump_tables(local_db), dump_tables(cluster_db)
    assert all(local[table] for table in CONTENT_TABLES)
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
