"""Event XML exports of a System log, as customers send them (domain reference section 5).

Two styles:

* ``wevtutil`` -- what ``wevtutil qe System /f:xml`` prints: no XML declaration, no root,
  ``<Event xmlns='...'>`` elements concatenated back-to-back on one line each, single-quoted
  attributes, ``<Binary>`` as upper-case hex, ``SystemTime`` in UTC with 9 fractional digits;
* ``eventviewer`` -- Event Viewer "Save Selected Events... (XML)": an XML declaration, an
  ``<Events>`` root, double-quoted attributes and a ``RenderingInfo Culture='en-US'`` per event
  (Message, Level, Task, Opcode, Channel, Provider, Keywords).

The ``System`` element holds the same children, in the same order, as the .evtx writer's
templates (Provider, EventID, Version, Level, Task, Opcode, Keywords, TimeCreated,
EventRecordID, Execution, Channel, Computer, Security), so one log exported both ways reads the
same. Writers stream: one event is rendered and written at a time.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from evtxmpio.catalog import EVENT_NAMESPACE
from evtxmpio.replay.messages import LEVEL_NAMES, keyword_names, render_message

if TYPE_CHECKING:
    from collections.abc import Iterable

    from evtxmpio.replay.events import SystemEvent

STYLES = ("wevtutil", "eventviewer")


def system_time(time_ns: int, digits: int = 9) -> str:
    """Render Unix-epoch ns as ``YYYY-MM-DDTHH:MM:SS.fffffffffZ`` (UTC)."""
    seconds, rest = divmod(time_ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}"[: 20 + digits] + "Z"


def escape_text(text: str) -> str:
    """Escape character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(text: str, quote: str) -> str:
    """Escape an attribute value for the given quote character."""
    text = escape_text(text)
    return text.replace("'", "&apos;") if quote == "'" else text.replace('"', "&quot;")


def render_event(event: SystemEvent, style: str = "wevtutil") -> str:
    """Return one ``<Event>`` element of ``event`` in the given export style."""
    q = "'" if style == "wevtutil" else '"'

    def attr(name: str, value: str) -> str:
        return f" {name}={q}{escape_attribute(value, q)}{q}"

    parts = [f"<Event{attr('xmlns', EVENT_NAMESPACE)}><System>", _provider(event, attr)]
    qualifiers = "" if event.qualifiers is None else attr("Qualifiers", str(event.qualifiers))
    parts.append(f"<EventID{qualifiers}>{event.event_id}</EventID>")
    if event.version is not None:
        parts.append(f"<Version>{event.version}</Version>")
    parts.append(f"<Level>{event.level}</Level><Task>{event.task}</Task>")
    if event.opcode is not None:
        parts.append(f"<Opcode>{event.opcode}</Opcode>")
    parts.append(f"<Keywords>0x{event.keywords:x}</Keywords>")
    parts.append(f"<TimeCreated{attr('SystemTime', system_time(event.time_ns))}/>")
    parts.append(f"<EventRecordID>{event.record_id}</EventRecordID>")
    execution = ""
    if event.process_id is not None:
        execution += attr("ProcessID", str(event.process_id))
    if event.thread_id is not None:
        execution += attr("ThreadID", str(event.thread_id))
    if execution:
        parts.append(f"<Execution{execution}/>")
    parts.append(f"<Channel>{escape_text(event.channel)}</Channel>")
    parts.append(f"<Computer>{escape_text(event.computer)}</Computer><Security/></System>")
    parts.append(_event_data(event, attr))
    if style == "eventviewer":
        parts.append(_rendering_info(event, attr))
    parts.append("</Event>")
    return "".join(parts)


def _provider(event: SystemEvent, attr) -> str:
    text = "<Provider" + attr("Name", event.provider)
    if event.provider_guid is not None:
        text += attr("Guid", event.provider_guid)
    if event.event_source_name is not None:
        text += attr("EventSourceName", event.event_source_name)
    return text + "/>"


def _event_data(event: SystemEvent, attr) -> str:
    parts = ["<EventData>"]
    for index, value in enumerate(event.data):
        name = "" if event.data_names is None else attr("Name", event.data_names[index])
        parts.append(f"<Data{name}>{escape_text(value)}</Data>")
    if event.binary is not None:
        parts.append(f"<Binary>{event.binary.hex().upper()}</Binary>")
    parts.append("</EventData>")
    return "".join(parts)


def _rendering_info(event: SystemEvent, attr) -> str:
    keywords = "".join(f"<Keyword>{k}</Keyword>" for k in keyword_names(event.keywords))
    return (
        f"<RenderingInfo{attr('Culture', 'en-US')}>"
        f"<Message>{escape_text(render_message(event))}</Message>"
        f"<Level>{LEVEL_NAMES.get(event.level, str(event.level))}</Level>"
        f"<Task>{'None' if event.task == 0 else f'({event.task})'}</Task>"
        f"<Opcode>Info</Opcode><Channel>{escape_text(event.channel)}</Channel>"
        f"<Provider>{escape_text(event.provider)}</Provider>"
        f"<Keywords>{keywords}</Keywords></RenderingInfo>"
    )


class EventXmlWriter:
    """Streams :class:`SystemEvent` records into an Event XML export.

    Args:
        path: output file (UTF-8).
        style: ``"wevtutil"`` or ``"eventviewer"``.
    """

    def __init__(self, path: str | Path, style: str = "wevtutil") -> None:
        if style not in STYLES:
            raise ValueError(f"Event XML style {style!r} not in {STYLES}")
        self.style = style
        self.records_written = 0
        self._file = Path(path).open("w", encoding="utf-8", newline="\n")  # noqa: SIM115
        if style == "eventviewer":
            self._file.write('<?xml version="1.0" encoding="UTF-8"?>\n<Events>\n')

    def __enter__(self) -> EventXmlWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write(self, event: SystemEvent) -> None:
        """Append one event."""
        self._file.write(render_event(event, self.style))
        self._file.write("\n")
        self.records_written += 1

    def close(self) -> None:
        """Finish the document and close the file."""
        if self._file.closed:
            return
        if self.style == "eventviewer":
            self._file.write("</Events>\n")
        self._file.close()


def write_event_xml(
    path: str | Path, events: Iterable[SystemEvent], style: str = "wevtutil"
) -> int:
    """Write ``events`` as an Event XML export; return the number written."""
    with EventXmlWriter(path, style) as writer:
        for event in events:
            writer.write(event)
    return writer.records_written
