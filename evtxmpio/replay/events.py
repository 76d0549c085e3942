"""Log events the replay model emits, before any writer turns them into bytes.

Two kinds leave the model:

* :class:`SystemEvent` -- one System-log record as the Windows event log service would store
  it (section 1 and 2 of the domain reference). Classic driver events (``mpio``, ``disk``,
  ``Ntfs``, ``iScsiPrt``) carry unnamed insertion strings and an IO_ERROR_LOG_PACKET in
  ``binary``; manifest events carry named data.
* :class:`TraceEvent` -- one decoded MPIO/MSDSM trace event in the project vocabulary of
  section 4.4 (provider ``MPIO`` or ``MSDSM``, symbolic name, ordered fields).

Times are integers of nanoseconds since 1970-01-01 UTC, always multiples of 100 (the FILETIME
resolution), so that every writer renders the same instant without float rounding. FILETIME
conversions are :func:`evtxmpio.catalog.ns_to_filetime` and its inverse.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """One System-log record.

    Attributes:
        time_ns: TimeCreated, Unix-epoch nanoseconds (multiple of 100).
        record_id: EventRecordID.
        provider: Provider/@Name, e.g. ``mpio``.
        event_id: EventID (low 16 bits of the message id).
        level: Level (1 critical .. 4 information).
        computer: Computer.
        qualifiers: EventID/@Qualifiers for classic events, ``None`` for manifest events.
        provider_guid: Provider/@Guid (``{...}`` lower case) for manifest events, else ``None``.
        event_source_name: Provider/@EventSourceName where Windows writes one, else ``None``.
        version: Version for manifest events (``None`` = element absent, as on classic records).
        task: Task.
        opcode: Opcode (``None`` = element absent).
        keywords: Keywords as an integer (classic events: ``0x80000000000000``).
        channel: Channel.
        data: insertion strings, in order (``%1``, ``%2`` ...). Empty strings are kept.
        data_names: names for named ``<Data Name=...>`` (manifest events); ``None`` = unnamed.
        binary: the ``<Binary>`` payload (IO_ERROR_LOG_PACKET for classic driver events).
        process_id: Execution/@ProcessID (``None`` = element absent).
        thread_id: Execution/@ThreadID.
    """

    time_ns: int
    record_id: int
    provider: str
    event_id: int
    level: int
    computer: str
    qualifiers: int | None = None
    provider_guid: str | None = None
    event_source_name: str | None = None
    version: int | None = None
    task: int = 0
    opcode: int | None = None
    keywords: int = 0x80000000000000
    channel: str = "System"
    data: tuple[str, ...] = ()
    data_names: tuple[str, ...] | None = None
    binary: bytes | None = None
    process_id: int | None = None
    thread_id: int | None = None


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One decoded MPIO/MSDSM trace event (domain reference section 4.4).

    Attributes:
        time_ns: event time, Unix-epoch nanoseconds (multiple of 100).
        provider: ``MPIO`` or ``MSDSM``.
        event_id: id from the section 4.4 table (1..8, 101..104).
        name: symbolic name, e.g. ``FailoverStart``.
        fields: ``(name, value)`` pairs in the table's order; values already rendered as text
            (hex ids as ``0x%08X``, states as names, NTSTATUS as ``0x%08X``).
        computer: host the trace was captured on.
        process_id: Execution/@ProcessID (4 = System for kernel drivers).
        thread_id: Execution/@ThreadID.
        processor: Execution/@ProcessorID.
    """

    time_ns: int
    provider: str
    event_id: int
    name: str
    fields: tuple[tuple[str, str], ...]
    computer: str
    process_id: int = 4
    thread_id: int = 0
    processor: int = 0
