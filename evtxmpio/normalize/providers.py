"""Provider-specific field extraction into the typed columns of the event frame.

One function per provider family, chosen by the lower-cased provider name (domain reference
section 2; provider names match case-insensitively). Each returns the typed fields it found;
anything else about the record stays in the ``data`` column.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Hashable, Iterable

from evtxmpio.catalog import classic_events, field_int
from evtxmpio.catalog.cluster import cluster_event, provider_name
from evtxmpio.catalog.relevance import KEEP_ALL, relevance
from evtxmpio.model import RawRecord
from evtxmpio.normalize.iopacket import HEADER, decode_packet

_MPIO_DISK = re.compile(r"\\Device\\MPIODisk(\d+)", re.IGNORECASE)
_HARDDISK = re.compile(r"\\Device\\Harddisk(\d+)\\", re.IGNORECASE)
_STATUS_TEXT = re.compile(r"0x([0-9a-f]{1,8})\b|\b([0-9a-f]{8})\b|\((\d+)\)|^(\d+)$",
                          re.IGNORECASE)
_DELAYED_WRITE_FILE = re.compile(
    r"(?:save all the data for the file|Delayed-Write Data\}?.*? to)\s+(.+?)\.\s+The data",
    re.IGNORECASE | re.DOTALL,
)
_VOLUME_OF_PATH = re.compile(
    r"^(\\Device\\HarddiskVolume\d+|\\\\\?\\Volume\{[0-9a-fA-F-]+\}|[A-Za-z]:)", re.IGNORECASE
)
PATH_ID_EVENTS = classic_events("mpio", "path-id-in-dump")
DSM_NAME_EVENTS = classic_events("mpio", "dsm-name-insert")
DSM_ID_EVENTS = classic_events("mpio", "dsm-id-in-dump")
ISCSI_TARGET_EVENTS = classic_events("iscsiprt", "target-in-dump")
DELAYED_WRITE_CAPTION = re.compile(r"delayed write|verz.gerten schreib", re.IGNORECASE)

Fields = dict[str, object]


def mpio_disk_of(text: str | None) -> int | None:
    """N of the first ``\\Device\\MPIODiskN`` in ``text``."""
    if not text:
        return None
    match = _MPIO_DISK.search(text)
    return int(match.group(1)) if match else None


def volume_of(path: str | None) -> str | None:
    """The volume part of an NT or drive-letter path (``\\Device\\HarddiskVolume4``, ``E:``)."""
    if not path:
        return None
    match = _VOLUME_OF_PATH.match(path.strip())
    return match.group(1) if match else None


def _path_id(pointer: int | None) -> int | None:
    if pointer is None:
        return None
    # x64 packets carry the Path ID as an 8-byte pointer whose high half is zero.
    return pointer & 0xFFFFFFFF if pointer >> 32 == 0 else pointer


def packet_fields(record: RawRecord, values: list[str] | None = None) -> Fields:
    """``%1`` device and the IO_ERROR_LOG_PACKET header of a classic driver event (``values``:
    its insertion strings, when the caller has them)."""
    if values is None:
        values = record.data_values()
    device = values[0] if values and values[0].startswith("\\") else None
    binary = record.binary
    if binary is None or len(binary) < HEADER.size:  # what decode_packet decodes
        return {"device": device}
    (_, _, dump_size, _, _, _, _, error_code, unique, final_status, _, _,
     _) = HEADER.unpack_from(binary)
    dump = binary[HEADER.size:HEADER.size + dump_size]
    return {"device": device, "error_code": error_code, "unique_error": unique,
            "status": final_status, "dump_data": dump.hex().upper() or None}


def mpio_fields(record: RawRecord) -> Fields:
    """Classic ``mpio`` System events (section 2.1)."""
    values = record.data_values()
    fields: Fields = {"mpio_disk": mpio_disk_of(values[0] if values else record.message),
                      **packet_fields(record)}
    event_id = record.event_id or 0
    if event_id in DSM_NAME_EVENTS and len(values) > 1:
        fields["dsm"] = values[1]
    packet = decode_packet(record.binary)
    if packet is None:
        return fields
    if event_id in PATH_ID_EVENTS:
        fields["path_id"] = _path_id(packet.dump_pointer())
    elif event_id == 2:
        fields["path_count"] = packet.dump_dword(0)
    return fields


def disk_fields(record: RawRecord) -> Fields:
    """``disk``/``Disk`` events: volume-less; keep the PDO for 153/154, the disk number of
    ``%1`` (``\\Device\\HarddiskM\\DRM``) or, for 153/154, of ``%3`` (``Disk %3``)."""
    values = record.data_values()
    fields: Fields = packet_fields(record, values)
    match = _HARDDISK.match(values[0]) if values else None
    fields["disk_number"] = int(match.group(1)) if match else None
    if record.event_id in (153, 154) and len(values) > 3:
        fields["mpio_disk"] = mpio_disk_of(values[3])
        fields["disk_number"] = field_int(values[2]) if values[2].strip().isdigit() else None
    return fields


def cluster_fields(record: RawRecord) -> Fields:
    """``Microsoft-Windows-FailoverClustering`` (docs/failover-clustering.md): inserts read by
    position into the CSV (``volume``), resource (``device``), role (``trigger``), node named
    (``target``), ``disk_number`` and error code (``status``); never an MPIO disk."""
    event = cluster_event(record.event_id)
    if event is None:
        return {}
    columns: Fields = dict(event.columns(record.data_values()))
    if "disk_number" in columns:
        columns["disk_number"] = field_int(str(columns["disk_number"]))
    if "status" in columns:
        columns["status"] = status_of(str(columns["status"]))
    return columns


def status_of(text: str) -> int | None:
    """The error code a cluster event quotes: ``STATUS_IO_TIMEOUT(c00000b5)`` -> 0xC00000B5,
    ``(1460)`` or ``1460`` -> 1460; ``None`` when the text holds none."""
    match = _STATUS_TEXT.search(text.strip())
    if match is None:
        return None
    prefixed, bare, paren, plain = match.groups()
    hex_digits = prefixed or bare
    return int(hex_digits, 16) if hex_digits else int(paren or plain)


def ntfs_fields(record: RawRecord) -> Fields:
    """``Ntfs`` / ``Microsoft-Windows-Ntfs`` (section 2.4): 50 names the lost file in ``%2``."""
    data = record.data_dict()
    values = record.data_values()
    event_id = record.event_id
    if event_id == 50:
        file = values[1] if len(values) > 1 else _file_from_message(record.message)
        volume = (values[0] or None) if values else None
        return {"file": file, "volume": volume or volume_of(file)}
    if event_id in (55, 137):
        return {"volume": values[1] if len(values) > 1 else None}
    if event_id == 140:
        return {"volume": data.get("DeviceName") or (values[1] if len(values) > 1 else None)}
    if event_id == 98:
        return {"volume": data.get("DriveName") or data.get("DeviceName")}
    return {}


def popup_fields(record: RawRecord) -> Fields:
    """``Application Popup`` 26: only the delayed-write caption names a lost file."""
    data = record.data_dict()
    values = record.data_values()
    caption = data.get("Caption") or (values[0] if values else "")
    text = data.get("Message") or (values[1] if len(values) > 1 else "") or record.message or ""
    if not DELAYED_WRITE_CAPTION.search(caption or "") and not _file_from_message(text):
        return {}
    file = _file_from_message(text)
    return {"file": file, "volume": volume_of(file)}


def _file_from_message(text: str | None) -> str | None:
    if not text:
        return None
    match = _DELAYED_WRITE_FILE.search(text)
    return match.group(1).strip() if match else None


def iscsi_fields(record: RawRecord) -> Fields:
    """``iScsiPrt``: ``%1`` is ``\\Device\\RaidPortN``; some dumps carry the target."""
    fields = packet_fields(record)
    packet = decode_packet(record.binary)
    if packet is not None and record.event_id in ISCSI_TARGET_EVENTS:
        fields["target"] = dump_text(packet.dump_data)
    return fields


def dump_text(dump: bytes) -> str | None:
    """Printable text in a dump: UTF-16LE if it decodes so, else ASCII; ``None`` otherwise."""
    for encoding in ("utf-16-le", "ascii"):
        if encoding == "utf-16-le" and (len(dump) % 2 or b"\x00" not in dump[1::2]):
            continue
        try:
            text = dump.decode(encoding).split("\x00", 1)[0].strip()
        except UnicodeDecodeError:
            continue
        if text and text.isprintable():
            return text
    return None


def os_fields(record: RawRecord) -> Fields:
    """The OS an EventLog 6009 (``%1`` version, ``%2`` build) or Kernel-General 12 (named
    Major/Minor/BuildVersion) names, for the hotfix check (domain reference 3.6)."""
    data = record.data_dict()
    if record.provider.lower() == "eventlog":
        version, build = (data.get("1", ""), data.get("2")) if record.event_id == 6009 \
            else (None, None)
    elif record.event_id == 12:
        version = f"{data.get('MajorVersion', '')}.{data.get('MinorVersion', '')}"
        build = data.get("BuildVersion")
    else:
        return {}
    if version is None or build is None or not (build.isascii() and build.isdigit()):
        return {}
    return {"os_version": version, "os_build": int(build)}


def restart_fields(record: RawRecord) -> Fields:
    """USER32 1074 (a planned restart): ``%2``, the computer it restarts, as ``target``."""
    values = record.data_values()
    return {"target": values[1]} if record.event_id == 1074 and len(values) > 1 else {}


def install_fields(record: RawRecord) -> Fields:
    """WindowsUpdateClient / Servicing: the ``ErrorCode`` of an install as ``status``."""
    code = record.data_dict().get("ErrorCode", "").strip()
    return {"status": field_int(code)} if code else {}


_TRACE_INT = {
    "MpioDisk": "mpio_disk", "PathId": "path_id", "FailoverId": "failover_id",
    "RequestId": "request_id", "NewPathId": "new_path_id", "ReturnedPathId": "new_path_id",
    "Status": "status", "PathCount": "path_count", "ValidPathCount": "valid_paths",
}
_TRACE_TEXT = {"OldState": "old_state", "NewState": "new_state", "Trigger": "trigger",
               "Reason": "trigger", "DsmId": "dsm"}


def trace_fields(record: RawRecord) -> Fields:
    """Decoded MPIO/MSDSM trace events (section 4.4)."""
    fields: Fields = {}
    for name, value in record.data:
        if name in _TRACE_INT:
            fields[_TRACE_INT[name]] = field_int(value)
        elif name in _TRACE_TEXT:
            fields[_TRACE_TEXT[name]] = value
    return fields


EXTRACTORS: dict[str, Callable[[RawRecord], Fields]] = {
    "mpio": mpio_fields,
    "microsoft-windows-mpio": mpio_fields,
    "disk": disk_fields,
    "ntfs": ntfs_fields,
    "microsoft-windows-ntfs": ntfs_fields,
    "ftdisk": ntfs_fields,
    "application popup": popup_fields,
    "iscsiprt": iscsi_fields,
    provider_name().lower(): cluster_fields,
    "eventlog": os_fields,
    "microsoft-windows-kernel-general": os_fields,
    "microsoft-windows-windowsupdateclient": install_fields,
    "microsoft-windows-servicing": install_fields,
    "user32": restart_fields,
}

_RECORD_INPUTS = operator.attrgetter("event_id", "data", "binary", "message")


def record_inputs(record: RawRecord) -> Hashable:
    """Everything of ``record`` an extractor of :data:`EXTRACTORS` may read, besides the kind
    and provider that chose it: records equal in it get equal fields."""
    return _RECORD_INPUTS(record)


_DATA = operator.attrgetter("data")
_VALUE = operator.itemgetter(1)


class Reads:
    """What an extractor reads of a record besides its kind and provider: ``attributes`` of
    the record, the values of its inserts at ``positions``, how many inserts it has."""

    def __init__(self, attributes: tuple[str, ...], positions: tuple[int, ...]) -> None:
        self.attributes, self.positions = attributes, positions
        self.getters = [operator.attrgetter(name) for name in attributes]
        self._inserts = [operator.itemgetter(position) for position in positions]

    def of(self, record: RawRecord) -> Hashable:
        """The key of ``record``: records with equal keys get equal fields."""
        data = record.data
        return (len(data), *(getattr(record, name) for name in self.attributes),
                *(data[position][1] for position in self.positions if position < len(data)))

    def of_records(self, records: list[RawRecord]) -> Iterable[Hashable]:
        """:meth:`of` each record; a batch of one insert count without a Python call per
        record."""
        datas = list(map(_DATA, records))
        counts = list(map(len, datas))
        if not counts or counts.count(counts[0]) != len(counts):
            return map(self.of, records)
        count = counts[0]
        return zip(itertools.repeat(count), *(map(getter, records) for getter in self.getters),
                   *(map(_VALUE, map(getter, datas)) for getter, position in
                     zip(self._inserts, self.positions, strict=True) if position < count))


DISK_READS = Reads(("event_id", "binary"), (0, 2, 3))
"""What :func:`disk_fields` reads: the event id, ``%1``, ``%3`` and ``%4``, how many inserts,
the binary (a disk 153 storm differs only in ``%2``, the block address)."""
disk_inputs = DISK_READS.of
disks_inputs = DISK_READS.of_records


EXTRACTOR_READS: dict[Callable[[RawRecord], Fields], Reads] = {disk_fields: DISK_READS}
"""Extractors that read less of a record than :func:`record_inputs`, and what they read."""


def records_inputs(records: list[RawRecord]) -> Iterable[Hashable]:
    """:func:`record_inputs` of each record."""
    return map(_RECORD_INPUTS, records)


RELEVANT_PROVIDERS = relevance().providers
"""Providers with at least one event that can matter (``catalog/relevance.yaml``)."""


def extract(record: RawRecord) -> Fields:
    """Typed fields of ``record`` for its provider (trace events by their kind)."""
    extractor = extractor_of(record.kind, record.provider)
    return extractor(record) if extractor else {}


def extractor_of(kind: str, provider: str) -> Callable[[RawRecord], Fields] | None:
    """The extractor of records of ``kind`` and ``provider`` (``None``: no typed fields)."""
    if kind.startswith("etw:"):
        return trace_fields
    return EXTRACTORS.get(provider.lower())


def is_relevant(record: RawRecord) -> bool:
    """Whether a record can matter for an MPIO case (``catalog/relevance.yaml``; trace events
    always): by provider, event id and, for context events, the text of its data and message."""
    if record.kind.startswith("etw:"):
        return True
    rule = relevance().rule(record.provider)
    if rule is KEEP_ALL:  # every event of the provider: no texts to gather
        return True
    return rule is not None and rule.keeps(
        record.event_id, (*(value for _, value in record.data), record.message), record.level)
