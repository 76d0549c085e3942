"""Fixed names of Windows' event formats (not data: they never vary by build or locale).

- :data:`EVENT_NAMESPACE`: the event schema's XML namespace (rendered .evtx records, Event
  Viewer and wevtutil XML, tracerpt XML).
- :data:`TRACERPT_CSV_COLUMNS`: the header of ``tracerpt -of CSV`` (domain reference section
  4.3): the payload follows ``User(ms)`` as extra positional columns, ``User Data`` being only
  the first of them.
- :func:`field_int`: a number field as the exports write it (decimal, or ``0x`` hex).
"""

from __future__ import annotations

EVENT_NAMESPACE = "http://schemas.microsoft.com/win/2004/08/events/event"
TRACERPT_CSV_COLUMNS = (
    "Event Name", "Type", "Event ID", "Version", "Channel", "Level", "Opcode", "Task", "Keyword",
    "PID", "TID", "Processor Number", "Instance ID", "Parent Instance ID", "Activity ID",
    "Related Activity ID", "Clock-Time", "Kernel(ms)", "User(ms)", "User Data",
)


def field_int(text: str | None) -> int | None:
    """A number field as event exports and renderings write it: decimal (any decimal digits
    ``int`` reads) or ``0x`` hex, blanks around it allowed; ``None`` for anything else."""
    if text is None:
        return None
    if text.isdigit() and text.isascii():  # the usual case, read as below
        return int(text)
    text = text.strip()
    try:
        return int(text, 16) if text[:2].lower() == "0x" else int(text)
    except ValueError:
        return None
