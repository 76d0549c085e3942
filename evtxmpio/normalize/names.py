"""The ``name`` column: one event vocabulary for rules, timelines and reports, set once.

System events are ``provider:event_id`` with the provider lower-cased (``mpio:16``,
``application popup:26``); trace events are ``PROVIDER:SymbolicName`` by the catalogue's trace
vocabulary (``MPIO:FailoverStart``), or ``PROVIDER:event_id`` for an id it does not know. A
damaged record without an event id is ``provider:None``.
"""

from __future__ import annotations

import pandas as pd

from evtxmpio.catalog import trace_events
from evtxmpio.normalize.columns import int64_array


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


class BatchNames:
    """The ``name`` column of batches of events, each distinct provider, event id and kind
    named once by :func:`event_names` (it names each row by those three alone); at most
    ``limit`` names remembered at a time."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._names: dict[tuple[object, object, object], str] = {}

    def names(self, providers: list[str], event_ids: list[int | None], kinds: list[str]
              ) -> list[str]:
        """The names of the rows of a batch, given its columns as plain values."""
        if providers and all(column.count(column[0]) == len(column)
                             for column in (providers, event_ids, kinds)):  # one event
            return [self._named([(providers[0], event_ids[0], kinds[0])])[0]] * len(providers)
        keys = list(zip(providers, event_ids, kinds, strict=True))
        distinct = list(dict.fromkeys(keys))
        named = dict(zip(distinct, self._named(distinct), strict=True))
        return list(map(named.__getitem__, keys))

    def _named(self, keys: list[tuple[object, object, object]]) -> list[str]:
        if len(self._names) + len(keys) > self.limit:
            self._names = {}
        missing = [key for key in keys if key not in self._names]
        if missing:
            providers, event_ids, kinds = zip(*missing, strict=True)
            frame = pd.DataFrame({"provider": pd.array(providers, dtype="string"),
                                  "event_id": int64_array(list(event_ids)),  # as in the frame
                                  "kind": pd.array(kinds, dtype="category")})
            self._names.update(zip(missing, event_names(frame).tolist(), strict=True))
        return [self._names[key] for key in keys]
