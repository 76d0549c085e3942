"""Ingest: bytes and text of every input format -> :class:`RawRecord` | :class:`IngestIssue`.

Each format module registers itself; they are imported here explicitly so that the registry
is complete whenever ``evtxmpio.ingest`` is imported.
"""

from __future__ import annotations

from evtxmpio.ingest import csv_export, eventxml, evtx, tracerpt  # noqa: F401  (registration)
from evtxmpio.ingest.archive import ArchiveLimits
from evtxmpio.ingest.base import (
    FileAccount,
    IngestIssue,
    InputFormat,
    ReadOptions,
    SkippedRecords,
    Source,
    formats,
    register,
    sniff_format,
)
from evtxmpio.ingest.collect import IngestResult, ingest_paths, make_options, read_source
from evtxmpio.ingest.evtx import BACKENDS, resolve_backend
from evtxmpio.ingest.health import HealthLedger

__all__ = [
    "BACKENDS",
    "ArchiveLimits",
    "FileAccount",
    "HealthLedger",
    "IngestIssue",
    "IngestResult",
    "InputFormat",
    "ReadOptions",
    "SkippedRecords",
    "Source",
    "formats",
    "ingest_paths",
    "make_options",
    "read_source",
    "register",
    "resolve_backend",
    "sniff_format",
]
