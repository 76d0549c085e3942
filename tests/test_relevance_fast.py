"""The fast decision on rendered XML (``Relevance.keeps_xml``: the provider after the evtx
prelude, decisions remembered per provider name and per text up to ``</EventID>``) decides as a
plain reading of the same rule does, on the layouts evtx renders and on hostile ones.

The reference below reads the XML the plain way (first ``<Provider Name="``, first
``<EventID`` after it, ``<Level>`` after that, content for ``naming``) with the rules written
out here; nothing is remembered between calls.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from evtxmpio.catalog.relevance import EventRule, Relevance

RULES = {
    "disk": EventRule(),
    "eventlog": EventRule(frozenset({6005, 6009})),
    "microsoft-windows-ntfs": EventRule(quiet=frozenset({98})),
    "microsoft-windows-windowsupdateclient": EventRule(frozenset({19}), ("2406705",)),
}
PRELUDE = ('<?xml version="1.0" encoding="utf-8"?>\n<Event xmlns="http://schemas.microsoft.com'
           '/win/2004/08/events/event">\n  <System>\n    ')


def reference(xml: str) -> bool:
    start = xml.find('<Provider Name="')
    if start < 0:
        return False
    start += len('<Provider Name="')
    name = xml[start:xml.find('"', start)].replace("&amp;", "&").lower()
    rule = RULES.get(name)
    if rule is None:
        return False
    at = xml.find("<EventID", start)
    begin = xml.find(">", at) + 1
    event_id = xml[begin:xml.find("<", begin)].strip() if at >= 0 else ""
    if rule.ids is not None and event_id not in {str(i) for i in rule.ids}:
        return False
    if event_id in {str(i) for i in rule.quiet}:
        level_at = xml.find("<Level>", begin)
        level = xml[level_at + 7:xml.find("<", level_at + 7)].strip() if level_at >= 0 else ""
        if level in ("4", "5"):
            return False
    return not rule.naming or any(n in xml.lower() for n in rule.naming)


def event(provider: str, event_id: str, level: str = "4", text: str = "", prelude: bool = True,
          qualifiers: str = ' Qualifiers="16384"', close: str = "</EventID>") -> str:
    return ((PRELUDE if prelude else "<Event><System>")
            + f'<Provider Name="{provider}">\n    </Provider>\n    '
            f"<EventID{qualifiers}>{event_id}{close}\n    <Level>{level}</Level>\n    "
            f"<TimeCreated SystemTime=\"2020-01-01T00:00:00.000000Z\">\n    </TimeCreated>"
            f"</System><EventData><Data>{text}</Data></EventData></Event>")


PROVIDERS = st.sampled_from(["Disk", "EventLog", "eventlog", "Service Control Manager",
                             "Microsoft-Windows-Ntfs", "Microsoft-Windows-WindowsUpdateClient",
                             "Event&amp;Log", "", "EventLog\u212a"])
IDS = st.sampled_from(["6005", "6009", "6013", " 6009 ", "98", "19", "", "60\u0660", "0x1775"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PROVIDERS, IDS, st.sampled_from(["2", "4", "5", ""]),
                          st.sampled_from(["", "KB2406705", "kb 123"]), st.booleans(),
                          st.sampled_from(['', ' Qualifiers="1"', '</EventID']),
                          st.sampled_from(["</EventID>", "", "</EventID"])), max_size=8))
@example([("EventLog", "6009", "4", "", True, "", "</EventID>"),
          ("EventLog", "6013", "4", "", True, "", "</EventID>")])  # one head, two ids
@example([("EventLog", "6009", "4", "", True, "</EventID", "</EventID>")])  # <EventID</EventID>
@example([("EventLog", "6009", "4", "", True, "", "")])  # no </EventID> at all
@example([("Microsoft-Windows-Ntfs", "98", "4", "", True, "", "</EventID>"),
          ("Microsoft-Windows-Ntfs", "98", "2", "", True, "", "</EventID>")])  # quiet, by level
@example([("Microsoft-Windows-WindowsUpdateClient", "19", "4", "", True, "", "</EventID>"),
          ("Microsoft-Windows-WindowsUpdateClient", "19", "4", "KB2406705", True, "",
           "</EventID>")])  # one head, content decides
def test_fast_decision_equals_the_plain_reading(records: list[tuple]) -> None:
    table = Relevance(RULES)  # one table for the whole sequence: what it remembers is shared
    for provider, event_id, level, text, prelude, qualifiers, close in records:
        xml = event(provider, event_id, level, text, prelude, qualifiers, close)
        assert table.keeps_xml(xml) == reference(xml), xml


def test_a_provider_name_before_the_prelude_one_decides() -> None:
    xml = '<Event><Provider Name="Disk"/>' + event("Service Control Manager", "7036")[5:]
    assert Relevance(RULES).keeps_xml(xml) == reference(xml) is True
