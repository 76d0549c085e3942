"""The case database: one embedded DuckDB file.

Every table except ``case_runs`` depends only on the cases' content, so a local run and a Dask
run of the same inbox give identical tables; ``case_runs`` holds what depends on the run (when,
how long, which worker, executor detail). A case's rows are replaced in one transaction as its
result arrives, so an interrupted run leaves only whole cases and resumes without duplicates.
The schema is documented in ``evtxmpio/triage/README.md``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import duckdb

from evtxmpio.errors import Error
from evtxmpio.pathtext import path_text
from evtxmpio.report.visible import show_hidden_line
from evtxmpio.triage.outcome import CaseOutcome, Row, one_line

SCHEMA: dict[str, str] = {
    "cases": """
        case_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, content_hash VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, status VARCHAR NOT NULL, failure_reason VARCHAR,
        verdict VARCHAR, confidence DOUBLE, verdict_reasons VARCHAR[], max_severity VARCHAR,
        hosts VARCHAR[], first_event TIMESTAMP_NS, last_event TIMESTAMP_NS,
        events_count BIGINT, findings_count BIGINT, delayed_write_count BIGINT,
        data_loss BOOLEAN, files_count BIGINT, records_read BIGINT, records_skipped BIGINT,
        input_problems BIGINT, generator VARCHAR""",
    "findings": """
        case_id VARCHAR NOT NULL, finding_no INTEGER NOT NULL, rule VARCHAR NOT NULL,
        title VARCHAR, severity VARCHAR, host VARCHAR, mpio_disk BIGINT, path_id VARCHAR,
        start_time TIMESTAMP_NS, end_time TIMESTAMP_NS, evidence_count INTEGER,
        PRIMARY KEY (case_id, finding_no)""",
    "evidence": """
        case_id VARCHAR NOT NULL, owner VARCHAR NOT NULL, owner_no INTEGER NOT NULL,
        evidence_no INTEGER NOT NULL, file VARCHAR, record_id BIGINT,
        PRIMARY KEY (case_id, owner, owner_no, evidence_no)""",
    "delayed_write_failures": """
        case_id VARCHAR NOT NULL, failure_no INTEGER NOT NULL, time TIMESTAMP_NS,
        host VARCHAR, file VARCHAR, volume VARCHAR, evidence_count INTEGER,
        PRIMARY KEY (case_id, failure_no)""",
    "ingest": """
        case_id VARCHAR NOT NULL, file_no INTEGER NOT NULL, file VARCHAR, format VARCHAR,
        records_read BIGINT, records_used BIGINT, records_skipped BIGINT,
        records_recovered BIGINT, chunks_damaged BIGINT, duplicates_removed BIGINT,
        truncated BOOLEAN, errors VARCHAR[], skip_reasons VARCHAR,
        PRIMARY KEY (case_id, file_no)""",
    "impact": """
        case_id VARCHAR NOT NULL, impact_no INTEGER NOT NULL, host VARCHAR, kind VARCHAR,
        name VARCHAR, time TIMESTAMP_NS, file VARCHAR, record_id BIGINT, node VARCHAR,
        attributed BOOLEAN, attributed_host VARCHAR, mpio_disk BIGINT, finding VARCHAR,
        reason VARCHAR, sentence VARCHAR, PRIMARY KEY (case_id, impact_no)""",
    "case_runs": """
        case_id VARCHAR PRIMARY KEY, executor VARCHAR, worker VARCHAR,
        started_at TIMESTAMPTZ, duration_s DOUBLE, detail VARCHAR""",
}
# Tables whose contents depend only on the inbox (compared between local and Dask runs).
CONTENT_TABLES = ("cases", "findings", "evidence", "delayed_write_failures", "ingest",
                  "impact")
ORDER = {"cases": "case_id", "findings": "case_id, finding_no",
         "evidence": "case_id, owner, owner_no, evidence_no",
         "delayed_write_failures": "case_id, failure_no", "ingest": "case_id, file_no",
         "impact": "case_id, impact_no",
         "case_runs": "case_id"}


def _storable(value: Any) -> Any:
    """``value`` with every string valid UTF-8: a file name that is not UTF-8 (surrogate
    escapes) is stored escaped (``\\xff``), as :func:`evtxmpio.pathtext.path_text` shows it."""
    if isinstance(value, str):
        return path_text(value)
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


class StoreError(Error):
    """The case database cannot be opened or written."""


class CaseStore:
    """The case database file, opened for one triage run."""

    def __init__(self, path: Path) -> None:
        try:
            self.connection = duckdb.connect(str(path))
            for table, columns in SCHEMA.items():
                self.connection.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        except duckdb.Error as exc:
            raise StoreError(f"{path}: cannot open the case database: {one_line(str(exc))}"
                             ) from exc
        self.path = path

    def ok_hashes(self) -> set[str]:
        """Content hashes of the cases recorded ``ok``."""
        return self.known_hashes(include_failed=False)

    def known_hashes(self, include_failed: bool = True) -> set[str]:
        """Content hashes already in the database (``ok`` only unless ``include_failed``)."""
        where = "" if include_failed else " WHERE status = 'ok'"
        rows = self.connection.execute(f"SELECT content_hash FROM cases{where}").fetchall()
        return {row[0] for row in rows}

    def _insert(self, table: str, case_id: str, rows: list[Row]) -> None:
        if not rows:
            return
        columns = ["case_id", *rows[0]]
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            [[case_id, *map(_storable, row.values())] for row in rows])

    def write(self, outcome: CaseOutcome, executor: str) -> None:
        """Replace the case's rows in every table, in one transaction."""
        spec = outcome.spec
        case = {"name": spec.name, "content_hash": spec.content_hash, "kind": spec.kind,
                "status": outcome.status, "failure_reason": outcome.failure_reason,
                **(outcome.tables.get("cases") or [{}])[0]}
        run = {"executor": executor, "worker": outcome.worker, "started_at": outcome.started_at,
               "duration_s": outcome.duration_s, "detail": outcome.detail}
        connection = self.connection
        try:
            connection.execute("BEGIN TRANSACTION")
            for table in SCHEMA:
                connection.execute(f"DELETE FROM {table} WHERE case_id = ?", [spec.case_id])
            self._insert("cases", spec.case_id, [case])
            for table in CONTENT_TABLES[1:]:
                self._insert(table, spec.case_id, outcome.tables.get(table, []))
            self._insert("case_runs", spec.case_id, [run])
            connection.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has no transaction left
                connection.execute("ROLLBACK")
            raise StoreError(f"{self.path}: cannot write case "
                             f"{show_hidden_line(path_text(spec.name))}: "
                             f"{one_line(str(exc))}") from exc

    def query(self, sql: str, parameters: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows of ``sql`` as dicts."""
        cursor = self.connection.execute(sql, parameters or [])
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """Close the database file (a database broken by a failed write closes quietly)."""
        with contextlib.suppress(duckdb.Error):
            self.connection.close()


def dump_tables(path: Path, tables: tuple[str, ...] = CONTENT_TABLES) -> dict[str, list[tuple]]:
    """Every row of ``tables`` in key order (to compare two databases)."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY {ORDER[table]}")
                .fetchall() for table in tables}
    finally:
        connection.close()
