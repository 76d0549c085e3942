"""Fixed names of Windows' event formats (not data: they never vary by build or locale).

- :data:`EVENT_NAMESPACE`: the event schema's XML namespace (rendered .evtx records, Event
  Viewer and wevtutil XML, tracerpt XML).
- :data:`TRACERPT_CSV_COLUMNS`: the header of ``tracerpt -of CSV`` (domain reference section
  4.3): the payload follows ``User(ms)`` as extra positional columns, ``User Data`` being only
  the first of them.
"""

from __future__ import annotations

EVENT_NAMESPACE = "http://schemas.microsoft.com/win/2004/08/events/event"
TRACERPT_CSV_COLUMNS = (
    "Event Name", "Type", "Event ID", "Version", "Channel", "Level", "Opcode", "Task", "Keyword",
    "PID", "TID", "Processor Number", "Instance ID", "Parent Instance ID", "Activity ID",
    "Related Activity ID", "Clock-Time", "Kernel(ms)", "User(ms)", "User Data",
)
