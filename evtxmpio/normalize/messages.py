"""Message text of an event: the template of the catalogue filled in, or what the export carried.

Customers' message DLLs are not available to us, so messages of the providers of the domain
reference are rendered from the templates of :mod:`evtxmpio.catalog` (``messages.yaml``),
filling ``%1``, ``%2`` ... with the insertion strings (manifest events' named fields in order).
A template is used only when the record holds every insertion string it names; otherwise the
message text the export carried wins (CSV exports keep the rendered text but no insertion
strings, so their template would show a literal ``%2``). Unknown events fall back to the
exported message, or to a plain list of their data.
"""

from __future__ import annotations

from evtxmpio.catalog import fill_template, message_template, template_inserts
from evtxmpio.model import RawRecord


def render_message(record: RawRecord) -> str | None:
    """The message text of ``record`` (see the module docstring for the order of preference)."""
    template = message_template(record.provider, record.event_id)
    values = record.data_values()
    if template is not None and (not record.message or
                                 max(template_inserts(template), default=0) <= len(values)):
        return fill_template(template, values)
    if record.message:
        return record.message
    if record.kind.startswith("etw:") and record.task_name:
        items = ", ".join(f"{name}={value}" for name, value in record.data)
        return f"{record.provider} {record.task_name}: {items}"
    return None if template is None else fill_template(template, values)
