"""Hand-written Failover Clustering events as ``wevtutil qe System /f:xml`` prints them.

Written from docs/failover-clustering.md (the message table's inserts, the provider GUID), by
hand: the Data names here are literals, not read from the catalogue under test.
"""

from __future__ import annotations

import struct
from xml.sax.saxutils import escape

from tests.handwritten import NS

PROVIDER = "Microsoft-Windows-FailoverClustering"
GUID = "{BAF908EA-3421-4CA9-9B84-6689B8C6F85F}"
LEVELS = {5120: 2, 5142: 2, 1069: 2, 1038: 2, 1205: 2, 1254: 2, 1153: 4, 1641: 4, 1135: 1,
          1177: 1, 1792: 3, 1793: 2, 1201: 4, 1204: 4, 1062: 4, 1129: 3, 1650: 4, 5217: 2}


def cluster(host: str, rid: int, time: str, event_id: int, data: list[tuple[str, str]],
            channel: str = "System") -> str:
    """A FailoverClustering event with named Data (``data``: (name, value) in insert order)."""
    items = "".join(f"<Data Name='{name}'>{escape(value)}</Data>" for name, value in data)
    return (f"<Event xmlns='{NS}'><System><Provider Name='{PROVIDER}' Guid='{GUID}'/>"
            f"<EventID>{event_id}</EventID><Version>0</Version>"
            f"<Level>{LEVELS[event_id]}</Level><Task>38</Task><Opcode>0</Opcode>"
            "<Keywords>0x8000000000000000</Keywords>"
            f"<TimeCreated SystemTime='{time}Z'/><EventRecordID>{rid}</EventRecordID>"
            "<Correlation/><Execution ProcessID='2056' ThreadID='4120'/>"
            f"<Channel>{escape(channel)}</Channel><Computer>{escape(host)}</Computer>"
            "<Security UserID='S-1-5-18'/></System>"
            f"<EventData>{items}</EventData></Event>")


def csv_paused(host: str, rid: int, time: str, csv: str, resource: str,
               status: str = "STATUS_IO_TIMEOUT(c00000b5)") -> str:
    return cluster(host, rid, time, 5120, [("VolumeName", csv), ("ResourceName", resource),
                                           ("ErrorCode", status)])


def csv_lost(host: str, rid: int, time: str, csv: str, resource: str) -> str:
    return cluster(host, rid, time, 5142, [("VolumeName", csv), ("ResourceName", resource),
                                           ("ErrorCode", "(1460)")])


def resource_failed(host: str, rid: int, time: str, resource: str, role: str,
                    kind: str = "Physical Disk") -> str:
    return cluster(host, rid, time, 1069, [
        ("ResourceName", resource), ("ResourceGroup", role), ("ResourceType", kind),
        ("ApplicationErrorCode", "The device is not ready."), ("ErrorCause", "0x15")])


def ownership_lost(host: str, rid: int, time: str, resource: str) -> str:
    return cluster(host, rid, time, 1038, [("ResourceName", resource)])


def role_failed(host: str, rid: int, time: str, role: str) -> str:
    return cluster(host, rid, time, 1205, [("ResourceGroup", role)])


def role_moving(host: str, rid: int, time: str, role: str, source: str, to: str) -> str:
    return cluster(host, rid, time, 1153, [("GroupName", role), ("SourceNode", source),
                                           ("TargetNode", to)])


def role_online(host: str, rid: int, time: str, role: str) -> str:
    return cluster(host, rid, time, 1201, [("ResourceGroup", role)])


def node_removed(host: str, rid: int, time: str, node: str) -> str:
    return cluster(host, rid, time, 1135, [("NodeName", node)])


def quorum_lost(host: str, rid: int, time: str) -> str:
    return cluster(host, rid, time, 1177, [])


def disk_health(host: str, rid: int, time: str, resource: str, disk_number: int) -> str:
    """1792: a Physical Disk resource failed its health check; names its Device Number."""
    return cluster(host, rid, time, 1792, [
        ("ResourceName", resource), ("DeviceNumber", str(disk_number)),
        ("DeviceGuid", "{5d4e0b8f-1c2a-4c3b-9e1f-0a1b2c3d4e5f}"), ("ErrorCode", "21"),
        ("Reason", "The device is not ready.")])


def joined(host: str, rid: int, time: str, cluster_name: str) -> str:
    return cluster(host, rid, time, 1062, [("ClusterName", cluster_name)])


def partitioned(host: str, rid: int, time: str, network: str) -> str:
    return cluster(host, rid, time, 1129, [("NetworkName", network)])


def retried(host: str, rid: int, time: str, disk_number: int, mpio_disk: int) -> str:
    """disk 153: an I/O retried on Disk M whose PDO is \\Device\\MPIODiskN (newer builds)."""
    values = [f"\\Device\\Harddisk{disk_number}\\DR{disk_number}", "0x416e32",
              str(disk_number), f"\\Device\\MPIODisk{mpio_disk}"]
    # IO_ERROR_LOG_PACKET: 4 bytes of dump, 4 strings, ErrorCode 0x80040099 (disk 153).
    header = struct.pack("<BBHHHHHIIIIIq", 0x0F, 1, 4, 4, 0x2C, 0, 0, 0x80040099, 0, 0, 0, 0, 0)
    items = "".join(f"<Data>{escape(value)}</Data>" for value in values)
    return (f"<Event xmlns='{NS}'><System><Provider Name='disk'/>"
            "<EventID Qualifiers='32772'>153</EventID><Level>3</Level><Task>0</Task>"
            "<Keywords>0x80000000000000</Keywords>"
            f"<TimeCreated SystemTime='{time}Z'/><EventRecordID>{rid}</EventRecordID>"
            f"<Channel>System</Channel><Computer>{escape(host)}</Computer><Security/></System>"
            f"<EventData>{items}<Binary>{(header + bytes(4)).hex().upper()}</Binary>"
            "</EventData></Event>")
