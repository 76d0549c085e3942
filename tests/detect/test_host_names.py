"""Host names unified only where proven (``detect.hosts.unify_hosts``): letter case, one log
naming both, never a ForwardedEvents log."""

from __future__ import annotations

from evtxmpio.detect.hosts import unify_hosts
from evtxmpio.model import RawRecord
from evtxmpio.normalize import normalize_records


def _record(host: str, record_id: int, channel: str = "System", source: str = "a.evtx"
            ) -> RawRecord:
    return RawRecord("system:evtx:event", 1_300_000_000_000_000_000 + record_id, "disk", 153,
                     source, "evtx-rs", record_id=record_id, channel=channel, computer=host)


def test_a_name_in_another_letter_case_takes_the_most_frequent_spelling() -> None:
    events = normalize_records([_record("FS01", 1), _record("fs01", 2), _record("FS01", 3)])
    unified, names = unify_hosts(events)
    assert unified["host"].tolist() == ["FS01"] * 3
    assert names.merged == (("fs01", "FS01", "the same name in another letter case"),)


def test_names_already_one_spelling_stay_as_they_are() -> None:
    events = normalize_records([_record("FS01", 1), _record("FS02", 2)])
    unified, names = unify_hosts(events)
    assert unified["host"].tolist() == ["FS01", "FS02"] and names.merged == ()
    assert unified["host"].dtype == events["host"].dtype


def test_one_system_log_naming_both_proves_but_a_forwarded_log_does_not() -> None:
    both = [_record("NODE2", 1), _record("node2.contoso.local", 2)]
    forwarded = [_record("NODE2", 1, "ForwardedEvents"),
                 _record("node2.contoso.local", 2, "forwardedEVENTS")]
    unified, names = unify_hosts(normalize_records(both))
    assert set(unified["host"]) == {"node2.contoso.local"}
    assert names.merged[0][:2] == ("NODE2", "node2.contoso.local")
    unified, names = unify_hosts(normalize_records(forwarded))
    assert set(unified["host"]) == {"NODE2", "node2.contoso.local"}
    assert names.merged == ()
