"""Which records can matter to an MPIO case (``relevance.yaml``): by provider, event id, content.

One decision for every reader: :meth:`Relevance.keeps` on a built record's fields, and
:meth:`Relevance.keeps_xml` on the XML text a .evtx backend renders, which decides without
building anything (a slice for the provider, one for the event id, a substring test for content).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from evtxmpio.catalog._load import fail, load

_PROVIDER_ATTR = '<Provider Name="'
# What the evtx package renders before a record's provider name.
_PRELUDE = ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">\n'
            '  <System>\n    ' + _PROVIDER_ATTR)
_PRELUDE_LENGTH = len(_PRELUDE)
_EVENT_ID = "<EventID"
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'"}
MAX_REMEMBERED = 4096


@dataclass(frozen=True, slots=True)
class EventRule:
    """The events of one provider that can matter: ``ids`` (``None`` = all) but the ``quiet``
    ones at an information or verbose level, and when ``naming`` is given only those whose text
    contains one of its strings (lower case)."""

    ids: frozenset[int] | None = None
    naming: tuple[str, ...] = ()
    quiet: frozenset[int] = frozenset()

    def keeps(self, event_id: int | None, texts: Iterable[str | None] = (),
              level: int | None = None) -> bool:
        """Whether an event of this provider with ``event_id``, ``texts`` and ``level`` can
        matter."""
        verdict = self.verdict(event_id, level)
        if verdict is not None:
            return verdict
        joined = "\x00".join(text for text in texts if text).lower()
        return any(needle in joined for needle in self.naming)

    def verdict(self, event_id: int | None, level: int | None = None) -> bool | None:
        """What the event id and level alone say: kept, not kept, or ``None`` when it
        depends on whether the text names one of :attr:`naming`."""
        if self.ids is not None and event_id not in self.ids:
            return False
        if event_id in self.quiet and level in QUIET_LEVELS:
            return False
        return None if self.naming else True


KEEP_ALL = EventRule()
QUIET_LEVELS = frozenset({4, 5})
"""Levels of an event that reports that all is well (information, verbose)."""
_LEVEL = "<Level>"


class Relevance:
    """The relevance table: provider rules plus the cached decisions on rendered names."""

    def __init__(self, rules: dict[str, EventRule]) -> None:
        self.rules = dict(rules)
        self.providers = frozenset(rules)
        # Provider name as rendered -> (rule, its ids and quiet ids as text), filled as met.
        self._rendered: dict[str, tuple[EventRule | None, frozenset[str], frozenset[str]]] = {}
        # Text from a provider name to its first ``</EventID>`` -> decision (ids-only rules).
        self._heads: dict[str, bool] = {}

    def _remember(self, rendered: str) -> tuple[EventRule | None, frozenset[str], frozenset[str]]:
        """The rule of a provider name as rendered, and its ids and quiet ids as text."""
        rule = self.rule(_unescape(rendered))
        id_texts = frozenset(map(str, rule.ids or ())) if rule is not None else frozenset()
        quiet_texts = frozenset(map(str, rule.quiet)) if rule is not None else frozenset()
        if len(self._rendered) < MAX_REMEMBERED:
            self._rendered[rendered] = (rule, id_texts, quiet_texts)
        return rule, id_texts, quiet_texts

    def rule(self, provider: str | None) -> EventRule | None:
        """The rule of ``provider`` (any case), ``None`` when none of its events matter."""
        return self.rules.get((provider or "").lower())

    def keeps(self, provider: str | None, event_id: int | None,
              texts: Iterable[str | None] = (), level: int | None = None) -> bool:
        """Whether a built record can matter (``texts``: its data values and message)."""
        rule = self.rule(provider)
        return rule is not None and rule.keeps(event_id, texts, level)

    def keeps_xml(self, xml: str) -> bool:
        """Whether the record rendered as ``xml`` (one ``<Event>``) can matter."""
        # The first ``<Provider Name="``: where the evtx package renders it (after its fixed
        # prelude), or wherever it is.
        if xml.startswith(_PRELUDE):
            start = _PRELUDE_LENGTH
        else:
            start = xml.find(_PROVIDER_ATTR)
            if start < 0:
                return False
            start += len(_PROVIDER_ATTR)
        rendered = xml[start:xml.find('"', start)]
        remembered = self._rendered.get(rendered)
        if remembered is None:
            remembered = self._remember(rendered)
        rule, id_texts, quiet_texts = remembered
        if rule is None:
            return False
        if rule is KEEP_ALL:
            return True
        if rule.ids is not None and not quiet_texts and not rule.naming:
            return self._keeps_by_id(xml, start, id_texts)
        if rule.ids is not None or quiet_texts:
            event_id, begin = _event_id_at(xml, start)
            if rule.ids is not None and event_id not in id_texts:
                return False
            if event_id in quiet_texts and _level_text(xml, begin) in _QUIET_TEXTS:
                return False
        if not rule.naming:
            return True
        lowered = xml.lower()
        return any(needle in lowered for needle in rule.naming)


    def _keeps_by_id(self, xml: str, start: int, id_texts: frozenset[str]) -> bool:
        """Whether the event id after ``start`` (a provider kept for some ids) is one of
        ``id_texts``; remembered per text from the provider name to its first ``</EventID>``
        when the whole ``<EventID ...>`` start tag lies in that text (it then decides alone)."""
        end = xml.find(_EVENT_ID_END, start)
        if end < 0:
            return _event_id_text(xml, start) in id_texts
        head = xml[start:end]
        decision = self._heads.get(head)
        if decision is None:
            at = xml.find(_EVENT_ID, start, end)
            if at < 0 or xml.find(">", at, end) < 0:
                return _event_id_text(xml, start) in id_texts
            decision = _event_id_text(xml, start) in id_texts
            if len(self._heads) < MAX_REMEMBERED:
                self._heads[head] = decision
        return decision


def _event_id_text(xml: str, start: int) -> str:
    """The text of the first ``<EventID>`` element after ``start`` (``""`` when none)."""
    return _event_id_at(xml, start)[0]


def _event_id_at(xml: str, start: int) -> tuple[str, int]:
    """:func:`_event_id_text`, and where the element's text begins (``0`` when none)."""
    at = xml.find(_EVENT_ID, start)
    begin = xml.find(">", at) + 1
    return (xml[begin:xml.find("<", begin)].strip() if at >= 0 else ""), begin


