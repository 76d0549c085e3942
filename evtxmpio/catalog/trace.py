"""The decoded MPIO/MSDSM trace vocabulary and the tracerpt trace header (``trace.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from evtxmpio.catalog._load import fail, load


@dataclass(frozen=True, slots=True)
class TraceEventType:
    """One trace event of domain reference section 4.4.

    Attributes:
        name: the symbolic name (``FailoverStart``), also the event's ``Task`` in XML exports.
        provider: ``MPIO`` or ``MSDSM``.
        event_id: the event id (unique across both providers).
        fields: the payload field names, in payload order.
    """

    name: str
    provider: str
    event_id: int
    fields: tuple[str, ...]


@cache
def trace_events() -> dict[str, TraceEventType]:
    """Every trace event, by name."""
    events = {}
    for name, entry in load("trace")["events"].items():
        try:
            provider, event_id, fields = entry
            events[name] = TraceEventType(str(name), str(provider), int(event_id),
                                          tuple(map(str, fields)))
        except (TypeError, ValueError) as exc:
            raise fail("trace", f"event {name!r}: expected [provider, id, [fields]]") from exc
    if len({e.event_id for e in events.values()}) != len(events):
        raise fail("trace", "event ids must be unique across providers")
    return events


@cache
def _by_id() -> dict[int, TraceEventType]:
    return {event.event_id: event for event in trace_events().values()}


def trace_event(event_id: int) -> TraceEventType | None:
    """The trace event with ``event_id``, if the vocabulary has it."""
    return _by_id().get(event_id)


def trace_fields(provider: str, name: str) -> tuple[str, ...]:
    """Field names of event ``name`` of ``provider`` (case-insensitive); ``()`` if unknown."""
    event = trace_events().get(name)
    return event.fields if event and event.provider.lower() == provider.lower() else ()


def trace_providers() -> dict[str, str]:
    """Trace provider name -> GUID (``{...}``, lower case)."""
    return {str(k): str(v).lower() for k, v in load("trace")["providers"].items()}


def trace_header() -> tuple[str, str]:
    """(provider name, GUID) of the tracerpt trace header event (``EventTrace``)."""
    header = load("trace")["header"]
    return str(header["provider"]), str(header["guid"]).lower()
