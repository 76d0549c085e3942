"""Message text for the RenderingInfo of Event Viewer style exports.

Templates come from :mod:`evtxmpio.catalog` (``messages.yaml``), the same table normalize
renders with; ``%n`` is the n-th insertion string.
"""

from __future__ import annotations

from evtxmpio.catalog import fill_template, message_template
from evtxmpio.replay.events import SystemEvent

LEVEL_NAMES = {0: "Information", 1: "Critical", 2: "Error", 3: "Warning", 4: "Information"}


def render_message(event: SystemEvent) -> str:
    """Return the event's message text, or a generic line for an unknown (provider, id)."""
    template = message_template(event.provider, event.event_id)
    if template is None:
        return f"Event {event.event_id} from {event.provider}."
    return fill_template(template, event.data)


def keyword_names(keywords: int) -> tuple[str, ...]:
    """Keyword names Event Viewer shows (only the Classic bit is named here)."""
    return ("Classic",) if keywords & 0x80000000000000 else ()
