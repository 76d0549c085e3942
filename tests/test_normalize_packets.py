"""IO_ERROR_LOG_PACKET fields and device/target columns of classic driver events."""

from __future__ import annotations

import struct

from evtxmpio.model import RawRecord
from evtxmpio.normalize import normalize_record
from evtxmpio.normalize.iopacket import decode_packet


def _packet(event_id: int, qualifiers: int, dump: bytes, status: int, unique: int) -> bytes:
    return struct.pack("<BBHHHHHIIIIIq", 0x0F, 1, len(dump), 1, 0x28 + len(dump), 0, 0,
                       (qualifiers << 16) | event_id, unique, status, 7, 0, 0) + dump


def _record(provider: str, event_id: int, qualifiers: int, data: list[str], binary: bytes
            ) -> RawRecord:
    return RawRecord("system:test:event", 0, provider, event_id, "t.xml", "test",
                     qualifiers=qualifiers, data=tuple((None, v) for v in data), binary=binary)


def test_domain_reference_example_packet() -> None:
    """The mpio 16 of domain reference section 1.5, byte for byte."""
    binary = bytes.fromhex("000008000100300000000000100008C0120000009D0000C02D0000000000000000"
                           "000000000000000100037700000000")
    packet = decode_packet(binary)
    assert packet is not None
    assert (packet.error_code, packet.final_status, packet.unique_error_value) == (
        0xC0080010, 0xC000009D, 0x12)
    assert packet.event_id == 16
    assert packet.dump_pointer() == 0x77030001


def test_mpio_event_columns() -> None:
    binary = _packet(16, 49160, struct.pack("<Q", 0x77030001), 0xC000009D, 0x44)
    event = normalize_record(_record("mpio", 16, 49160, [r"\Device\MPIODisk3"], binary))
    assert (event.mpio_disk, event.path_id, event.device) == (3, 0x77030001,
                                                              r"\Device\MPIODisk3")
    assert (event.error_code, event.unique_error, event.status) == (0xC0080010, 0x44,
                                                                    0xC000009D)
    assert event.dump_data == "0100037700000000"


def test_iscsi_target_name_from_dump() -> None:
    target = "iqn.1991-05.com.microsoft:san01-lun1-target"
    dump = target.encode("utf-16-le") + b"\x00\x00"
    dump += b"\x00" * (-len(dump) % 4)
    event = normalize_record(_record("iScsiPrt", 34, 16384, [r"\Device\RaidPort3"],
                                     _packet(34, 16384, dump, 0, 0)))
    assert event.device == r"\Device\RaidPort3"
    assert event.target == target


def test_short_binary_is_not_a_packet() -> None:
    event = normalize_record(_record("disk", 153, 32772, [r"\Device\Harddisk0\DR0"], b"\x01"))
    assert event.error_code is None and event.dump_data is None
    assert event.device == r"\Device\Harddisk0\DR0"
