"""Message templates for the RenderingInfo of Event Viewer style exports.

Templates are the message tables of the domain reference (sections 2.1, 2.4-2.6, 2.8); ``%n``
is the n-th insertion string. Only what the replay model and the noise emit is listed.
"""

from __future__ import annotations

import re

from evtxmpio.replay.events import SystemEvent

TEMPLATES: dict[tuple[str, int], str] = {
    ("mpio", 1): "%1 created.",
    ("mpio", 2): "Added device to %1. DumpData contains the current number of paths.",
    ("mpio", 16): "A fail-over on %1 occurred.",
    ("mpio", 17): "%1 is currently in a degraded state. One or more paths have failed, though "
    "the process is now complete.",
    ("mpio", 18): "A Single Path Fail-Over is being attempted on %1.",
    ("mpio", 22): "A fail-over on %1 was attempted, however the attempt failed. The devices "
    "will be removed.",
    ("mpio", 23): "All paths have failed. %1 will be removed.",
    ("mpio", 25): "Requests that were queued to %1 have failed during resubmission.",
    ("mpio", 32): "%2 failed to return a Path to %1.",
    ("iScsiPrt", 20): "Connection to the target was lost. The initiator will attempt to retry "
    "the connection.",
    ("iScsiPrt", 34): "A connection to the target was lost, but Initiator successfully "
    "reconnected to the target. Dump data contains the target name.",
    ("Ntfs", 50): "{Delayed Write Failed} Windows was unable to save all the data for the file "
    "%2. The data has been lost. This error may be caused by a failure of your computer "
    "hardware or network connection. Please try to save this file elsewhere.",
    ("Application Popup", 26): "Application popup: %1 : %2",
    ("EventLog", 6005): "The Event log service was started.",
    ("EventLog", 6009): "Microsoft (R) Windows (R) %1. %2 %3 %4.",
    ("EventLog", 6013): "The system uptime is %5 seconds.",
    ("Service Control Manager", 7036): "The %1 service entered the %2 state.",
    ("Service Control Manager", 7040): "The start type of the %1 service was changed from %2 "
    "to %3.",
    ("Microsoft-Windows-Time-Service", 37): "The time provider NtpClient is currently "
    "receiving valid time data from %1.",
}
LEVEL_NAMES = {0: "Information", 1: "Critical", 2: "Error", 3: "Warning", 4: "Information"}
_INSERT = re.compile(r"%(\d+)")


def render_message(event: SystemEvent) -> str:
    """Return the event's message text, or a generic line for an unknown (provider, id)."""
    template = TEMPLATES.get((event.provider, event.event_id))
    if template is None:
        return f"Event {event.event_id} from {event.provider}."

    def insert(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return event.data[index] if index < len(event.data) else ""

    return _INSERT.sub(insert, template)


def keyword_names(keywords: int) -> tuple[str, ...]:
    """Keyword names Event Viewer shows (only the Classic bit is named here)."""
    return ("Classic",) if keywords & 0x80000000000000 else ()
