"""One frame contract from ingest to report (issue 13).

The event frame gets every column, ``name`` included, once, in normalize; the timeline returns
the checked analysis frame (``episode``, ``paths_left``) that detect reads; what detect needs
from the Data fields is typed by normalize, not parsed again; and the frame a case hands out
(``CaseResult.events``) passes ``check_analysis_frame``. Expected names and values are written
out by hand from the domain reference, not computed by the code under test.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from evtxmpio import pipeline
from evtxmpio.model import (
    ANALYSIS_COLUMNS,
    EVENT_COLUMNS,
    RawRecord,
    check_analysis_frame,
    check_frame,
    empty_frame,
)
from evtxmpio.normalize import normalize_records
from evtxmpio.timeline import analysis_frame
from tests import handwritten as hw
from tests.conftest import RACE_XML_CASE

NODE = "NODE1.contoso.local"


def _record(provider: str, event_id: int | None, kind: str = "system:xml:event",
            data: tuple[tuple[str | None, str], ...] = (), record_id: int = 1) -> RawRecord:
    return RawRecord(kind=kind, time_ns=1_308_037_630_000_000_000 + record_id, provider=provider,
                     event_id=event_id, source_path="System.xml", reader="test",
                     record_id=record_id, computer=NODE, channel="System", data=data)


def test_name_is_an_event_column_set_once_by_normalize() -> None:
    records = [
        _record("mpio", 16, record_id=1),
        _record("Application Popup", 26, record_id=2),
        _record("Microsoft-Windows-Kernel-General", None, record_id=3),
        _record("MPIO", 1, kind="etw:mpio:trace", record_id=4),   # trace id 1: FailoverStart
        _record("MSDSM", 102, kind="etw:mpio:trace", record_id=5),  # GetPathResult
        _record("MPIO", 9999, kind="etw:mpio:trace", record_id=6),  # not in the vocabulary
    ]
    frame = normalize_records(records)
    assert "name" in EVENT_COLUMNS and str(frame["name"].dtype) == "string"
    assert list(frame["name"]) == ["mpio:16", "application popup:26",
                                   "microsoft-windows-kernel-general:None",
                                   "MPIO:FailoverStart", "MSDSM:GetPathResult", "MPIO:9999"]


def test_an_event_frame_without_name_is_refused() -> None:
    frame = empty_frame()
    check_frame(frame)
    with pytest.raises(TypeError, match="columns"):
        check_frame(frame.drop(columns="name"))
    with pytest.raises(TypeError, match="'name' is object"):
        check_frame(frame.astype({"name": object}))
    with pytest.raises(TypeError, match="columns"):
        analysis_frame(frame.drop(columns="name"))


def test_the_checks_refuse_an_index_rules_cannot_point_into() -> None:
    frame = normalize_records([_record("mpio", 16, record_id=n) for n in (1, 2, 3)])
    with pytest.raises(TypeError, match="index"):
        check_frame(frame.iloc[[2, 0, 1]])


def test_the_timeline_returns_the_checked_analysis_frame() -> None:
    events = normalize_records([_record("mpio", 16, record_id=1)])
    frame = analysis_frame(events)
    assert list(frame.columns) == list(ANALYSIS_COLUMNS)
    assert list(frame.columns)[-3:] == ["name", "episode", "paths_left"]
    check_analysis_frame(frame)
    with pytest.raises(TypeError, match="analysis frame columns"):
        check_analysis_frame(events)


def test_a_case_hands_out_a_checked_analysis_frame() -> None:
    case = pipeline.analyze([RACE_XML_CASE])
    check_analysis_frame(case.events)
    assert case.events["name"].str.fullmatch(r"mpio:\d+").any()
    assert case.events["episode"].notna().any()


@pytest.mark.parametrize(("data", "version", "build"), [
    ((("1", "6.01."), ("2", "7601"), ("3", "Service Pack 1")), "6.01.", 7601),
    ((("1", "6.03."), ("2", "9600")), "6.03.", 9600),
    ((("1", "6.01."), ("2", "\u00b2\u00b3")), None, None),  # digits int() cannot read
    ((("1", "6.01."),), None, None),
])
def test_eventlog_6009_names_the_os_as_typed_columns(data: tuple, version: str | None,
                                                      build: int | None) -> None:
    frame = normalize_records([_record("EventLog", 6009, data=data)])
    assert (None if pd.isna(frame.at[0, "os_version"]) else frame.at[0, "os_version"]) == version
    assert (None if pd.isna(frame.at[0, "os_build"]) else frame.at[0, "os_build"]) == build


def test_kernel_general_12_names_the_os_as_typed_columns() -> None:
    data = (("MajorVersion", "6"), ("MinorVersion", "1"), ("BuildVersion", "7601"),
            ("QfeVersion", "17514"))
    frame = normalize_records([_record("Microsoft-Windows-Kernel-General", 12, data=data)])
    assert frame.at[0, "os_version"] == "6.1" and frame.at[0, "os_build"] == 7601


@pytest.mark.parametrize(("code", "status"), [("0x0", 0), ("0x800f081e", 0x800F081E)])
def test_the_error_code_of_an_install_is_typed(code: str, status: int) -> None:
    data = (("PackageIdentifier", "KB2406705"), ("ErrorCode", code))
    frame = normalize_records([_record("Microsoft-Windows-Servicing", 2, data=data)])
    assert frame.at[0, "status"] == status


def test_hotfix_reads_the_typed_columns_not_the_json(tmp_path: Path) -> None:
    """An OS event whose build does not parse as a number costs nothing (it used to raise
    ValueError from ``int('²')`` and lose the whole case)."""
    log = hw.write(tmp_path / "System.xml", [
        hw.classic(NODE, 1, "2011-06-14T06:58:01.0000000", "EventLog", 6009,
                   ["6.01.", "\u00b2", "Service Pack 1", "Multiprocessor Free", "17514"]),
        hw.os_info(NODE, 2, "2011-06-14T06:58:02.0000000", "2012R2"),
        hw.created(NODE, 3, "2011-06-14T06:58:20.1000000", 1)])
    case = pipeline.analyze([log], all_events=True)
    assert case.hotfix[0].os is not None and "2012 R2" in case.hotfix[0].os
    assert case.hotfix[0].evidence == (1,)  # the second OS event (row labels are 0-based)


def test_the_computer_a_restart_names_is_typed() -> None:
    """USER32 1074 ``%2`` (domain reference 2.8) is what host unification reads, as ``target``."""
    data = tuple((None, value) for value in (
        "C:\\Windows\\system32\\winlogon.exe (NODE1)", "NODE1", "No title", "0x500ff",
        "restart", "", "CONTOSO\\admin"))
    frame = normalize_records([_record("USER32", 1074, data=data)])
    assert frame.at[0, "target"] == "NODE1"


def test_detect_and_timeline_parse_no_json() -> None:
    """What they need from the Data fields is a typed column; a new ``json`` import there
    means someone is parsing the ``data`` text again."""
    package = Path(__file__).resolve().parents[1] / "evtxmpio"
    users = []
    for path in sorted([*package.glob("detect/*.py"), *package.glob("timeline/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) else []
            if any(name and name.split(".")[0] == "json" for name in names):
                users.append(path.name)
    assert users == []


def test_folded_in_is_casefold_membership_row_by_row() -> None:
    from evtxmpio.model import folded_in

    column = pd.Series(["System", "SYSTEM", None, "", "ForwardedEvents", "Straße", "STRASSE",
                        "system "], dtype="string", index=[5, 3, 9, 0, 1, 2, 4, 8])
    for names in [("system",), ("system", ""), ("forwardedevents",), ("strasse",), ("none",),
                  ()]:
        expected = [isinstance(value, str) and value.casefold() in names
                    for value in column.astype(object).where(column.notna(), None)]
        mask = folded_in(column, names)
        assert mask.dtype == bool and list(mask.index) == list(column.index)
        assert mask.tolist() == expected, names
