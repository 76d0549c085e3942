"""The values of one rendered ``<Event>`` read from its text, without an XML tree.

The Rust ``evtx`` package renders every record in one layout (:data:`_RENDERED`);
:func:`rendered_record` reads a text in that layout, with nothing an XML parser would change,
into the :class:`RawRecord` :func:`evtxmpio.ingest.event_element.event_to_record` makes of its
tree (``tests/ingest/test_event_text.py``). Also the value rules both share: the canonical text
of a value, ``<Binary>`` text to bytes, the five predefined entities, the header time refinement.
"""

from __future__ import annotations

import base64
import binascii
import re
from sys import intern

from evtxmpio.catalog import field_int, trace_providers
from evtxmpio.ingest.timefmt import parse_iso_ns
from evtxmpio.model import RawRecord, raw_record

_HEX = re.compile(r"^[0-9A-Fa-f\s]*$")
TRACE_PROVIDERS = frozenset(name.lower() for name in trace_providers())
TRACE_GUIDS = frozenset(guid.strip("{}") for guid in trace_providers().values())

# Characters an XML parser would change (references, carriage returns) or refuse (what XML 1.0
# forbids) in a value; values also hold no markup. Of the references, only the five predefined
# entities are read here (:func:`unescape_entities`).
_PLAIN = r"&\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_ENTITY = "&(?:lt|gt|amp|quot|apos);"
# Repeats are possessive (``*+``): a text (and a line's indentation) is always followed by
# ``<`` and a value by ``"``, which none of them holds, so giving characters back could never
# make a match; not trying costs a quarter less (3.9 -> 2.8 µs a record).
# A text holds no ``]]>`` (XML forbids it there; values hold no ``>``): a ``]`` only when
# ``]>`` does not follow.
_TEXT = f"[^<\\]{_PLAIN}]*+(?:(?:{_ENTITY}|\\](?!\\]>))[^<\\]{_PLAIN}]*+)*+"
_VALUE = f'[^"<>\\t\\n{_PLAIN}]*+(?:{_ENTITY}[^"<>\\t\\n{_PLAIN}]*+)*+'


def _attributes(tag: str) -> str:
    """Attributes as the layout writes them: a plain name (not xmlns, which would change the
    element's namespace) not repeated in its tag (lxml refuses that: values hold no '>', so the
    look-ahead stays in the tag), and a value attribute normalization leaves as it is."""
    return (f' (?!xmlns)(?P<{tag}_name>[A-Za-z]+)="{_VALUE}"'
            f'(?![^>]* (?P={tag}_name)=")')


def _leaf(tag: str, group: str | None = None, attributes: str | None = None,
          optional: bool = True) -> str:
    """One ``<System>`` child on its own line: ``<tag ...>text</tag>``."""
    text = f"(?P<{group}>{_TEXT})" if group else _TEXT
    names = f"(?P<{attributes}>(?:{_attributes(tag)})*)" if attributes else \
        f"(?:{_attributes(tag)})*"
    line = f" *+<{tag}{names}>{text}</{tag}>\n"
    return f"(?:{line})?" if optional else line


# The layout of the Rust ``evtx`` package: each element on its own line; <System> holds leaves
# in the order of the event schema; <EventData> holds only <Data> leaves, then at most one
# <Binary>.
_RENDERED = re.compile(
    '<\\?xml version="1\\.0" encoding="utf-8"\\?>\n'
    '<Event xmlns="http://schemas\\.microsoft\\.com/win/2004/08/events/event">\n'
    ' *+<System>\n'
    + _leaf("Provider", attributes="provider", optional=False)
    + _leaf("EventID", "event_id", "event_id_attributes", optional=False)
    + _leaf("Version") + _leaf("Level", "level") + _leaf("Task") + _leaf("Opcode")
    + _leaf("Keywords") + _leaf("TimeCreated", attributes="time", optional=False)
    + _leaf("EventRecordID", "record_id") + _leaf("Correlation") + _leaf("Execution")
    + _leaf("Channel", "channel") + _leaf("Computer", "computer") + _leaf("Security")
    + ' *+</System>\n'
    '(?: *+<EventData>\n'
    f'(?P<data>(?: *+<Data(?: Name="{_VALUE}")?>{_TEXT}</Data>\\n)*)'
    f'(?: *+<Binary>(?P<binary>{_TEXT})</Binary>\\n)?'
    ' *+</EventData>\n)?'
    '</Event>\n?')
_ATTRIBUTES = re.compile(r' ([A-Za-z]+)="([^"]*)"')
_DATA_ELEMENT = re.compile(r'<Data(?: Name="([^"]*)")?>([^<]*)<')


