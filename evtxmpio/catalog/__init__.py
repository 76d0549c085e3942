"""One home for Windows facts: every stage reads them from here, none writes its own copy.

A leaf package (it imports only ``evtxmpio.errors`` and ``evtxmpio.resources``); the facts live
in YAML files beside this module and ship inside the wheel:

- ``messages.yaml``: message templates of the classic providers (domain reference section 2).
  :func:`message_template`, :func:`fill_template`. normalize renders with them, replay writes
  RenderingInfo with them.
- ``trace.yaml``: the decoded MPIO/MSDSM trace vocabulary and the tracerpt header (section 4.4).
  :func:`trace_events`, :func:`trace_event`, :func:`trace_fields`, :func:`trace_providers`,
  :func:`trace_header`.
- ``windows.yaml``: Windows releases by version and build, and the fixes with their first fixed
  file version per release. :func:`windows_release` (``("6.01.", 7601)`` ->
  ``WindowsRelease("6.1", 7601, "Windows Server 2008 R2 SP1")``), :func:`windows_releases`,
  :func:`fix` (``fix("KB2406705").fixed_version(release)``, ``.applies_to(release)``,
  ``.releases()``), :func:`normalize_version`.
- ``events.yaml``: event-name groups (:func:`event_group`: ``path-failure``, ``failover``,
  ``teardown``, ``delayed-write``, ``io-error``), the disk state a System event implies
  (:func:`disk_state_of`) and the trace events logged with a System event
  (:func:`trace_counterparts`), what a classic event's dump or inserts carry
  (:func:`classic_events`).
- fixed names of the formats: :data:`EVENT_NAMESPACE`, :data:`TRACERPT_CSV_COLUMNS`.
- the FILETIME epoch (:data:`FILETIME_UNIX_EPOCH`, :func:`filetime_to_ns`,
  :func:`ns_to_filetime`).
- ``relevance.yaml``: which records can matter, by provider, event id and content
  (:mod:`evtxmpio.catalog.relevance`: :func:`~evtxmpio.catalog.relevance.relevance`); ingest
  skips the rest before building them.
- the path-flapping threshold, read from the shipped rule ``mpio-path-flapping``
  (:func:`flapping_threshold`).
"""

from __future__ import annotations

from evtxmpio.catalog.events import (
    GROUPS,
    classic_events,
    disk_state_of,
    event_group,
    trace_counterparts,
)
from evtxmpio.catalog.flapping import FlappingThreshold, flapping_threshold
from evtxmpio.catalog.messages import (
    fill_template,
    message_providers,
    message_template,
    template_inserts,
)
from evtxmpio.catalog.schema import EVENT_NAMESPACE, TRACERPT_CSV_COLUMNS, field_int
from evtxmpio.catalog.timebase import FILETIME_UNIX_EPOCH, filetime_to_ns, ns_to_filetime
from evtxmpio.catalog.trace import (
    TraceEventType,
    trace_event,
    trace_events,
    trace_fields,
    trace_header,
    trace_providers,
)
from evtxmpio.catalog.windows import (
    Fix,
    WindowsRelease,
    fix,
    normalize_version,
    windows_release,
    windows_releases,
)

__all__ = [
    "EVENT_NAMESPACE",
    "FILETIME_UNIX_EPOCH",
    "GROUPS",
    "TRACERPT_CSV_COLUMNS",
    "Fix",
    "FlappingThreshold",
    "TraceEventType",
    "WindowsRelease",
    "classic_events",
    "disk_state_of",
    "event_group",
    "field_int",
    "filetime_to_ns",
    "fill_template",
    "fix",
    "flapping_threshold",
    "message_providers",
    "message_template",
    "normalize_version",
    "ns_to_filetime",
    "template_inserts",
    "trace_counterparts",
    "trace_event",
    "trace_events",
    "trace_fields",
    "trace_header",
    "trace_providers",
    "windows_release",
    "windows_releases",
]
