"""Triage: many cases at once, locally or on a Dask cluster, into a DuckDB case database.

``run_triage(TriageOptions(inbox, db, ...), reporter)`` finds the cases of an inbox (folders,
``.zip`` archives, gzip'd files), skips those whose content hash the database already holds,
analyzes the rest in isolated processes (:mod:`evtxmpio.triage.supervisor`) on this machine or on
Dask workers, and writes each case's rows in one transaction as it ends. See ``README.md`` in
this folder for the database schema.
"""

from __future__ import annotations

from evtxmpio.triage.batch import TriageOptions, TriageSummary, run_triage
from evtxmpio.triage.progress import make_reporter
from evtxmpio.triage.store import CONTENT_TABLES, CaseStore, dump_tables

__all__ = ["CONTENT_TABLES", "CaseStore", "TriageOptions", "TriageSummary", "dump_tables",
           "make_reporter", "run_triage"]
