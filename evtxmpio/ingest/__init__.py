"""Ingest: bytes and text of every input format -> :class:`RawRecord` | :class:`IngestIssue`.

Each format module registers itself; they are imported here explicitly so that the registry
is complete whenever ``evtxmpio.ingest`` is imported.
"""

from __future__ import annotations

from evtxmpio.ingest import eventxml, evtx  # noqa: F401  (registration)
from evtxmpio.ingest.base import (
    FileAccount,
    IngestIssue,
    InputFormat,
    Source,
    formats,
    register,
    sniff_format,
)
from evtxmpio.ingest.collect import IngestResult, ingest_paths

__all__ = [
    "FileAccount",
    "IngestIssue",
    "IngestResult",
    "InputFormat",
    "Source",
    "formats",
    "ingest_paths",
    "register",
    "sniff_format",
]
