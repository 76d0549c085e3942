"""Relevance by provider, event id and content loses nothing an analysis uses (issue 13).

Every decision is checked against a full decode with ``all_events=True``: on the corpus System
logs and on replayed System logs of each benchmark mix, the verdict, findings, timelines, LUN
outcomes, hotfix status and delayed writes are the same, and the accounting is exact with each
skip reason. Which records are kept is also counted independently, with the Rust ``evtx``
package and the event list the issue gives, not with the code under test.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from evtxmpio import pipeline
from evtxmpio.catalog.relevance import relevance
from evtxmpio.ingest import ingest_paths
from evtxmpio.normalize.providers import is_relevant
from evtxmpio.replay import replay
from evtxmpio.report.jsonout import case_dict
from tests.conftest import evtx_rendered

CORPUS_SYSTEM_LOGS = (
    "evtx/michkoll__fakenevtx/System.evtx",
    "evtx/omerbenamram__evtx/system.evtx",
    "evtx/omerbenamram__evtx/2-vss_7-System.evtx",
    "evtx/williballenthin__python-evtx/system.evtx",
    "evtx/log2timeline__plaso/System.evtx",
)
MIXES = {
    "realistic": {"scm-7036": 36, "scm-7040": 10, "kernel-general-16": 10, "wu-44": 8,
                  "filtermanager-6": 3, "wu-19": 3, "wu-43": 3, "kernel-general-1": 2,
                  "kernel-general-12": 1, "dcom-10016": 2, "eventlog-6013": 1,
                  "dns-client-1014": 1, "ntfs-98": 1, "time-service-37": 1},
    "storm": {"scm-7036": 80, "disk-153": 20},
    "eventlog50": {"scm-7036": 50, "eventlog-6013": 50},
}
SKIP_REASONS = {"not-relevant", "prefiltered"}
# What can matter, as the issue and the domain reference (sections 2, 2.8, 3.6) say, written
# out here and not read from catalog/relevance.yaml: every event of the storage drivers, OS
# start and version, boot and shutdown, restarts, and installs naming the KB 2406705 fix.
DRIVERS = {"mpio", "msdsm", "disk", "ntfs", "microsoft-windows-ntfs", "ftdisk", "iscsiprt",
           "application popup"}
CONTEXT = {("eventlog", 6005), ("eventlog", 6006), ("eventlog", 6008), ("eventlog", 6009),
           ("microsoft-windows-kernel-general", 12), ("microsoft-windows-kernel-general", 13),
           ("user32", 1074)}
KB_EVENTS = {("microsoft-windows-windowsupdateclient", i) for i in (19, 20, 43)}


def _expected_kept(path: Path) -> int:
    kept = 0
    for xml in evtx_rendered(path):
        provider = xml.split('<Provider Name="', 1)[1].split('"', 1)[0].lower()
        event_id = int(xml.split("<EventID", 1)[1].split(">", 1)[1].split("<", 1)[0])
        key = (provider, event_id)
        healthy = key == ("microsoft-windows-ntfs", 98) and "<Level>4<" in xml
        kept += ((provider in DRIVERS and not healthy) or key in CONTEXT
                 or (key in KB_EVENTS and "2406705" in xml))
    return kept


def _replayed(tmp: Path, mix: dict[str, int], records: int = 3000) -> Path:
    replay({
        "name": "mix", "seed": 8, "start": "2011-06-14T00:00:00Z", "duration_s": 3600,
        "io_start_s": 30,
        "hosts": [{"name": "FS01.contoso.local", "utc_offset_minutes": 120,
                   "paths": [0x77030001, 0x77030002],
                   "luns": [{"lun": 0, "mpio_disk": 1, "volume": "\\Device\\HarddiskVolume4",
                             "iops": 1, "write_fraction": 0.5, "files": ["\\Data\\orders.db"]},
                            {"lun": 1, "mpio_disk": 2, "volume": "\\Device\\HarddiskVolume5",
                             "iops": 1, "write_fraction": 1.0, "files": ["\\Data\\ledger.dat"]}]}],
        "faults": [{"type": "surprise-removal", "host": "FS01.contoso.local",
                    "path": 0x77030001, "at_s": 600},
                   {"type": "path-restore", "host": "FS01.contoso.local",
                    "path": 0x77030001, "at_s": 660}],
        "noise": {"per_hour": records, "mix": mix},
    }, "buggy", tmp, formats=("evtx",))
    return next(tmp.glob("System-*.evtx"))


def _outcome(case) -> dict:
    """The case as ``evtxmpio.case/1`` JSON, less what depends on how much was read."""
    out = case_dict(case)
    return {key: value for key, value in out.items() if key not in ("ingest", "generator")}


def _check(path: Path, backend: str = "rust") -> None:
    full = pipeline.analyze([path], all_events=True, backend=backend)
    kept = pipeline.analyze([path], backend=backend)
    expected, got = _outcome(full), _outcome(kept)
    # A host named only by records that cannot matter (a short name on a service event, say)
    # has a hotfix row in the full run that says nothing: no OS, no evidence, status unknown.
    hosts = {row["host"] for row in got["hotfix"]}
    for row in expected["hotfix"]:
        if row["host"] not in hosts:
            assert (row["os"], row["status"], row["evidence"]) == (None, "unknown", [])
    expected["hotfix"] = [row for row in expected["hotfix"] if row["host"] in hosts]
    # Likewise a short name that only such records carry: its merge into the full name is
    # the only trace it leaves, and the host it names is the same.
    merged = got["host_names_merged"]
    assert all(entry in expected["host_names_merged"] for entry in merged)
    assert {entry["into"] for entry in expected["host_names_merged"]} <= {
        row["host"] for row in got["hosts"]}
    expected["host_names_merged"] = merged
    assert got == expected
    [account], [account_full] = kept.accounts, full.accounts
    assert account.records_read == account_full.records_read
    assert account.records_read == account.records_used + account.records_skipped
    assert set(account.skip_reasons) <= SKIP_REASONS
    assert account.records_used == _expected_kept(path)
    # The health ledger sees every record either way (skipped ones in runs or as counts);
    # only the time window differs, where the pre-filter skips chunks undecoded.
    same = ("dirty", "chunks_damaged", "records_recovered", "record_id_gaps",
            "record_id_gap_ranges", "record_id_backwards", "time_backwards")
    health, health_full = account.health.to_dict(), account_full.health.to_dict()
    assert {key: health[key] for key in same} == {key: health_full[key] for key in same}


@pytest.mark.parametrize("name", CORPUS_SYSTEM_LOGS)
def test_corpus_system_log_analysis_equals_all_events(name: str, corpus: Path) -> None:
    _check(corpus / name)


@pytest.mark.parametrize("mix", sorted(MIXES))
def test_replayed_mix_analysis_equals_all_events(mix: str, tmp_path: Path) -> None:
    _check(_replayed(tmp_path, MIXES[mix]))


def test_python_backend_decides_as_the_rust_one(tmp_path: Path) -> None:
    _check(_replayed(tmp_path, MIXES["realistic"], records=400), backend="python")


@pytest.mark.parametrize("name", CORPUS_SYSTEM_LOGS)
def test_decision_on_rendered_xml_equals_decision_on_built_record(name: str, corpus: Path
                                                                  ) -> None:
    """The fast path (``keeps_xml`` before anything is built) keeps what ``keep`` keeps."""
    path = corpus / name
    built = ingest_paths([path], keep=is_relevant, backend="rust", dedupe=False)
    fast = ingest_paths([path], keep=is_relevant, backend="rust", dedupe=False,
                        relevance=relevance(), chunk_prefilter=False)
    key = [(r.source_offset, r.record_id, r.provider, r.event_id) for r in built.records]
    assert [(r.source_offset, r.record_id, r.provider, r.event_id)
            for r in fast.records] == key
    assert fast.accounts[0].records_read == built.accounts[0].records_read


WU = ("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
      "<Provider Name='Microsoft-Windows-WindowsUpdateClient' "
      "Guid='{{945a8954-c147-4acd-923f-40c45405a658}}'/><EventID>{id}</EventID><Level>4</Level>"
      "<TimeCreated SystemTime='2011-06-01T10:00:0{n}.000000Z'/><EventRecordID>{n}"
      "</EventRecordID><Channel>System</Channel><Computer>FS01</Computer></System><EventData>"
      "<Data Name='updateTitle'>{title}</Data><Data Name='updateGuid'>{{A}}</Data>"
      "<Data Name='updateRevisionNumber'>101</Data></EventData></Event>")


def test_update_events_are_kept_only_when_they_name_the_fix(tmp_path: Path) -> None:
    titles = [(19, "Hotfix for Windows Server 2008 R2 x64 Edition (KB2406705)"),
              (44, "Hotfix for Windows Server 2008 R2 x64 Edition (KB2406705)"),
              (19, "Security Update for Windows Server 2008 R2 x64 Edition (KB2479943)"),
              (43, "Update for Windows Server 2008 R2 x64 Edition (KB2406705)")]
    events = "".join(WU.format(id=event_id, n=n, title=title)
                     for n, (event_id, title) in enumerate(titles, start=1))
    path = tmp_path / "System.xml"
    path.write_text(f"<Events>{events}</Events>", encoding="utf-8")
    result = ingest_paths([path], keep=is_relevant, relevance=relevance())
    assert [(r.event_id, r.record_id) for r in result.records] == [(19, 1), (43, 4)]
    assert result.accounts[0].skip_reasons == Counter({"not-relevant": 2})
    assert json.dumps(dict(result.accounts[0].skip_reasons)) == '{"not-relevant": 2}'


@pytest.mark.parametrize("entry", [{"ids": "some"}, {"ids": [12], "naming": "KB1"},
                                   {"quiet": ["98"]}, {"idz": [1]}, {}, "every"])
def test_a_malformed_relevance_entry_is_named(entry) -> None:
    from evtxmpio.catalog.relevance import _rule
    from evtxmpio.errors import Error

    with pytest.raises(Error, match=r"relevance\.yaml: provider 'x'"):
        _rule("x", entry)


def test_quiet_events_are_kept_as_warnings_and_errors() -> None:
    table = relevance()
    assert not table.keeps("Microsoft-Windows-Ntfs", 98, (), level=4)
    assert table.keeps("Microsoft-Windows-Ntfs", 98, (), level=2)
    assert table.keeps("Microsoft-Windows-Ntfs", 55, (), level=2)
    assert not table.keeps("EventLog", 6013, ("-60 W. Europe Standard Time",), level=4)
    assert not table.keeps("Service Control Manager", 7036, ())
