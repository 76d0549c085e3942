"""Replay noise looks like the real System logs it stands for (issue 13).

Truth comes from outside the writer: every noise kind's record, decoded by the Rust ``evtx``
package, must have the System fields and data layout of a record of the same provider and event
id in the corpus System logs (``disk-153`` follows the domain reference, section 2.3: the corpus
has none).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evtxmpio.replay import replay
from evtxmpio.replay.workload import NOISE_KINDS, load_workload
from tests.conftest import evtx_rendered

CORPUS_SYSTEM_LOGS = (
    "evtx/michkoll__fakenevtx/System.evtx",
    "evtx/omerbenamram__evtx/system.evtx",
    "evtx/omerbenamram__evtx/2-vss_7-System.evtx",
    "evtx/williballenthin__python-evtx/system.evtx",
    "evtx/log2timeline__plaso/System.evtx",
)
FIELDS = ("Level", "Version", "Task", "Opcode", "Keywords")


def _records(path: Path):
    for text in evtx_rendered(path, as_json=True):
        yield json.loads(text)["Event"]


def _shape(event: dict) -> dict:
    system = event["System"]
    provider = system["Provider"]["#attributes"]
    event_id = system["EventID"]
    qualifiers = event_id.get("#attributes", {}).get("Qualifiers") if isinstance(
        event_id, dict) else None
    data = event.get("EventData") or {}
    names = [key for key in data if key not in ("#attributes", "Binary", "Data")]
    return {
        "provider": provider["Name"],
        "guid": (provider.get("Guid") or "").strip("{}").lower() or None,
        "source": provider.get("EventSourceName"),
        "event_id": int(event_id["#text"] if isinstance(event_id, dict) else event_id),
        "qualifiers": None if qualifiers is None else int(qualifiers),
        **{field: system.get(field) for field in FIELDS},
        "data_names": names,
    }


@pytest.fixture(scope="module")
def corpus_shapes(corpus: Path) -> dict[tuple[str, int], dict]:
    shapes: dict[tuple[str, int], dict] = {}
    for name in CORPUS_SYSTEM_LOGS:
        for event in _records(corpus / name):
            shape = _shape(event)
            shapes.setdefault((shape["provider"], shape["event_id"]), shape)
    return shapes


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, int], dict]:
    out = tmp_path_factory.mktemp("noise")
    workload = load_workload({
        "name": "noise", "seed": 3, "start": "2011-06-14T00:00:00Z", "duration_s": 7200,
        "hosts": [{"name": "FS01", "paths": [0x77030001, 0x77030002],
                   "luns": [{"lun": 0, "mpio_disk": 1, "volume": "\\Device\\HarddiskVolume4"}]}],
        "noise": {"per_hour": 3000, "mix": dict.fromkeys(NOISE_KINDS, 1)},
    })
    replay(workload, "buggy", out, formats=("evtx",))
    shapes: dict[tuple[str, int], dict] = {}
    for path in out.glob("*.evtx"):
        for event in _records(path):
            shape = _shape(event)
            shapes.setdefault((shape["provider"], shape["event_id"]), shape)
    return shapes


def _key(kind: str) -> tuple[str, int]:
    provider, event_id = re.fullmatch(r"(.+)-(\d+)", kind).groups()
    names = {
        "scm": "Service Control Manager", "kernel-general": "Microsoft-Windows-Kernel-General",
        "wu": "Microsoft-Windows-WindowsUpdateClient", "filtermanager":
        "Microsoft-Windows-FilterManager", "dcom": "Microsoft-Windows-DistributedCOM",
        "dns-client": "Microsoft-Windows-DNS-Client", "ntfs": "Microsoft-Windows-Ntfs",
        "time-service": "Microsoft-Windows-Time-Service", "eventlog": "EventLog", "disk": "disk",
    }
    return names[provider], int(event_id)


@pytest.mark.parametrize("kind", [k for k in NOISE_KINDS if k != "disk-153"])
def test_noise_kind_has_the_shape_of_the_corpus_record(kind, corpus_shapes, replayed) -> None:
    key = _key(kind)
    assert key in replayed, f"{kind} was not written"
    assert replayed[key] == corpus_shapes[key]


def test_disk_153_follows_the_domain_reference(replayed) -> None:
    shape = replayed[("disk", 153)]
    assert (shape["qualifiers"], shape["Level"], shape["guid"]) == (32772, 3, None)


def test_disk_153_packet_and_strings(tmp_path: Path) -> None:
    workload = load_workload({
        "name": "storm", "seed": 1, "start": "2011-06-14T00:00:00Z", "duration_s": 600,
        "hosts": [{"name": "FS01", "paths": [1, 2],
                   "luns": [{"lun": 0, "mpio_disk": 3, "volume": "\\Device\\HarddiskVolume4"}]}],
        "noise": {"per_hour": 600, "mix": {"disk-153": 1}},
    })
    replay(workload, "buggy", tmp_path, formats=("evtx",))
    events = [e for path in tmp_path.glob("*.evtx") for e in _records(path)
              if e["System"]["Provider"]["#attributes"]["Name"] == "disk"]
    assert events
    for event in events:
        data = event["EventData"]["Data"]["#text"]
        assert data[0] == "\\Device\\Harddisk3\\DR3" and data[2] == "3"
        assert re.fullmatch(r"0x[0-9a-f]+", data[1])
        binary = bytes.fromhex(event["EventData"]["Binary"])
        # ErrorCode at 0x0C is the full message id 0x80040099 (section 1.4 worked example).
        assert int.from_bytes(binary[0x0C:0x10], "little") == 0x80040099
        assert int.from_bytes(binary[4:6], "little") == len(data)
