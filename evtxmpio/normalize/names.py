"""The ``name`` column: one event vocabulary for rules, timelines and reports, set once.

System events are ``provider:event_id`` with the provider lower-cased (``mpio:16``,
``application popup:26``); trace events are ``PROVIDER:SymbolicName`` by the catalogue's trace
vocabulary (``MPIO:FailoverStart``), or ``PROVIDER:event_id`` for an id it does not know. A
damaged record without an event id is ``provider:None``.
"""

from __future__ import annotations

import pandas as pd

from evtxmpio.catalog import trace_events


def event_names(frame: pd.DataFrame) -> pd.Series:
    """``name`` of every row of a frame with ``provider``, ``event_id`` and ``kind``."""
    ids = frame["event_id"].astype("string").fillna("None")
    trace = frame["kind"].astype("string").str.startswith("etw:").fillna(False).astype(bool)
    by_id = {str(event.event_id): name for name, event in trace_events().items()}
    symbolic = ids.map(lambda text: by_id.get(text, text)) if trace.any() else ids
    provider = frame["provider"].astype("string").fillna("")
    what = ids.where(~trace, symbolic)
    provider = provider.where(trace, provider.str.lower())
    return (provider + ":" + what).astype("string").rename("name")


def add_names(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``name`` column (see the module docstring)."""
    return frame.assign(name=event_names(frame))