_QUIET_TEXTS = frozenset(map(str, QUIET_LEVELS))
_EVENT_ID_END = "</EventID>"


def _level_text(xml: str, start: int) -> str:
    at = xml.find(_LEVEL, start)
    if at < 0:
        return ""
    at += len(_LEVEL)
    return xml[at:xml.find("<", at)].strip()


@cache
def providers_only(providers: frozenset[str]) -> Relevance:
    """Every event of ``providers`` (lower case) matters, nothing else (no event-level rule)."""
    return Relevance(dict.fromkeys(providers, KEEP_ALL))


@cache
def relevance() -> Relevance:
    """The relevance table of ``relevance.yaml``.

    Raises:
        Error: the file is malformed (a broken installation).
    """
    rules: dict[str, EventRule] = {}
    for provider, entry in load("relevance")["providers"].items():
        rules[str(provider).lower()] = _rule(str(provider), entry)
    return Relevance(rules)


def _rule(provider: str, entry: object) -> EventRule:
    if entry == "all":
        return KEEP_ALL
    if not isinstance(entry, dict) or set(entry) - {"ids", "naming", "quiet"} or not entry:
        raise fail("relevance", f"provider {provider!r}: 'all' or a mapping of ids, naming, "
                                "quiet")
    ids, naming, quiet = entry.get("ids", "all"), entry.get("naming"), entry.get("quiet", [])
    for key, value in (("ids", ids), ("quiet", quiet)):
        if value != "all" and (not isinstance(value, list)
                               or not all(isinstance(i, int) for i in value)):
            raise fail("relevance", f"provider {provider!r}: {key} must be a list of event ids")
    if naming not in (None, "fixes"):
        raise fail("relevance", f"provider {provider!r}: naming can only be 'fixes'")
    return EventRule(None if ids == "all" else frozenset(ids),
                     _fix_numbers() if naming else (), frozenset(quiet))


def _fix_numbers() -> tuple[str, ...]:
    """The numbers of the catalogue's fixes (``2406705``), as a record's text names them."""
    return tuple(str(kb).upper().removeprefix("KB") for kb in load("windows")["fixes"])


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text
