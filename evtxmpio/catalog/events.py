"""What events mean to the timeline, detectors and report, by analysis-frame name (``events.yaml``).

Names are spelt as the analysis frame's ``name`` column: ``mpio:16`` (System events, provider in
lower case), ``MPIO:FailoverStart`` (trace events).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

from evtxmpio.catalog._load import fail, load

GROUPS = ("path-failure", "failover", "teardown", "delayed-write", "io-error")


@cache
def event_group(group: str) -> frozenset[str]:
    """The event names of ``group`` (one of :data:`GROUPS`).

    Raises:
        KeyError: an unknown group.
    """
    if group not in GROUPS:
        raise KeyError(f"unknown event group {group!r} (known: {', '.join(GROUPS)})")
    names = load("events")["groups"].get(group)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise fail("events", f"group {group!r} must be a list of event names")
    return frozenset(names)


@cache
def disk_state_of() -> Mapping[str, str]:
    """System event name -> the MPIO disk state it implies (``mpio:17`` -> ``DEGRADED``)."""
    return MappingProxyType({str(k): str(v) for k, v in load("events")["disk-states"].items()})


@cache
def classic_events(provider: str, carries: str) -> frozenset[int]:
    """Event ids of a classic ``provider`` whose dump or inserts carry ``carries``.

    ``("mpio", "path-id-in-dump")`` -> ``{16, 18, 19, 25, 33}``; see ``events.yaml``.

    Raises:
        KeyError: the catalogue names no such provider or field.
    """
    ids = load("events")["classic-fields"][provider.lower()][carries]
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise fail("events", f"classic-fields {provider}.{carries} must be a list of ids")
    return frozenset(ids)


@cache
def trace_counterparts() -> Mapping[str, tuple[str, ...]]:
    """System event name -> the trace events logged with it at the same moment."""
    return MappingProxyType({str(k): tuple(map(str, v))
                             for k, v in load("events")["trace-counterparts"].items()})
