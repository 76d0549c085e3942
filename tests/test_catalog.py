"""The catalogue of Windows facts: one home, read by every stage, true to independent sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from evtxmpio import catalog
from evtxmpio.ingest import ingest_paths
from evtxmpio.model import RawRecord
from evtxmpio.normalize import normalize_records
from evtxmpio.normalize.messages import render_message
from evtxmpio.replay.events import SystemEvent
from evtxmpio.replay.messages import render_message as replay_message

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "evtxmpio"


@pytest.mark.parametrize(("filetime", "when"), [
    (0, datetime(1601, 1, 1, tzinfo=UTC)),
    (116_444_736_000_000_000, datetime(1970, 1, 1, tzinfo=UTC)),
    # 2011-06-14T07:47:10.4021132Z, computed by datetime arithmetic from 1601, not by the code.
    (129_525_004_304_021_132, datetime(1601, 1, 1, tzinfo=UTC)
     + timedelta(microseconds=129_525_004_304_021_132 // 10)),
])
def test_filetime_epoch(filetime: int, when: datetime) -> None:
    unix_ns = (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    unix_ns += (filetime % 10) * 100
    assert catalog.filetime_to_ns(filetime) == unix_ns
    assert catalog.ns_to_filetime(unix_ns) == filetime


def test_no_second_copy_of_a_fact_in_python() -> None:
    """The FILETIME epoch, fixed mpio.sys versions, trace GUIDs, templates: catalogue only."""
    facts = ["116_444_736_000_000_000", "116444736000000000", "6.1.7601.21720", "6.0.6002.22610",
             "8e9ac05f-13fd-4507-85cd-b47adc105ff6", "dedadff5-f99f-4600-b8c9-2d4d9b806b5b",
             "68fdd900-4a3e-11d1-84f4-0000f80464e3", "A fail-over on %1 occurred.",
             '"http://schemas.microsoft.com/win/2004/08/events/event"', "Related Activity ID",
             "{16, 18, 19, 25, 33}"]
    copies = [f"{path.relative_to(REPO)}: {fact}"
              for path in PACKAGE.rglob("*.py") if "catalog" not in path.parts
              for fact in facts if fact.lower() in path.read_text(encoding="utf-8").lower()]
    rules = [f"{path.name}: {fact}" for path in (REPO / "rules").glob("*.yaml")
             for fact in facts if fact in path.read_text(encoding="utf-8")]
    assert copies == [] and rules == []


@pytest.mark.parametrize(("version", "build", "name", "fixed"), [
    ("6.00.", 6001, "Windows Server 2008 SP1", "6.0.6001.22876"),
    ("6.0", 6002, "Windows Server 2008 SP2", "6.0.6002.22610"),
    ("6.01.", 7600, "Windows Server 2008 R2 RTM", "6.1.7600.20959"),
    ("6.1", 7601, "Windows Server 2008 R2 SP1", "6.1.7601.21720"),
    ("6.2", 9200, "Windows Server 2012", None),
    ("6.03.", 9600, "Windows Server 2012 R2", None),
    ("10.0", 17763, "Windows Server 2019", None),
])
def test_windows_releases_and_kb2406705(version: str, build: int, name: str,
                                        fixed: str | None) -> None:
    release = catalog.windows_release(version, build)
    assert release is not None and release.name == name and release.known
    kb = catalog.fix("KB 2406705")
    assert kb.component == "mpio.sys"
    assert kb.fixed_version(release) == fixed
    assert kb.applies_to(release) is (fixed is not None)


def test_unknown_release_is_named_and_not_fixed() -> None:
    release = catalog.windows_release("6.4", 9841)
    assert release is not None and not release.known and "6.4" in release.name
    assert not catalog.fix("KB2406705").applies_to(release)
    assert catalog.windows_release("Service Pack 1", 7601) is None
    with pytest.raises(KeyError):
        catalog.fix("KB1")


def test_trace_vocabulary_is_section_4_4() -> None:
    events = catalog.trace_events()
    assert len(events) == 12
    assert events["FailoverStart"].fields == ("MpioDisk", "PathId", "FailoverId", "Trigger",
                                              "RequestId")
    assert catalog.trace_event(102).name == "GetPathResult"
    assert catalog.trace_fields("msdsm", "GetPathResult")[-1] == "ValidPathCount"
    assert catalog.trace_fields("MPIO", "GetPathResult") == ()


def test_every_group_names_real_events() -> None:
    known_trace = {f"{e.provider}:{n}" for n, e in catalog.trace_events().items()}
    providers = catalog.message_providers() | {"ftdisk"}
    for group in catalog.GROUPS:
        for name in catalog.event_group(group):
            provider, _, what = name.partition(":")
            assert name in known_trace or (provider in providers and what.isdigit()), name
    with pytest.raises(KeyError):
        catalog.event_group("nonsense")


def test_flapping_threshold_is_the_rule() -> None:
    rule = yaml.safe_load((REPO / "rules" / "mpio-path-flapping.yaml").read_text("utf-8"))
    threshold = catalog.flapping_threshold()
    assert (threshold.min_epochs, threshold.window_s) == (rule["conditions"][0]["min"],
                                                          rule["conditions"][0]["window"])


def _classic(provider: str, event_id: int, *values: str, message: str | None = None
             ) -> RawRecord:
    return RawRecord(kind="system:xml:event", time_ns=0, provider=provider, event_id=event_id,
                     source_path="x", reader="test", message=message,
                     data=tuple((None, v) for v in values))


def test_replay_writes_what_normalize_reads() -> None:
    data = ("\\Device\\MPIODisk2", "Microsoft DSM")
    written = replay_message(SystemEvent(time_ns=0, record_id=1, provider="mpio", event_id=32,
                                         level=2, computer="FS01", data=data))
    assert written == "Microsoft DSM failed to return a Path to \\Device\\MPIODisk2."
    assert render_message(_classic("mpio", 32, *data)) == written
    assert render_message(_classic("Microsoft-Windows-MPIO", 32, *data)) == written


def test_exported_text_wins_over_an_unfilled_template() -> None:
    """Issue 16 item 11: a CSV export has the text but no insertion strings."""
    text = "{Delayed Write Failed} Windows was unable to save all the data for the file E:\\a.db."
    assert render_message(_classic("Ntfs", 50, message=text)) == text
    assert "%2" in render_message(_classic("Ntfs", 50))  # nothing better to show
    assert render_message(_classic("Ntfs", 50, "", "E:\\a.db", message="x")).endswith(
        "for the file E:\\a.db. The data has been lost. This error may be caused by a failure "
        "of your computer hardware or network connection. Please try to save this file "
        "elsewhere.")


def test_csv_export_rows_keep_their_message_text(tmp_path: Path) -> None:
    export = tmp_path / "System.csv"
    export.write_text(
        "Level,Date and Time,Source,Event ID,Task Category\n"
        "Warning,6/14/2011 9:47:15 AM,Ntfs,50,(2),\"{Delayed Write Failed} Windows was unable to "
        "save all the data for the file E:\\data\\ledger.dat. The data has been lost.\"\n"
        "Error,6/14/2011 9:47:10 AM,mpio,16,None,A fail-over on \\Device\\MPIODisk1 occurred.\n",
        encoding="utf-8")
    result = ingest_paths([export])
    frame = normalize_records(result.records)
    messages = dict(zip(frame["event_id"], frame["message"], strict=True))
    assert "E:\\data\\ledger.dat" in messages[50]
    assert messages[16] == "A fail-over on \\Device\\MPIODisk1 occurred."
    assert not frame["message"].str.contains("%").any()


def test_rules_use_the_catalogue_groups() -> None:
    """The delayed-write rule and detect.delayed_writes read one list, the catalogue's."""
    from evtxmpio.detect import shipped_rules
    from evtxmpio.detect.conditions import validate_conditions
    from evtxmpio.errors import RuleError

    rule = next(r for r in shipped_rules() if r.id == "delayed-write-failed")
    assert rule.spec["conditions"][0]["select"]["name"] == {"in_group": "delayed-write"}
    with pytest.raises(RuleError, match="unknown event group 'lost-writes'"):
        validate_conditions({"name": {"in_group": "lost-writes"}}, {"name"}, "x.yaml")
