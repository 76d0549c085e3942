"""Fuzz the HTML report with log-controlled strings.

The input is split at ``0xff`` bytes (never part of UTF-8) into up to six fields, decoded as
UTF-8 with replacement: host name, file name (a Delayed Write Failed file), message, an
EventData value, source file name and an input problem's detail. They are placed into a
synthetic race case (:mod:`tests.report.cases`), which goes through the real analysis frame,
timelines and report context, and the HTML is rendered. Invariants, checked on the HTML parsed
with ``lxml.html``:

- rendering never raises;
- no ``<script>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<base>`` or ``<meta>`` refresh
  element, no ``on*`` event-handler attribute, no ``javascript:``/``vbscript:``/``data:`` URL
  in a link or source attribute;
- every element and attribute name in the output is one the templates (``reports/``) write,
  so no markup comes from the input;
- every non-blank field shown in the report (all but the EventData value) appears in the HTML
  source in its escaped form (``markupsafe.escape``), after controls and bidi overrides were
  made visible (:func:`evtxmpio.report.visible.show_hidden`).

Run: ``python tests/fuzz/fuzz_report.py [libFuzzer flags] [corpus dirs]`` (``-max_len``
defaults to 4096).
"""

from __future__ import annotations

import functools
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.fuzz import common

with common.instrumented(__name__ == "__main__"):
    import lxml.html
    import markupsafe

    from evtxmpio.ingest import IngestIssue
    from evtxmpio.report.html import render_html
    from evtxmpio.report.visible import show_hidden
    from evtxmpio.resources import data_dir
    from tests.report.cases import make_case, make_rule, race_events

DEFAULTS = {"max_len": "4096"}
FIELDS = ("host", "file", "message", "data", "source", "detail")
SHOWN = ("host", "file", "message", "source", "detail")
FORBIDDEN_TAGS = {"script", "iframe", "object", "embed", "base", "frame", "frameset", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                  "background", "srcset"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")


@functools.cache
def template_markup() -> tuple[frozenset[str], frozenset[str]]:
    """Element and attribute names the report templates can write."""
    text = "".join(path.read_text(encoding="utf-8")
                   for path in sorted(data_dir("reports").glob("*.j2")))
    tags = {tag.lower() for tag in re.findall(r"</?([A-Za-z][A-Za-z0-9-]*)", text)}
    attributes = {name.lower() for name in re.findall(r"\s([A-Za-z_:][-A-Za-z0-9_:.]*)=", text)}
    attributes |= {name.lower() for name in re.findall(r"\s(open|checked|selected|hidden)\b",
                                                          text)}
    return frozenset(tags), frozenset(attributes)


def split_fields(data: bytes) -> dict[str, str]:
    """The input's fields by name (missing ones are empty)."""
    parts = data.split(b"\xff", len(FIELDS) - 1)
    parts += [b""] * (len(FIELDS) - len(parts))
    return {name: part.decode("utf-8", "replace") for name, part in zip(FIELDS, parts,
                                                                        strict=True)}


def render(fields: dict[str, str]) -> str:
    """The HTML report of a race case carrying ``fields``."""
    events = race_events(host=fields["host"], file=fields["file"], source=fields["source"],
                         message=fields["message"] or None)
    events.append({"name": "application popup:26", "host": fields["host"],
                   "time": "2011-06-14T07:48:02Z", "message": fields["message"],
                   "source_file": fields["source"], "data": json.dumps({"1": fields["data"]})})
    case = make_case(events, make_rule(), source=fields["source"])
    case.issues.append(IngestIssue(fields["source"], 12, "evtx.bad-record", fields["detail"]))
    return render_html(case)


def check_markup(html: str) -> None:
    """No active content, and only the templates' element and attribute names."""
    tags, attributes = template_markup()
    document = lxml.html.document_fromstring(html.encode("utf-8"))
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        tag = element.tag.lower()
        assert tag not in FORBIDDEN_TAGS, f"<{tag}> in the report"
        assert tag in tags or tag in ("html", "head", "body"), f"<{tag}> not from a template"
        if tag == "meta":
            assert element.get("http-equiv", "").lower() != "refresh", "meta refresh"
        for name, value in element.attrib.items():
            name = name.lower()
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            assert name in attributes, f"attribute {name} on <{tag}> not from a template"
            if name in URL_ATTRIBUTES:
                url = _CONTROL.sub("", value).lower()
                assert not url.startswith(BAD_SCHEMES), f"{name}={value!r} on <{tag}>"


def TestOneInput(data: bytes) -> None:
    """One input: the fields, separated by 0xff bytes."""
    fields = split_fields(data)
    html = render(fields)
    check_markup(html)
    for name in SHOWN:
        if fields[name].strip():
            escaped = str(markupsafe.escape(show_hidden(fields[name])))
            assert escaped in html, f"{name} {fields[name]!r} not shown escaped"


if __name__ == "__main__":
    common.fuzz_main(TestOneInput, DEFAULTS)