def rendered_record(text: str, source_path: str, reader: str, kind: str,
                     source_offset: int | None, header_time_ns: int | None) -> RawRecord | None:
    """The record of ``text`` in the Rust layout (see
    :func:`evtxmpio.ingest.event_element.read_event_xml`), else ``None``.

    The values ``event_element._record`` makes of the fields, read from the match directly: the
    ``<System>`` values a log repeats on every record (provider to level, channel, computer)
    once per distinct text (:func:`_head`), the others as it reads them.
    """
    match = _RENDERED.fullmatch(text)
    if match is None:
        return None
    (provider_attributes, event_id, event_id_attributes, level, time_attributes, record_id,
     channel, computer, data_text, binary_text) = match.group(*_GROUP_NUMBERS)
    data = _rendered_data(data_text) if data_text else ()
    if data is None:
        return None  # python-evtx's string blob (see _data_items): left to lxml
    key = (provider_attributes, event_id, event_id_attributes, level, channel, computer, kind)
    head = _HEADS.get(key)
    if head is None:
        head = _head(*key)
        if len(_HEADS) < HEADS_KEPT:
            _HEADS[key] = head
    provider, kind, event_number, qualifiers, level_number, channel, computer = head
    if time_attributes.startswith(' SystemTime="') and time_attributes.count('"') == 2:
        time_text: str | None = unescape_entities(time_attributes[13:-1])  # the one attribute
    else:
        time_text = _attribute_values(time_attributes).get("SystemTime")
    time_ns = refined_time(parse_iso_ns(time_text) if time_text else None, header_time_ns)
    binary = decode_binary(unescape_entities(binary_text)) if binary_text is not None else None
    number = int(record_id) if record_id is not None and record_id.isdigit() and \
        record_id.isascii() else field_int(_leaf_text(record_id))
    return raw_record(kind, time_ns, provider, event_number, source_path, reader, qualifiers,
                      level_number, number, channel, computer, data, binary, None, None,
                      source_offset, event_number is None or time_ns is None or (
                          binary_text is not None and binary is None))


HEADS_KEPT = 4096
# (provider, EventID and Level texts, channel, computer, kind) -> what :func:`_head` reads.
_HEADS: dict[tuple[str | None, ...], tuple[object, ...]] = {}


def _head(provider_attributes: str, event_id: str, event_id_attributes: str, level: str | None,
          channel: str | None, computer: str | None, kind: str) -> tuple[object, ...]:
    """Provider, kind, event id, qualifiers, level, channel and computer as
    ``event_element._record`` makes them of the texts :func:`rendered_record` matched."""
    provider = _attribute_values(provider_attributes)
    name = provider.get("Name") or ""
    return (intern(name), record_kind(name, provider.get("Guid"), kind),
            field_int(unescape_entities(event_id)),
            field_int(_attribute_values(event_id_attributes).get("Qualifiers")),
            field_int(_leaf_text(level)), intern(_leaf_text(channel) or ""),
            intern(_leaf_text(computer) or ""))


def _rendered_data(data_text: str) -> tuple[tuple[str | None, str], ...] | None:
    """The ``<Data>`` items of the layout's ``<EventData>``; ``None`` for python-evtx's string
    blob. Without ``&`` in the text nothing is unescaped, and :func:`canonical_value` changes
    only a value with a line break or of 36 characters."""
    items = _DATA_ELEMENT.findall(data_text)
    if "&" not in data_text:
        return tuple([(name or None, value) if "\n" not in value and len(value) != 36
                      else (name or None, canonical_value(value)) for name, value in items])
    data = tuple((unescape_entities(name) or None, canonical_value(unescape_entities(value)))
                 for name, value in items)
    if "&lt;string&gt;" in data_text and any(name is None and value.startswith("<string>")
                                              for name, value in data):
        return None
    return data


_GROUPS = ("provider", "event_id", "event_id_attributes", "level", "time", "record_id",
           "channel", "computer", "data", "binary")
_GROUP_NUMBERS = tuple(_RENDERED.groupindex[name] for name in _GROUPS)  # no name look-ups


def _attribute_values(attributes: str) -> dict[str, str]:
    return {name: unescape_entities(value) for name, value in _ATTRIBUTES.findall(attributes)}


def _leaf_text(text: str | None) -> str | None:
    """``event_element._text`` of a ``<System>`` child read by :func:`rendered_record`."""
    return canonical_value(unescape_entities(text)) if text is not None else None


def decode_binary(text: str | None) -> bytes | None:
    """``<Binary>`` text to bytes: hex (wevtutil, Rust evtx) or base64 (python-evtx)."""
    if text is None:
        return None
    try:  # the usual case, hex digits alone, read as below: no blank skipped, none refused
        fast = bytes.fromhex(text)
    except ValueError:
        fast = None
    if fast and 2 * len(fast) == len(text):
        return fast
    stripped = "".join(text.split())
    if not stripped:
        return b""
    if _HEX.match(stripped) and len(stripped) % 2 == 0:
        return bytes.fromhex(stripped)
    try:
        return base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        return None


_BARE_GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def canonical_value(text: str) -> str:
    """Undo rendering artefacts so that every reader gives the same value.

    The Rust backend pretty-prints an empty element as a newline plus indentation (so a value
    made only of whitespace with a line break is read as empty, from every reader), and renders
    GUID values without braces; Windows (and python-evtx, see ``evtx_pyrender``) writes
    ``{GUID}``.
    """
    if not text.strip() and "\n" in text:
        return ""
    if len(text) == 36 and _BARE_GUID.match(text):
        return "{" + text + "}"
    return text


def unescape_entities(text: str) -> str:
    """``text`` with the five predefined entities of XML replaced (each ``&`` starting one)."""
    if "&" not in text:
        return text
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        .replace("&apos;", "'").replace("&amp;", "&")
    )


def refined_time(time_ns: int | None, header_time_ns: int | None) -> int | None:
    """``time_ns`` (rendered to the microsecond) refined to the record header's FILETIME when
    that falls in the same microsecond (see
    :func:`evtxmpio.ingest.event_element.event_to_record`)."""
    if (header_time_ns is not None and time_ns is not None and time_ns % 1000 == 0
            and header_time_ns // 1000 == time_ns // 1000):
        return header_time_ns
    return time_ns


def record_kind(provider: str, guid: str | None, kind: str) -> str:
    """``etw:mpio:trace`` for an MPIO trace provider named with its GUID, else ``kind``."""
    if provider.lower() in TRACE_PROVIDERS and (guid or "").strip("{}").lower() in TRACE_GUIDS:
        return "etw:mpio:trace"
    return kind
