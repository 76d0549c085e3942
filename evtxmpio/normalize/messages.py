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

import operator
import re
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

from evtxmpio.catalog import message_template, template_inserts
from evtxmpio.model import RawRecord, data_json

INSERT = re.compile(r"%(\d+)")  # as catalog.fill_template reads a template


def render_message(record: RawRecord) -> str | None:
    """The message text of ``record`` (see the module docstring for the order of preference)."""
    return message_with(record, message_template(record.provider, record.event_id))


def message_with(record: RawRecord, template: str | None) -> str | None:
    """:func:`render_message` of ``record``, its catalogue ``template`` given (``None``: none)."""
    values = record.data_values()
    if template is not None and (not record.message or
                                 most_inserts(template) <= len(values)):
        return _fill(template, values)
    if record.message:
        return record.message
    if record.kind.startswith("etw:") and record.task_name:
        items = ", ".join(f"{name}={value}" for name, value in record.data)
        return f"{record.provider} {record.task_name}: {items}"
    return None if template is None else _fill(template, values)


_VALUE = operator.itemgetter(1)


def texts_of(records: Iterable[RawRecord]) -> tuple[list[str | None], list[str]]:
    """The ``message`` (:func:`render_message`) and ``data`` (:func:`evtxmpio.model.data_json`)
    of each record: the catalogue read once per provider, event id and number of inserts (a
    batch holds few)."""
    plans: dict[tuple[str, int | None, int], tuple[str | None, int, str | None]] = {}
    messages: list[str | None] = []
    texts: list[str] = []
    message, text = messages.append, texts.append
    for record in records:
        data = record.data
        key = (record.provider, record.event_id, len(data))
        plan = plans.get(key)
        if plan is None:
            plan = plans[key] = message_plan(*key)
        template, most, filled = plan
        values = list(map(_VALUE, data))
        if filled is not None and (not record.message or most <= key[2]):
            message(filled.format(*values))  # what _fill makes
        else:
            message(message_with(record, template))
        text(data_json(data))
    return messages, texts


def message_plan(provider: str, event_id: int | None, given: int
                 ) -> tuple[str | None, int, str | None]:
    """The template of an event, the most inserts it uses and its format text for ``given``
    values (``None``: no template)."""
    template = message_template(provider, event_id)
    if template is None:
        return None, 0, None
    return template, most_inserts(template), _format_given(template, given)


@cache  # one entry per catalogue template
def most_inserts(template: str) -> int:
    return max(template_inserts(template), default=0)


@lru_cache(maxsize=4096)  # per catalogue template and number of inserts
def template_pieces(template: str, count: int) -> tuple[str | int, ...]:
    """``template`` as text pieces and insert positions, as ``catalog.fill_template`` reads
    it: ``%n`` with ``n <= count`` is position ``n-1``; any other ``%n`` stays text."""
    split = INSERT.split(template)
    pieces: list[str | int] = [split[0]]
    for number, text in zip(split[1::2], split[2::2], strict=True):
        index = int(number) - 1
        pieces.append(index if 0 <= index < count else f"%{number}")
        pieces.append(text)
    return tuple(pieces)


@cache  # one entry per catalogue template and number of values it can use
def _format(template: str, count: int) -> str:
    """``template`` as a ``str.format`` text for ``count`` values (:func:`template_pieces`:
    each insert with a value becomes ``{n-1}``, the text between has its braces doubled)."""
    return "".join(f"{{{piece}}}" if isinstance(piece, int)
                   else piece.replace("{", "{{").replace("}", "}}")
                   for piece in template_pieces(template, count))


def _fill(template: str, values: Sequence[str]) -> str:
    """:func:`evtxmpio.catalog.fill_template`, the template read once: each ``%n`` replaced by
    ``values[n-1]``; one with no value stays."""
    return _format_given(template, len(values)).format(*values)


@lru_cache(maxsize=4096)  # per catalogue template and number of values a record gives
def _format_given(template: str, given: int) -> str:
    return _format(template, min(given, most_inserts(template)))
