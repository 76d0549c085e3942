"""Windows Event XML exports.

Spec: the event schema http://schemas.microsoft.com/win/2004/08/events/event; shapes from
domain reference section 5: Event Viewer "Save as XML" (``<?xml?>`` + ``<Events>`` root) and
``wevtutil qe /f:xml`` (bare ``<Event>`` elements back to back, no root, any quote style,
UTF-8 or UTF-16 with BOM). Read by :mod:`evtxmpio.ingest.event_stream`: one record per
well-formed ``<Event>``, a malformed event costs that event; see there for what hostile markup
does (nothing). Undecodable bytes (invalid UTF-8 or UTF-16, lone surrogates) become U+FFFD and
are counted in an issue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from evtxmpio.catalog import EVENT_NAMESPACE
from evtxmpio.ingest.base import (
    IngestIssue,
    InputFormat,
    ReadOptions,
    SkippedRecords,
    Source,
    register,
)
from evtxmpio.ingest.decode import head_text
from evtxmpio.ingest.event_stream import DECLARATION, read_event_stream
from evtxmpio.model import RawRecord

_NAMESPACED_EVENT = re.compile(r"<Event\s+xmlns\s*=\s*[\"']" + re.escape(EVENT_NAMESPACE))


def sniff_event_xml(head: bytes) -> bool:
    """An XML document or fragment whose first element is ``Events`` or ``Event``, or any
    text holding an ``<Event xmlns=`` of the event schema (a damaged start stays readable)."""
    text = DECLARATION.sub("", head_text(head), count=1).lstrip()
    while text.startswith("<!--"):
        text = text.partition("-->")[2].lstrip()
    if text.startswith("<!DOCTYPE") and ("<Event" in text or "Events" in text[:200]):
        return True  # hostile or odd: the reader skips the DTD and says so
    if text.startswith(("<Events", "<Event ", "<Event>")):
        return True
    return _NAMESPACED_EVENT.search(text) is not None


def read_event_xml(source: Source, options: ReadOptions | None = None
                   ) -> Iterator[RawRecord | IngestIssue | SkippedRecords]:
    """One :class:`RawRecord` per well-formed ``<Event>`` of an Event XML export, issues for
    the rest."""
    return read_event_stream(source, options, reader="event-xml", kind="system:xml:event")


register(InputFormat("event-xml", sniff=sniff_event_xml, read=read_event_xml, priority=60,
                     accepts_options=True))
