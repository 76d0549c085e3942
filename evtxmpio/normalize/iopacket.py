"""Decode the IO_ERROR_LOG_PACKET carried in a classic driver event's ``<Binary>``.

Layout: domain reference section 1.4 (``wdm.h`` ``IO_ERROR_LOG_PACKET``): a fixed 40-byte
header, then ``DumpDataSize`` bytes of driver-defined DumpData. All integers little-endian.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER = struct.Struct("<BBHHHHHIIIIIq")
assert HEADER.size == 0x28


@dataclass(frozen=True, slots=True)
class IoErrorLogPacket:
    """The decoded header fields and the DumpData bytes."""

    major_function: int
    retry_count: int
    dump_data_size: int
    number_of_strings: int
    string_offset: int
    event_category: int
    error_code: int
    unique_error_value: int
    final_status: int
    sequence_number: int
    io_control_code: int
    device_offset: int
    dump_data: bytes

    @property
    def event_id(self) -> int:
        """Low 16 bits of the error code: the event id it should match."""
        return self.error_code & 0xFFFF

    def dump_pointer(self) -> int | None:
        """First pointer-sized DumpData value (Path ID, DSM ID): 8 bytes if present, else 4."""
        if len(self.dump_data) >= 8:
            return struct.unpack_from("<Q", self.dump_data)[0]
        if len(self.dump_data) >= 4:
            return struct.unpack_from("<I", self.dump_data)[0]
        return None

    def dump_dword(self, index: int = 0) -> int | None:
        """DumpData as 32-bit words: the ``index``-th, or ``None`` when short."""
        start = index * 4
        if len(self.dump_data) < start + 4:
            return None
        return struct.unpack_from("<I", self.dump_data, start)[0]


def decode_packet(binary: bytes | None) -> IoErrorLogPacket | None:
    """Decode ``binary``; ``None`` when it is too short to be a packet."""
    if binary is None or len(binary) < HEADER.size:
        return None
    (major, retry, dump_size, n_strings, str_offset, category, _pad, error_code, unique,
     final_status, sequence, ioctl, device_offset) = HEADER.unpack_from(binary)
    dump = binary[HEADER.size:HEADER.size + dump_size]
    return IoErrorLogPacket(major, retry, dump_size, n_strings, str_offset, category,
                            error_code, unique, final_status, sequence, ioctl, device_offset,
                            dump)
