"""Failover Clustering events (``cluster.yaml``): what each one cost, and which inserts it carries.

Sources and certainty: ``docs/failover-clustering.md``. normalize fills typed columns from the
inserts (:func:`cluster_event`), the relevance table keeps these ids only, detect names the
impact kinds, replay writes the same templates, levels and channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from evtxmpio.catalog._load import fail, load

COLUMNS = frozenset({"volume", "device", "trigger", "target", "disk_number", "status"})
"""Event-frame columns an insert can fill."""
ROLES = frozenset({"chain", "context", "cluster-name", "network"})
"""Kinds of kept events that cost nothing themselves."""


@dataclass(frozen=True, slots=True)
class ClusterEvent:
    """One FailoverClustering event id.

    Attributes:
        event_id: the EventID.
        kind: an impact kind (``csv-paused`` ...) or a role from :data:`ROLES`.
        inserts: the column each insert fills, in order (``None``: not read).
        short_inserts: the same for the shorter form of the event (1641 without a source node).
        names: the ``<Data Name>`` Windows is expected to write (inferred; replay writes them).
        level: the level Windows logs it at.
        channel: ``System`` or ``Operational``.
        template: the message, ``%N`` for the N-th insert.
    """

    event_id: int
    kind: str
    inserts: tuple[str | None, ...]
    short_inserts: tuple[str | None, ...]
    names: tuple[str, ...]
    level: int
    channel: str
    template: str

    @property
    def is_impact(self) -> bool:
        """Whether the event says what an incident cost (not a chain or context event)."""
        return self.kind not in ROLES

    def columns(self, values: list[str]) -> dict[str, str]:
        """Column -> insert text of a record with ``values`` (empty inserts skipped)."""
        layout = self.short_inserts if self.short_inserts and len(values) == len(
            self.short_inserts) else self.inserts
        return {column: value.strip() for column, value in zip(layout, values, strict=False)
                if column is not None and value and value.strip()}


def provider_name() -> str:
    """The provider as Windows logs it (``Microsoft-Windows-FailoverClustering``)."""
    return str(load("cluster")["provider"])


def short_name(host: str) -> str:
    """A computer name compared as a cluster node name: up to the first dot, case-folded."""
    return host.split(".", 1)[0].casefold()


def provider_guid() -> str:
    """The provider GUID, braces and upper case."""
    return str(load("cluster")["guid"])


def operational_channel() -> str:
    """The name of the provider's Operational channel."""
    return str(load("cluster")["operational-channel"])


@cache
def impact_kinds() -> tuple[str, ...]:
    """The impact kinds in catalogue order (``csv-paused``, ``csv-inaccessible`` ...)."""
    kinds = load("cluster")["kinds"]
    if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
        raise fail("cluster", "kinds must be a list of names")
    return tuple(kinds)


@cache
def cluster_events() -> Mapping[int, ClusterEvent]:
    """Event id -> :class:`ClusterEvent`, for every id of ``cluster.yaml``.

    Raises:
        Error: the file is malformed (a broken installation).
    """
    kinds = set(impact_kinds()) | ROLES
    table: dict[int, ClusterEvent] = {}
    for event_id, entry in load("cluster")["events"].items():
        table[int(event_id)] = _event(int(event_id), entry, kinds)
    return MappingProxyType(table)


def cluster_event(event_id: int | None) -> ClusterEvent | None:
    """The catalogue entry of ``event_id``; ``None`` for an id the catalogue does not hold."""
    return cluster_events().get(event_id) if event_id is not None else None


def cluster_templates() -> dict[int, str]:
    """Event id -> message template (for normalize's rendering and replay's RenderingInfo)."""
    return {event_id: event.template for event_id, event in cluster_events().items()}


def _event(event_id: int, entry: object, kinds: set[str]) -> ClusterEvent:
    if not isinstance(entry, dict):
        raise fail("cluster", f"event {event_id}: must be a mapping")
    kind = entry.get("kind")
    inserts = tuple(entry.get("inserts") or ())
    short = tuple(entry.get("short-inserts") or ())
    if kind not in kinds:
        raise fail("cluster", f"event {event_id}: unknown kind {kind!r}")
    if any(column is not None and column not in COLUMNS for column in (*inserts, *short)):
        raise fail("cluster", f"event {event_id}: inserts name a column outside "
                              f"{sorted(COLUMNS)}")
    if not isinstance(entry.get("level"), int) or not isinstance(entry.get("template"), str):
        raise fail("cluster", f"event {event_id}: needs an integer level and a template")
    if entry.get("channel") not in ("System", "Operational"):
        raise fail("cluster", f"event {event_id}: channel must be System or Operational")
    return ClusterEvent(event_id, str(kind), inserts, short,
                        tuple(map(str, entry.get("names") or ())), int(entry["level"]),
                        str(entry["channel"]), str(entry["template"]))
