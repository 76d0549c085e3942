"""Build the System-log records the model and the noise generator emit.

Each function returns a :class:`SystemEvent` with ``record_id=0``; the log writer numbers the
records per host when it merges the model's events with the noise. Shapes follow the domain
reference: classic driver events (section 1.2, 1.4, 2.1, 2.4, 2.6) carry no Guid, Qualifiers =
high 16 bits of the message id, Keywords ``0x80000000000000``, unnamed ``<Data>`` (``%1`` the
logging device) and an IO_ERROR_LOG_PACKET in ``<Binary>`` whose ErrorCode is
``(Qualifiers << 16) | EventID``; manifest events (Service Control Manager, Time-Service) carry
Guid, named data, Version/Opcode and Execution.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from evtxmpio.replay.events import SystemEvent

CLASSIC_KEYWORDS = 0x80000000000000
STATUS_DEVICE_NOT_CONNECTED = 0xC000009D
STATUS_NO_SUCH_DEVICE = 0xC000000E
STATUS_IO_DEVICE_ERROR = 0xC0000185
DSM_NAME = "Microsoft DSM"
DELAYED_WRITE_CAPTION = "Windows - Delayed Write Failed"
DELAYED_WRITE_TEXT = (
    "Windows was unable to save all the data for the file {file}. The data has been lost. "
    "This error may be caused by a failure of your computer hardware or network connection. "
    "Please try to save this file elsewhere."
)

# event id -> (Qualifiers, Level, MajorFunctionCode); section 2.1.
MPIO_EVENTS = {
    1: (16391, 4),
    2: (16391, 4),
    16: (49160, 2),
    17: (32776, 3),
    18: (32776, 3),
    22: (49160, 2),
    23: (49160, 2),
    25: (32776, 3),
    32: (49161, 2),
}
_PACKET = struct.Struct("<BBHHHHHIIIIIq")
_MAJOR_SCSI = 0x0F


def io_error_log_packet(
    qualifiers: int,
    event_id: int,
    *,
    strings: int,
    dump: bytes = b"",
    final_status: int = 0,
    major_function: int = _MAJOR_SCSI,
    sequence: int = 0,
    unique_value: int = 0,
) -> bytes:
    """Return an IO_ERROR_LOG_PACKET header + DumpData (domain reference section 1.4).

    Args:
        qualifiers: high 16 bits of the message id.
        event_id: low 16 bits; ErrorCode = ``(qualifiers << 16) | event_id``.
        strings: NumberOfStrings (the number of ``<Data>`` elements).
        dump: DumpData, padded to a multiple of 4 bytes.
        final_status: NTSTATUS of the failed operation.
        major_function: IRP major function code.
        sequence: SequenceNumber.
        unique_value: UniqueErrorValue (driver-private).
    """
    dump = dump + b"\x00" * (-len(dump) % 4)
    string_offset = 0x28 + len(dump) if strings else 0
    header = _PACKET.pack(
        major_function,
        0,
        len(dump),
        strings,
        string_offset,
        0,
        0,
        (qualifiers << 16) | event_id,
        unique_value,
        final_status,
        sequence,
        0,
        0,
    )
    return header + dump


def mpio_event(
    time_ns: int,
    computer: str,
    event_id: int,
    disk: int,
    *,
    dump: bytes = b"",
    final_status: int = 0,
    sequence: int = 0,
) -> SystemEvent:
    """Return a classic ``mpio`` event for ``\\Device\\MPIODisk<disk>`` (section 2.1)."""
    qualifiers, level = MPIO_EVENTS[event_id]
    data: tuple[str, ...] = (f"\\Device\\MPIODisk{disk}",)
    if event_id == 32:
        data += (DSM_NAME,)
    binary = io_error_log_packet(
        qualifiers,
        event_id,
        strings=len(data),
        dump=dump,
        final_status=final_status,
        sequence=sequence,
    )
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="mpio",
        event_id=event_id,
        level=level,
        computer=computer,
        qualifiers=qualifiers,
        data=data,
        binary=binary,
    )


def path_dump(path_id: int) -> bytes:
    """DumpData of mpio 16/18/25: the Path ID as a pointer-sized (x64: 8-byte) LE integer."""
    return struct.pack("<Q", path_id)


def count_dump(path_count: int) -> bytes:
    """DumpData of mpio 2: the disk's current number of paths (4-byte LE)."""
    return struct.pack("<I", path_count)


def iscsi_event(time_ns: int, computer: str, event_id: int, port: int) -> SystemEvent:
    """Return iScsiPrt 20 (connection lost) or 34 (reconnected) for ``\\Device\\RaidPort<port>``."""
    qualifiers, level = {20: (49152, 2), 34: (16384, 4)}[event_id]
    data = (f"\\Device\\RaidPort{port}",)
    binary = io_error_log_packet(qualifiers, event_id, strings=1, major_function=0)
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="iScsiPrt",
        event_id=event_id,
        level=level,
        computer=computer,
        qualifiers=qualifiers,
        data=data,
        binary=binary,
    )


