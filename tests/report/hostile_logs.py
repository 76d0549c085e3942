"""Hostile *logs* for the end-to-end report tests: a replayed KB 2406705 race whose log text
and input file names carry HTML, script, CSS, template, terminal and Unicode payloads.

The case is the ``kb2406705-race`` sample workload on two hosts, so it still gives a verdict,
findings, evidence, swim lanes, delayed-write failures and input problems, and every one of them
shows text that came from a log:

* host 1 -> ``System-<name payload>.evtx`` (replay .evtx writer): Computer, the MPIO device
  (``%1`` of every mpio event), the DSM name of mpio 32, the volume and the file of Ntfs 50 and
  of the delayed-write popup;
* host 1 -> ``MPIO-<name payload>.etw.csv`` (tracerpt CSV): the failover ``Trigger`` field,
  with a NUL and terminal escapes (the format allows them), and one cut row (an input problem);
* host 2 -> ``System-<name payload>-2.xml`` (Event Viewer XML): the same fields, Event Viewer's
  rendered ``Message``, and one malformed ``<Event>`` (an input problem);
* host 3 -> ``System-<name payload>-3.csv`` (``Get-WinEvent | Export-Csv``): MachineName and
  Message, both with a NUL (CSV, unlike XML, can hold one).

Host 2's name, the DSM name and the trigger start like spreadsheet formulas (``FORMULAS``).

Each payload sets its own ``window`` flag if it ever runs.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evtxmpio.replay import system_log
from evtxmpio.replay.etw_writer import TraceCsvWriter
from evtxmpio.replay.evtx_writer import write_evtx
from evtxmpio.replay.messages import render_message
from evtxmpio.replay.model import FailoverModel
from evtxmpio.replay.stream import generate_stream
from evtxmpio.replay.workload import Workload, load_workload, seconds_to_ns
from evtxmpio.replay.xml_writer import system_time, write_event_xml
from tests.conftest import SAMPLES

WORKLOAD = SAMPLES / "kb2406705-race" / "workload.yaml"


@dataclass(frozen=True, slots=True)
class Payload:
    """One hostile string: ``text`` goes into the log, ``shown`` is what the report shows
    (identical except control and bidi characters, which are made visible); ``flag`` is the
    ``window`` property it sets if it runs.
    """

    name: str
    text: str
    flag: str | None = None
    shown: str | None = None

    @property
    def visible(self) -> str:
        """How the HTML report shows the text."""
        return self.text if self.shown is None else self.shown


ATTACKER = "attacker.invalid"
PAYLOADS = (
    Payload("script", "<script>window.__pwned_script=1</script>", "__pwned_script"),
    Payload("img-onerror", '<img src=x onerror="window.__pwned_img=1">', "__pwned_img"),
    Payload("svg-onload", "<svg onload=window.__pwned_svg=1>", "__pwned_svg"),
    Payload("javascript-link", '<a href="javascript:window.__pwned_link=1">open</a>',
            "__pwned_link"),
    Payload("javascript-url", "javascript:window.__pwned_url=1", "__pwned_url"),
    Payload("style-breakout", "</style><script>window.__pwned_style=1</script>",
            "__pwned_style"),
    Payload("title-breakout", "</title><script>window.__pwned_title=1</script>",
            "__pwned_title"),
    Payload("textarea-breakout", "</textarea><script>window.__pwned_textarea=1</script>",
            "__pwned_textarea"),
    Payload("comment-breakout", "--><script>window.__pwned_comment=1</script><!--",
            "__pwned_comment"),
    Payload("cdata-breakout", "]]><svg onload=window.__pwned_cdata=1>", "__pwned_cdata"),
    Payload("attribute-double-quote", '" onmouseover="window.__pwned_attr_dq=1" data-x="',
            "__pwned_attr_dq"),
    Payload("attribute-single-quote", "' onfocus='window.__pwned_attr_sq=1' autofocus x='",
            "__pwned_attr_sq"),
    Payload("css-url", f'<div style="background:url(http://{ATTACKER}/css.png)">css</div> '
            f"url(http://{ATTACKER}/bare.png)"),
    Payload("meta-refresh", f'<meta http-equiv="refresh" content="0;url=http://{ATTACKER}/m">'),
    Payload("iframe-srcdoc", '<iframe srcdoc="<script>parent.__pwned_iframe=1</script>">'
            "</iframe>", "__pwned_iframe"),
    Payload("entity", "&lt;img src=x onerror=window.__pwned_entity=1&gt; &amp;amp;",
            "__pwned_entity"),
    Payload("jinja", "{{ 7*7 }}{% if true %}jinja-ran{% endif %}{{ self.__init__ }}"),
    Payload("bidi-override", "invoice\u202excod.exe", shown="invoice⟨U+202E⟩xcod.exe"),
    Payload("bidi-isolate", "\u2067admin\u2069", shown="⟨U+2067⟩admin⟨U+2069⟩"),
    Payload("terminal-escape", "\x1b[2J\x1b]0;pwned\x07", shown="␛[2J␛]0;pwned␇"),
    Payload("rich-markup", f"[link=http://{ATTACKER}/r]rich[/link][bold red]b[/][/]"),
    Payload("line-separators", "one\u2028two\u2029three\x85four",
            shown="one\u2028two\u2029three⟨U+0085⟩four"),
)
NUL = Payload("nul", "before\x00after", shown="before␀after")
FLAGS = tuple(p.flag for p in PAYLOADS if p.flag)
# Everything in one string, in every log field that carries text.
ALL = " ".join(p.text for p in PAYLOADS)
# Input file names on disk cannot hold "/" (nor NUL); these payloads fit in one.
FILE_NAME_PAYLOADS = (
    Payload("file-img", "<img src=x onerror=window.__pwned_fname=1>", "__pwned_fname"),
    Payload("file-svg", "<svg onload=window.__pwned_fsvg=1>", "__pwned_fsvg"),
    Payload("file-quotes", "\" onmouseover=\"window.__pwned_fq=1\" '", "__pwned_fq"),
    Payload("file-jinja", "{{ 7*7 }}"),
    Payload("file-bidi", "\u202eslx", shown="⟨U+202E⟩slx"),
)
FILE_NAME = "".join(p.text for p in FILE_NAME_PAYLOADS)
ALL_FLAGS = FLAGS + tuple(p.flag for p in FILE_NAME_PAYLOADS if p.flag)
# Whole fields that start like a spreadsheet formula (CSV injection).
FORMULA_HOST = '=HYPERLINK("http://attacker.invalid/h","FS02")'
FORMULA_DSM = "@SUM(1+1)*cmd|' /C calc'!A0"
FORMULA_TRIGGER = "+cmd|' /C calc'!A0"
FORMULAS = (FORMULA_HOST, FORMULA_DSM, FORMULA_TRIGGER)
HOSTS = (f"FS01 {ALL}", f"{FORMULA_HOST} {ALL}", f"FS03 {ALL} {NUL.text}")
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def as_read(text: str) -> str:
    """``text`` as the .evtx and Event XML readers give it: the C0 controls XML cannot hold
    come out as their Control Pictures (``\\x1b`` -> ``␛``)."""
    return _XML_FORBIDDEN.sub(lambda match: chr(0x2400 + ord(match.group())), text)


READ_HOSTS = (as_read(HOSTS[0]), as_read(HOSTS[1]), HOSTS[2])  # CSV keeps every character
READ_ALL = as_read(ALL)
TEXT_OF_HOST = dict(zip(READ_HOSTS, (READ_ALL, READ_ALL, ALL), strict=True))
"""Each host's payload text as read: hosts 1 and 2 from .evtx / XML, host 3 from CSV."""


