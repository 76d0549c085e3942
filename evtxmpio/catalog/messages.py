"""Message templates of the classic System-log providers (``messages.yaml``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from evtxmpio.catalog._load import fail, load
from evtxmpio.catalog.cluster import cluster_templates, provider_name

_INSERT = re.compile(r"%(\d+)")


@cache
def _templates() -> dict[str, dict[int, str]]:
    """provider name (lower case, aliases included) -> {event id: template}."""
    table: dict[str, dict[int, str]] = {}
    for provider, entry in load("messages")["providers"].items():
        templates = entry.get("templates") if isinstance(entry, dict) else None
        if not isinstance(templates, dict) or not all(
                isinstance(k, int) and isinstance(v, str) for k, v in templates.items()):
            raise fail("messages", f"provider {provider!r}: templates must map ids to text")
        for name in (provider, *entry.get("aliases", ())):
            table[str(name).lower()] = dict(templates)
    # The Failover Clustering templates live with the rest of its facts (cluster.yaml).
    table.setdefault(provider_name().lower(), cluster_templates())
    return table


def message_providers() -> frozenset[str]:
    """Provider names (lower case) with a message table."""
    return frozenset(_templates())


def message_template(provider: str, event_id: int | None) -> str | None:
    """The template of (``provider``, ``event_id``); the provider compared case-insensitively."""
    if event_id is None:
        return None
    return _templates().get(provider.lower(), {}).get(event_id)


def template_inserts(template: str) -> frozenset[int]:
    """The insertion numbers a template uses (``%2`` -> 2)."""
    return frozenset(int(number) for number in _INSERT.findall(template))


def fill_template(template: str, values: Sequence[str]) -> str:
    """``template`` with each ``%n`` replaced by ``values[n-1]``; one with no value stays."""

    def insert(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return _INSERT.sub(insert, template)