def ntfs_delayed_write(time_ns: int, computer: str, volume: str, file: str) -> SystemEvent:
    """Return classic Ntfs 50 (``{Delayed Write Failed}``): ``%1`` volume, ``%2`` file."""
    data = (volume, file)
    binary = io_error_log_packet(
        32772, 50, strings=2, major_function=0x04, final_status=STATUS_NO_SUCH_DEVICE
    )
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="Ntfs",
        event_id=50,
        level=3,
        computer=computer,
        qualifiers=32772,
        task=2,
        data=data,
        binary=binary,
    )


def delayed_write_popup(time_ns: int, computer: str, file: str) -> SystemEvent:
    """Return classic Application Popup 26 (2008 R2 form): caption, text; no Binary."""
    data = (DELAYED_WRITE_CAPTION, DELAYED_WRITE_TEXT.format(file=file))
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="Application Popup",
        event_id=26,
        level=4,
        computer=computer,
        qualifiers=16384,
        data=data,
    )


OS_PRODUCT = ("6.01.", "7601", "Service Pack 1", "Multiprocessor Free", "17514")
"""EventLog 6009 strings of Windows Server 2008 R2 SP1 RTM (unfixed mpio.sys)."""


def eventlog_event(
    time_ns: int, computer: str, event_id: int, data: tuple[str, ...] = ()
) -> SystemEvent:
    """Return a classic ``EventLog`` 6005/6009/6013 record (Qualifiers 32768, Level 4)."""
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="EventLog",
        event_id=event_id,
        level=4,
        computer=computer,
        qualifiers=32768,
        data=data,
        binary=b"",
    )


SCM_GUID = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
TIME_SERVICE_GUID = "{06edcfeb-0fd0-4e53-acca-a6f8bbf81bcb}"


def scm_event(
    time_ns: int,
    computer: str,
    event_id: int,
    params: tuple[str, ...],
    service_key: str,
    thread_id: int,
) -> SystemEvent:
    """Return Service Control Manager 7036/7040 (manifest; Binary = UTF-16 ``key/N``)."""
    names = tuple(f"param{i + 1}" for i in range(len(params)))
    binary = f"{service_key}/{4 if event_id == 7036 else 1}".encode("utf-16-le") + b"\x00\x00"
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="Service Control Manager",
        event_id=event_id,
        level=4,
        computer=computer,
        qualifiers=16384,
        provider_guid=SCM_GUID,
        event_source_name="Service Control Manager",
        version=0,
        opcode=0,
        keywords=0x8080000000000000,
        data=params,
        data_names=names,
        binary=binary,
        process_id=480,
        thread_id=thread_id,
    )


def time_service_event(time_ns: int, computer: str, source: str, thread_id: int) -> SystemEvent:
    """Return Microsoft-Windows-Time-Service 37 (NtpClient receiving valid time data)."""
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="Microsoft-Windows-Time-Service",
        event_id=37,
        level=4,
        computer=computer,
        provider_guid=TIME_SERVICE_GUID,
        version=0,
        opcode=0,
        keywords=0x8000000000000000,
        data=(source,),
        data_names=("TimeSource",),
        process_id=912,
        thread_id=thread_id,
    )


def manifest_event(
    time_ns: int,
    computer: str,
    shape: ManifestShape,
    values: tuple[str, ...],
    *,
    process_id: int,
    thread_id: int,
) -> SystemEvent:
    """Return a manifest event of ``shape`` with named data ``values`` (in ``shape.names``)."""
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider=shape.provider,
        event_id=shape.event_id,
        level=shape.level,
        computer=computer,
        qualifiers=shape.qualifiers,
        provider_guid=shape.guid,
        event_source_name=shape.event_source_name,
        version=shape.version,
        task=shape.task,
        opcode=shape.opcode,
        keywords=shape.keywords,
        data=values,
        data_names=shape.names,
        process_id=process_id,
        thread_id=thread_id,
    )


def disk_retry_event(time_ns: int, computer: str, disk_number: int, lba: int) -> SystemEvent:
    """Return classic disk 153 (2008 R2 SP1 form: no PDO string), ``%1`` the disk's DR device.

    ``The IO operation at logical block address %2 for Disk %3 was retried.`` (section 2.3);
    Qualifiers 32772, Level 3, ErrorCode 0x80040099 in the packet.
    """
    data = (f"\\Device\\Harddisk{disk_number}\\DR{disk_number}", f"0x{lba:x}", str(disk_number))
    binary = io_error_log_packet(32772, 153, strings=len(data), dump=b"\x00" * 4)
    return SystemEvent(
        time_ns=time_ns,
        record_id=0,
        provider="disk",
        event_id=153,
        level=3,
        computer=computer,
        qualifiers=32772,
        data=data,
        binary=binary,
    )


@dataclass(frozen=True, slots=True)
class ManifestShape:
    """The fixed System part of a manifest event, as a real System log shows it."""

    provider: str
    guid: str
    event_id: int
    names: tuple[str, ...]
    level: int = 4
    version: int = 0
    task: int = 0
    opcode: int = 0
    keywords: int = 0x8000000000000000
    qualifiers: int | None = None
    event_source_name: str | None = None