def hostile_workload() -> Workload:
    """The race sample's workload on two hostile hosts with hostile volumes and files."""
    data: dict[str, Any] = yaml.safe_load(WORKLOAD.read_text(encoding="utf-8"))
    first = data["hosts"][0]
    hosts, faults = [], []
    for number, name in enumerate(HOSTS):
        host = {**first, "name": name, "first_record_id": 1000 * (number + 1)}
        host["luns"] = [{**lun, "volume": f"{lun['volume']} {ALL}",
                         "files": [f"\\Data\\{ALL}.{n}.db" for n in range(2)]}
                        for lun in first["luns"]]
        hosts.append(host)
        faults += [{**fault, "host": name} for fault in data["faults"]]
    return load_workload({**data, "hosts": hosts, "faults": faults})


def _hostile_event(event: Any) -> Any:
    if event.provider != "mpio" or not event.data:
        return event
    data = (f"{event.data[0]} {ALL}", *(f"{FORMULA_DSM} {ALL}" for _ in event.data[1:]))
    return dataclasses.replace(event, data=data)


def _hostile_trace(event: Any, extra: str) -> Any:
    fields = tuple((name, f"{FORMULA_TRIGGER} {ALL} {extra}" if name == "Trigger" else value)
                   for name, value in event.fields)
    return dataclasses.replace(event, fields=fields)


def write_hostile_logs(folder: Path) -> list[Path]:
    """Write the hostile case's input files into ``folder``; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    workload = hostile_workload()
    model = FailoverModel(workload, "buggy").run(generate_stream(workload))
    one, two, three = workload.hosts
    evtx = folder / f"System-{FILE_NAME}.evtx"
    write_evtx(evtx, (_hostile_event(e) for e in system_log(workload, one, model)))
    xml = folder / f"System-{FILE_NAME}-2.xml"
    write_event_xml(xml, (_hostile_event(e) for e in system_log(workload, two, model)),
                    "eventviewer")
    text = xml.read_text(encoding="utf-8")
    broken = "<Event><System><Provider Name='mpio'/></Event>\n"  # mismatched tags
    xml.write_text(text.replace("</Events>", broken + "</Events>"), encoding="utf-8")
    trace = folder / f"MPIO-{FILE_NAME}.etw.csv"
    writer = TraceCsvWriter(trace, workload.start_ns + seconds_to_ns(workload.io_start_s))
    for event in model.trace_events(one.name):
        writer.write(_hostile_trace(event, NUL.text))
    writer.close()
    with trace.open("a", encoding="utf-8", newline="\r\n") as handle:
        handle.write("MPIO, FailoverStart, 1\n")  # a cut row
    export = folder / f"System-{FILE_NAME}-3.csv"
    _write_export_csv(export, (_hostile_event(e) for e in system_log(workload, three, model)))
    return [evtx, xml, trace, export]


EXPORT_CSV_COLUMNS = ("Message", "Id", "Qualifiers", "Level", "RecordId", "ProviderName",
                      "LogName", "MachineName", "TimeCreated")


def _write_export_csv(path: Path, events: Any) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        handle.write("#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")
        writer.writerow(EXPORT_CSV_COLUMNS)
        for event in events:
            message = render_message(event)
            if event.provider == "mpio":
                message = f"{message} {NUL.text}"
            writer.writerow((message, event.event_id, event.qualifiers or "", event.level,
                             event.record_id, event.provider, event.channel, event.computer,
                             system_time(event.time_ns)))
