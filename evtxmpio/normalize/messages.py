"""Offline message text for the providers of the domain reference.

Customers' message DLLs are not available to us, so reports render the message templates of
domain reference section 2 here, filling ``%1``, ``%2`` ... with the insertion strings (and
manifest events' named fields in order). Unknown events fall back to the message the export
carried, or to a plain list of their data.
"""

from __future__ import annotations

import re

from evtxmpio.model import RawRecord

_MPIO = {
    1: "%1 created.",
    2: "Added device to %1. DumpData contains the current number of paths.",
    3: "There was an error creating a device claimed by %2.",
    16: "A fail-over on %1 occurred.",
    17: "%1 is currently in a degraded state. One or more paths have failed, though the "
        "process is now complete.",
    18: "A Single Path Fail-Over is being attempted on %1.",
    19: "An operation failed on %1 due to lack of memory.",
    20: "A Path Verification request to a device on %1 that is controlled by %2 has failed. "
        "This may indicate a Path Failure.",
    21: "The internal state of %1 is inconsistent. This indicates potential failures in this "
        "support.",
    22: "A fail-over on %1 was attempted, however the attempt failed. The devices will be "
        "removed.",
    23: "All paths have failed. %1 will be removed.",
    24: "A PnP operation was rejected, as %1 is not in a state where the request can be "
        "honoured.",
    25: "Requests that were queued to %1 have failed during resubmission.",
    26: "Reference counts on either %1 or an object controller by it are incorrect. Removal of "
        "this object will not be possible.",
    32: "%2 failed to return a Path to %1.",
    33: "%2 returned a bogus Path to %1.",
    34: "%2 failed final initialisation on %1.",
    35: "%2 supplied an invalid ID for an operation on %1.",
    36: "An unknown DSM supplied an invalid ID for an operation on %1.",
    37: "%2 is attempting an operation on %1. The Type is noted in the dump data.",
    38: "A device under %1, being controlled by %2 was removed, but the DSM failed the "
        "operation.",
    39: "Serial number for device %1 was built using VPD 0x80 information because %2 didn't "
        "provide one.",
}
_DISK = {
    7: "The device, %1, has a bad block.",
    9: "The device, %1, did not respond within the timeout period.",
    11: "The driver detected a controller error on %1.",
    15: "The device, %1, is not ready for access yet.",
    34: "The driver disabled the write cache on device %1.",
    51: "An error was detected on device %1 during a paging operation.",
    153: "The IO operation at logical block address %2 for Disk %3 (PDO name: %4) was retried.",
    154: "The IO operation at logical block address %2 for Disk %3 (PDO name: %4) failed due "
         "to a hardware error.",
    157: "Disk %2 has been surprise removed.",
}
_NTFS = {
    50: "{Delayed Write Failed} Windows was unable to save all the data for the file %2. The "
        "data has been lost. This error may be caused by a failure of your computer hardware "
        "or network connection. Please try to save this file elsewhere.",
    55: "The file system structure on the disk is corrupt and unusable. Please run the chkdsk "
        "utility on the volume %2.",
    57: "The system failed to flush data to the transaction log. Corruption may occur.",
    98: "Volume %1 (%2) %3",
    137: "The default transaction resource manager on volume %2 encountered a non-retryable "
         "error and could not start. The data contains the error code.",
    140: "The system failed to flush data to the transaction log. Corruption may occur in "
         "VolumeId: %1, DeviceName: %2. (%3)",
}
_ISCSI = {
    1: "Initiator failed to connect to the target.",
    7: "The initiator could not send an iSCSI PDU.",
    9: "Target did not respond in time for a SCSI request.",
    20: "Connection to the target was lost. The initiator will attempt to retry the connection.",
    27: "Initiator could not find a match for the initiator task tag in the received PDU.",
    32: "Initiator received an asynchronous logout message.",
    34: "A connection to the target was lost, but Initiator successfully reconnected to the "
        "target.",
    39: "Initiator sent a task management command to reset the target.",
    129: "Reset to device, %1, was issued.",
}
_EVENTLOG = {
    6005: "The Event log service was started.",
    6006: "The Event log service was stopped.",
    6008: "The previous system shutdown at %1 on %2 was unexpected.",
    6009: "Microsoft (R) Windows (R) %1. %2 %3 %4.",
    6013: "The system uptime is %5 seconds.",
}
TEMPLATES: dict[str, dict[int, str]] = {
    "mpio": _MPIO,
    "microsoft-windows-mpio": _MPIO,
    "disk": _DISK,
    "ntfs": _NTFS,
    "microsoft-windows-ntfs": _NTFS,
    "iscsiprt": _ISCSI,
    "eventlog": _EVENTLOG,
    "application popup": {26: "Application popup: %1 : %2"},
}
_INSERT = re.compile(r"%(\d+)")


def render_message(record: RawRecord) -> str | None:
    """The message text of ``record``: its template filled in, or what the export carried."""
    template = TEMPLATES.get(record.provider.lower(), {}).get(record.event_id or -1)
    if template is None:
        if record.message:
            return record.message
        if record.kind.startswith("etw:") and record.task_name:
            items = ", ".join(f"{name}={value}" for name, value in record.data)
            return f"{record.provider} {record.task_name}: {items}"
        return None
    values = record.data_values()

    def insert(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return _INSERT.sub(insert, template)
