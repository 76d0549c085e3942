"""The digest de-duplication keeps per record: equal keys give one digest, different keys
another, whatever objects hold the values (see ``ingest/dedupe.py``)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from evtxmpio.ingest.dedupe import (
    SOURCES_KEPT,
    Deduplicator,
    dedupe_key,
    key_digest,
    record_digest,
)
from evtxmpio.model import RawRecord


def _fresh(text: str) -> str:
    """An equal string that is another object (never interned, never shared)."""
    return "".join(list(text))


def _record(**fields: object) -> RawRecord:
    values: dict[str, object] = {
        "kind": "system:evtx:event", "time_ns": 1_308_037_630_123_456_700,
        "provider": "Disk", "event_id": 153, "source_path": "a.evtx", "reader": "evtx-rs",
        "record_id": 7, "channel": "System", "computer": "FS01.contoso.local",
        "data": ((None, "\\Device\\Harddisk1\\DR1"), (None, "0x4ed1a947"), (None, "1")),
        "binary": b"\x0f\x00\x01\x00",
    }
    values.update(fields)
    return RawRecord(**values)  # type: ignore[arg-type]


def test_equal_keys_of_other_objects_have_one_digest() -> None:
    name = "fs01.contoso.local"
    shared = (name, name, 7, "disk", 153, 1, ("x", "x"), b"", "system")
    separate = (_fresh(name), _fresh(name), 7, _fresh("disk"), 153, 1,
                (_fresh("x"), _fresh("x")), bytes(1)[:0], _fresh("system"))
    interned = tuple(sys.intern(v) if isinstance(v, str) else v for v in separate)
    assert shared[0] is shared[1] and separate[0] is not separate[1]
    assert key_digest(shared) == key_digest(separate) == key_digest(interned)
    # one tuple object met twice, and two equal tuples
    pair = ("a", "b")
    assert key_digest((pair, pair)) == key_digest((pair, (_fresh("a"), _fresh("b"))))


def test_keys_differing_only_in_a_value_type_differ() -> None:
    digests = {key_digest(("k", value)) for value in
               (1, "1", b"1", None, True, 1.0, (1,), ("1",), "", b"", 0, False, ())}
    assert len(digests) == 13


def test_how_values_are_grouped_counts() -> None:
    keys = [("ab",), ("a", "b"), (("a", "b"),), (("a",), "b"), ("a", ("b",)), ("a\x00b",),
            ("a", "", "b"), ("a", "b", "")]
    assert len({key_digest(key) for key in keys}) == len(keys)


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "\udc80\udcff", "\ud83d\ude00"])
def test_strings_with_surrogates_have_digests_of_their_own(text: str) -> None:
    digest = key_digest(("k", text))
    assert digest == key_digest(("k", _fresh(text)))
    others = {"?", "\ufffd", "", "\\" + text.encode("unicode_escape").decode()[1:],
              "\U0001f600", text.encode("utf-8", "surrogatepass").decode("latin-1")}
    assert digest not in {key_digest(("k", other)) for other in others - {text}}


def test_subclasses_of_str_and_int_give_the_digest_of_the_plain_value() -> None:
    class Text(str):
        pass

    class Number(int):
        def __index__(self) -> int:  # not what int.__index__ of the value gives
            return 5

    assert key_digest((Text("x"), Number(3))) == key_digest(("x", 3))
    record = _record(data=((None, Text("x")),), record_id=Number(7))
    assert record_digest(record, {}) == key_digest(dedupe_key(_record(data=((None, "x"),))))


texts = st.text(alphabet=st.characters(blacklist_categories=()), max_size=6)


@given(computer=texts, channel=texts, provider=texts, kind=st.sampled_from(
           ["system:evtx:event", "system:xml:event", "etw:mpio:trace", "etw:", "system"]),
       record_id=st.none() | st.integers(min_value=-1, max_value=2**64),
       event_id=st.none() | st.integers(min_value=0, max_value=2**16),
       time_ns=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
       values=st.lists(texts, max_size=4), binary=st.none() | st.binary(max_size=8))
@example(computer="", channel="", provider="", kind="system", record_id=None, event_id=None,
         time_ns=None, values=[], binary=None)
@example(computer="\ud800", channel="SYSTEM", provider="Disk", kind="etw:mpio:trace",
         record_id=2**64, event_id=0, time_ns=-1, values=["\udfff", ""], binary=b"")
def test_the_digest_of_a_record_is_the_digest_of_its_key(
        computer: str, channel: str, provider: str, kind: str, record_id: int | None,
        event_id: int | None, time_ns: int | None, values: list[str], binary: bytes | None
) -> None:
    record = _record(computer=computer, channel=channel, provider=provider, kind=kind,
                     record_id=record_id, event_id=event_id, time_ns=time_ns,
                     data=tuple(("Name", v) for v in values), binary=binary)
    sources: dict = {}
    digest = record_digest(record, sources)
    assert digest == key_digest(dedupe_key(record)) == record_digest(record, sources)
    # the source remembered for this provider is not taken for another computer (which a
    # trace event's key leaves out)
    other = _record(computer=computer + "x", channel=channel, provider=provider, kind=kind,
                    record_id=record_id, event_id=event_id, time_ns=time_ns,
                    data=record.data, binary=binary)
    assert record_digest(other, sources) == key_digest(dedupe_key(other))
    assert (record_digest(other, sources) == digest) == kind.startswith("etw:")


def test_each_field_of_the_key_tells_records_apart() -> None:
    base = _record()
    changed = [
        _record(computer="FS02.contoso.local"), _record(channel="Application"),
        _record(provider="Disk2"), _record(kind="etw:evtx:event"), _record(record_id=8),
        _record(record_id=None), _record(event_id=154), _record(event_id=None),
        _record(time_ns=base.time_ns + 1000), _record(time_ns=None),
        _record(data=base.data[:2]), _record(data=(*base.data[:2], (None, "2"))),
        _record(data=((None, "\\Device\\Harddisk1\\DR1"), (None, "0x4ed1a9471"))),
        _record(binary=None), _record(binary=b"\x0f\x00\x01\x01"),
    ]
    sources: dict = {}
    digests = [record_digest(r, sources) for r in [base, *changed]]
    assert len(set(digests)) == len(digests)


def test_what_readers_render_differently_is_one_key() -> None:
    base = _record()
    same = _record(computer="fs01.CONTOSO.local", channel="system", provider="disk",
                   kind="system:xml:event", time_ns=base.time_ns - 700 + 999,
                   data=tuple(("Name", value) for _, value in base.data), source_path="b.xml",
                   reader="event-xml")
    deduplicator = Deduplicator()
    deduplicator.start_file()
    assert not deduplicator.is_duplicate(base)
    deduplicator.start_file()
    assert deduplicator.is_duplicate(same)
    assert not deduplicator.is_duplicate(_record(record_id=8))


def test_rows_without_an_id_dedupe_across_files_only() -> None:
    row = _record(record_id=None)
    deduplicator = Deduplicator()
    deduplicator.start_file()
    assert [deduplicator.is_duplicate(row) for _ in range(3)] == [False] * 3
    deduplicator.start_file()
    copies = [_record(record_id=None, computer=_fresh(row.computer)) for _ in range(4)]
    assert [deduplicator.is_duplicate(r) for r in copies] == [True, True, True, False]


def test_memory_holds_one_digest_per_record_and_few_sources() -> None:
    deduplicator = Deduplicator()
    deduplicator.start_file()
    for n in range(SOURCES_KEPT + 10):
        assert not deduplicator.is_duplicate(_record(record_id=n, provider=f"p{n}"))
    for n in (3, 2):  # ids out of order
        assert not deduplicator.is_duplicate(_record(record_id=n, event_id=1))
    # 8 bytes of id and 16 of digest a record in order, a 16-byte digest for the others
    (log,) = deduplicator._logs.values()
    assert len(log.ids) == SOURCES_KEPT + 10
    assert len(log.digests) == 16 * (SOURCES_KEPT + 10)
    assert {len(d) for d in deduplicator._others} == {16} and len(deduplicator._others) == 2
    assert len(deduplicator._sources) <= SOURCES_KEPT
    # a provider whose source bytes were forgotten is still recognised
    assert deduplicator.is_duplicate(_record(record_id=0, provider="p0"))
    assert deduplicator.is_duplicate(_record(record_id=2, event_id=1))


def test_each_log_of_a_bundle_keeps_its_records_in_order_in_arrays() -> None:
    """Cluster nodes' System logs read one after the other: each log's records in id order take
    the arrays (24 bytes a record), none the set; the same log again is all duplicates."""
    deduplicator = Deduplicator()
    nodes = ["NODE1", "NODE2", "NODE3"]
    for node in nodes:
        deduplicator.start_file()
        assert not any(deduplicator.is_duplicate(_record(record_id=n, computer=node))
                       for n in range(1, 101))
    assert not deduplicator._others
    assert sorted(deduplicator._logs) == [(n.casefold(), "system") for n in nodes]
    assert all(len(log.ids) == 100 and len(log.digests) == 1600
               for log in deduplicator._logs.values())
    deduplicator.start_file()
    assert all(deduplicator.is_duplicate(_record(record_id=n, computer="node2"))
               for n in range(1, 101))


def test_logs_beyond_those_kept_take_the_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from evtxmpio.ingest import dedupe

    monkeypatch.setattr(dedupe, "LOGS_KEPT", 2)
    deduplicator = Deduplicator()
    for node in ("A", "B", "C"):
        assert not deduplicator.is_duplicate(_record(record_id=1, computer=node))
    assert len(deduplicator._logs) == 2 and len(deduplicator._others) == 1
    assert all(deduplicator.is_duplicate(_record(record_id=1, computer=node))
               for node in ("C", "B", "A"))


def _reference_key(record: RawRecord) -> tuple:
    """The key as the module docstring states it, written out here."""
    trace = record.kind.startswith("etw:")
    return ("" if trace else record.computer.casefold(),
            "" if trace else record.channel.casefold(), record.record_id,
            record.provider.casefold(), record.event_id,
            None if record.time_ns is None else record.time_ns // 1000,
            tuple(value for _, value in record.data), record.binary,
            record.kind.split(":")[0])


def _reference_decisions(files: list[list[RawRecord]]) -> list[bool]:
    """First occurrence wins; a row without an id is a duplicate while an earlier file held
    it at least as often as this file so far."""
    kept: set[tuple] = set()
    copies: dict[tuple, list[int]] = {}
    decisions = []
    for number, records in enumerate(files):
        for record in records:
            key = _reference_key(record)
            if record.record_id is not None:
                decisions.append(key in kept)
                kept.add(key)
            else:
                counts = copies.setdefault(key, [0] * len(files))
                counts[number] += 1
                decisions.append(counts[number] <= max(counts[:number], default=0))
    return decisions


_IDS = st.sampled_from([None, 0, 1, 2, 3, 7, 2**64 - 1, 2**64, -1])
_RECORDS = st.builds(
    lambda record_id, provider, second, value, log, kind: _record(
        record_id=record_id, provider=provider, time_ns=None if second is None
        else 1_308_037_630_000_000_000 + second * 400, data=((None, value),),
        computer=log[0], channel=log[1], kind=kind),
    _IDS, st.sampled_from(["Disk", "disk", "mpio"]), st.none() | st.integers(0, 4),
    st.sampled_from(["x", "X", "\ud800"]),
    st.sampled_from([("FS01", "System"), ("fs01", "SYSTEM"), ("FS02", "System"), ("", "")]),
    st.sampled_from(["system:evtx:event", "etw:mpio:trace"]))


@given(st.lists(st.lists(_RECORDS, max_size=12), min_size=1, max_size=3))
@example([[_record(record_id=1), _record(record_id=2), _record(record_id=1),
           _record(record_id=2, event_id=1), _record(record_id=2, event_id=1)]])
@example([[_record(record_id=5), _record(record_id=2**64)],
          [_record(record_id=2**64), _record(record_id=5), _record(record_id=6),
           _record(record_id=-1), _record(record_id=-1)]])
@example([[_record(record_id=None)] * 2, [_record(record_id=None)] * 3,
          [_record(record_id=None)] * 3])
# two logs read in turn: each keeps its own ids in order; the same log named in other case
@example([[_record(record_id=5, computer="FS01"), _record(record_id=3, computer="FS02"),
           _record(record_id=6, computer="FS01"), _record(record_id=4, computer="FS02")],
          [_record(record_id=5, computer="fs01"), _record(record_id=4, computer="FS02"),
           _record(record_id=9, computer="FS02", channel="SYSTEM")]])
# trace events key without Computer and Channel: one log whatever those say
@example([[_record(record_id=2, kind="etw:mpio:trace", computer="FS01"),
           _record(record_id=2, kind="etw:mpio:trace", computer="FS02"),
           _record(record_id=2, kind="system:evtx:event", computer="", channel="")]])
def test_decisions_are_those_of_a_plain_set_of_keys(files: list[list[RawRecord]]) -> None:
    """(Computer, Channel and kind vary too: the in-order arrays are per log.)"""
    deduplicator = Deduplicator()
    decisions = []
    for records in files:
        deduplicator.start_file()
        decisions.extend(deduplicator.is_duplicate(record) for record in records)
    assert decisions == _reference_decisions(files)
