"""A stream of ``<Event>`` elements in XML text -> one record per well-formed event.

Shared by the Event XML exports (:mod:`evtxmpio.ingest.eventxml`) and tracerpt's XML
(:mod:`evtxmpio.ingest.tracerpt`). The file is decoded incrementally
(:mod:`evtxmpio.ingest.decode`) and cut into one text fragment per ``<Event>`` element
(:class:`EventSplitter`), and each fragment is parsed on its own by lxml with entities, DTDs
and the network off. So a file with a root (``<Events>``) and one without (wevtutil's events
back to back) both stream in bounded memory, and damage costs only the event it hits: a broken
event is one failed record and reading resumes at the next ``<Event``; an event larger than the
``xml-event`` limit is skipped the same way; a file cut in the middle keeps every complete
event before the cut. Hostile markup is never acted on: a DOCTYPE (internal subset included)
is skipped with an issue, entity references other than XML's five are kept as literal text
(``&xxe;``), nothing is fetched or read.

Why not lxml's own incremental parser (``etree.XMLPullParser``)? It parses one document: after
the first malformed event it either stops (the rest of the file is lost) or, with
``recover=True``, repairs the markup its own way, which can swallow the events after the damage
into the broken one or invent elements; and wevtutil's root-less output is not one document.
Re-synchronising on the next ``<Event`` is what keeps "a malformed event costs that event",
so the splitter stays and lxml parses each fragment (``tests/hostile/test_exports.py``,
``tests/ingest/test_event_stream.py`` show both).
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lxml import etree

from evtxmpio.ingest.base import IngestIssue, ReadOptions, SkippedRecords, Source
from evtxmpio.ingest.decode import REPLACE_ERRORS, detect_encoding, replacements, undecodable_issue
from evtxmpio.ingest.event_element import event_to_record, parse_event_xml
from evtxmpio.model import RawRecord

FEED_CHARS = 1 << 20
DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.DOTALL)


def decoded_pieces(source: Source, replaced: list[int]) -> Iterator[str]:
    """The file's text in pieces of about ``FEED_CHARS``; BOM and declaration removed.

    ``replaced[0]`` counts the undecodable byte sequences shown as U+FFFD so far.
    """
    with source.open() as stream:
        head = stream.read(4096)
        decoder = codecs.getincrementaldecoder(detect_encoding(head))(errors=REPLACE_ERRORS)

        def decode(block: bytes, final: bool = False) -> str:
            before = replacements()
            text = decoder.decode(block, final)
            replaced[0] += replacements() - before
            return text

        first = decode(head)
        yield DECLARATION.sub("", first.lstrip("\ufeff"), count=1)
        while block := stream.read(FEED_CHARS):
            yield decode(block)
        yield decode(b"", final=True)


@dataclass(frozen=True, slots=True)
class Fragment:
    """The text of one ``<Event>`` element and its character offset in the file."""

    offset: int
    text: str


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the splitter met outside a well-formed event."""

    offset: int
    code: str
    detail: str
    records_failed: int = 0
    truncated: bool = False


_EVENT_START = r"<Event[\s>/]"
_OUTSIDE = re.compile(r"<!--|<!DOCTYPE|<!ENTITY|<Events[\s>]|</Events\s*>|" + _EVENT_START)
_INSIDE = re.compile(r"</Event\s*>|<!--|<!\[CDATA\[|" + _EVENT_START)
_SKIPPING = re.compile(r"</Event\s*>|" + _EVENT_START)
_KEEP_TAIL = 16  # characters kept back when nothing matched: a token may be split


class EventSplitter:
    """Cut a stream of XML text into ``<Event>`` fragments, skipping everything else.

    Comments, processing instructions, the ``<Events>`` root and a DOCTYPE are skipped outside
    events; inside an event, comments and CDATA sections are stepped over so that markup
    inside them does not end the event. Memory is bounded by ``limit`` characters per event.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = ""
        self._base = 0  # file offset of _buffer[0]
        self._start: int | None = None  # buffer index of the open event's "<Event"
        self._scan = 0  # buffer index to resume scanning from
        self._skipping = False  # inside an event that was too large
        self._doctype_seen = False
        self._root: int | None = None  # file offset of an <Events> root not closed yet

    def feed(self, text: str) -> Iterator[Fragment | Problem]:
        """Fragments and problems completed by ``text``."""
        self._buffer += text
        yield from self._split(final=False)

    def close(self) -> Iterator[Fragment | Problem]:
        """What is left at the end of the file."""
        yield from self._split(final=True)
        if self._start is not None:
            size = len(self._buffer) - self._start
            yield Problem(self._base + self._start, "xml.truncated",
                          f"the file ends inside an <Event> ({size} characters); every "
                          "complete event before it is kept", truncated=True)
        elif self._skipping:
            yield Problem(self._base, "xml.truncated",
                          "the file ends inside an oversized <Event>", truncated=True)
        else:
            tail = self._buffer[self._scan:].rstrip()
            start = tail.rfind("<")
            if start >= 0 and "<Events".startswith(tail[start:]):
                tag = "its <Events>" if tail[start:] == "<Events" else "an <Event>"
                yield Problem(self._base + self._scan + start, "xml.truncated",
                              f"the file ends inside {tag} start tag; every complete event "
                              "before it is kept", truncated=True)
            elif self._root is not None:  # a whole export ends with </Events>
                yield Problem(self._base + len(self._buffer), "xml.truncated",
                              "the file ends before the </Events> that closes its <Events> "
                              "(cut short); every complete event before it is kept",
                              truncated=True)

    def _split(self, final: bool) -> Iterator[Fragment | Problem]:
        buffer = self._buffer
        while True:
            if self._start is not None:
                step = self._inside(buffer, final)
            elif self._skipping:
                step = self._skip_oversized(buffer)
            else:
                step = self._outside(buffer, final)
            if step is None:
                break
            yield from step
        self._compact()

    def _outside(self, buffer: str, final: bool) -> list[Fragment | Problem] | None:
        match = _OUTSIDE.search(buffer, self._scan)
        if match is None:
            self._scan = max(self._scan, len(buffer) - _KEEP_TAIL)
            return None
        token = match.group()
        if token.startswith("<Events"):
            self._root = self._base + match.start()
            self._scan = match.end()
            return []
        if token.startswith("</Events"):
            self._root = None
            self._scan = match.end()
            return []
        if token.startswith("<Event"):
            self._start = match.start()
            self._scan = match.start() + 6
            return []
        if token == "<!--":
            end = buffer.find("-->", match.end())
            if end < 0:
                return self._wait(buffer, match.start(), final, "comment")
            self._scan = end + 3
            return []
        end = _declaration_end(buffer, match.end())  # <!DOCTYPE ...> or <!ENTITY ...>
        if end < 0:
            return self._wait(buffer, match.start(), final, "DOCTYPE")
        self._scan = end + 1
        if self._doctype_seen:
            return []
        self._doctype_seen = True
        return [Problem(self._base + match.start(), "xml.doctype-ignored",
                        "DOCTYPE/ENTITY declarations skipped: no DTD is loaded, no entity is "
                        "expanded and nothing is fetched; events are read as they are")]

    def _wait(self, buffer: str, at: int, final: bool, what: str
              ) -> list[Fragment | Problem] | None:
        """An unfinished comment or declaration: wait for more text, within the limit."""
        if final or len(buffer) - at > self.limit:
            self._scan = len(buffer)
            return [Problem(self._base + at, "xml.unclosed-markup",
                            f"{what} not closed within {self.limit} characters; skipped")]
        self._scan = at
        return None

    def _inside(self, buffer: str, final: bool) -> list[Fragment | Problem] | None:
        start = self._start
        assert start is not None
        position = self._scan
        while True:
            match = _INSIDE.search(buffer, position)
            if match is None:
                break
            token = match.group()
            if token.startswith("</Event"):
                self._start = None
                self._scan = match.end()
                if match.end() - start > self.limit:
                    return [self._too_large(start)]
                return [Fragment(self._base + start, buffer[start:match.end()])]
            if token.startswith("<Event"):
                self._start = match.start()
                self._scan = match.start() + 6
                return [Problem(self._base + start, "xml.bad-event",
                                "an <Event> without its end tag; reading resumes at the "
                                "next <Event>", records_failed=1)]
            close = "-->" if token == "<!--" else "]]>"
            end = buffer.find(close, match.end())
            if end < 0:
                break
            position = end + len(close)
        self._scan = position if match is None else match.start()
        if self._scan - start > self.limit or len(buffer) - start > self.limit:
            self._start = None
            self._skipping = True
            self._scan = len(buffer)
            return [self._too_large(start)]
        if match is None:
            self._scan = max(position, len(buffer) - _KEEP_TAIL)
        self._scan = max(self._scan, start + 6)
        return None

    def _too_large(self, start: int) -> Problem:
        return Problem(self._base + start, "xml.event-too-large",
                       f"an <Event> longer than {self.limit} characters (limit xml-event); "
                       "skipped, reading resumes after it", records_failed=1)

    def _skip_oversized(self, buffer: str) -> list[Fragment | Problem] | None:
        match = _SKIPPING.search(buffer, self._scan)
        if match is None:
            self._scan = max(self._scan, len(buffer) - _KEEP_TAIL)
            return None
        self._skipping = False
        if match.group().startswith("<Event"):
            self._start = match.start()
            self._scan = match.start() + 6
        else:
            self._scan = match.end()
        return []

    def _compact(self) -> None:
        keep = self._scan if self._start is None else self._start
        if keep > 0:
            self._buffer = self._buffer[keep:]
            self._base += keep
            self._scan -= keep
            if self._start is not None:
                self._start -= keep


# Possessive quantifiers: no backtracking, linear time on an unclosed declaration.
_DECLARATION_REST = re.compile(
    r"""(?:[^\[\]"'>]++|"[^"]*+"|'[^']*+'|\[(?:[^\]"']++|"[^"]*+"|'[^']*+')*+\])*+>""")


def _declaration_end(text: str, position: int) -> int:
    """Index of the ``>`` closing a declaration (quotes and ``[...]`` respected), or -1."""
    match = _DECLARATION_REST.match(text, position)
    return match.end() - 1 if match else -1


_UNKNOWN_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);)"
                             r"([A-Za-z_:][\w.:-]*;)?")


_XMLNS = re.compile(r"""\s+xmlns(?::[\w.-]+)?\s*=\s*(?:"[^"<]*"|'[^'<]*')""")


def parse_fragment(text: str) -> tuple[etree._Element, int]:
    """Parse one event's text; return the element and how many entity references stay text.

    Entity references other than XML's five (and character references) are never expanded:
    their ``&`` is escaped, so ``&xxe;`` is read as the text ``&xxe;``; a stray ``&`` is kept
    the same way. A fragment whose namespace declarations are damaged is read without them.

    Raises:
        etree.XMLSyntaxError: when the fragment is not a well-formed element.
    """
    entities = 0
    if "&" in text:
        def escape(match: re.Match[str]) -> str:
            nonlocal entities
            entities += match.group(1) is not None
            return "&amp;" + (match.group(1) or "")

        text = _UNKNOWN_ENTITY.sub(escape, text)
    try:
        return parse_event_xml(text), entities
    except etree.XMLSyntaxError:
        # Names are matched by local name, so a damaged namespace declaration (an invalid
        # URI) need not cost the event: try once more without the declarations.
        bare = _XMLNS.sub("", text)
        if bare == text:
            raise
        return parse_event_xml(bare), entities


SkipEvent = Callable[[etree._Element], "str | None"]


def read_event_stream(
    source: Source, options: ReadOptions | None, reader: str, kind: str,
    skip_event: SkipEvent | None = None,
) -> Iterator[RawRecord | IngestIssue | SkippedRecords]:
    """Yield one :class:`RawRecord` per well-formed ``<Event>``, and issues for the rest.

    Args:
        source: the input.
        options: read options (``xml_event_chars`` bounds one event).
        reader: reader name recorded on each record.
        kind: record kind (trace MPIO/MSDSM events are recognised by provider and GUID).
        skip_event: returns a skip reason for events to count but not build (e.g. the
            trace header of a tracerpt export); they come out as :class:`SkippedRecords`.
    """
    splitter = EventSplitter((options or ReadOptions()).xml_event_chars)
    replaced = [0]
    entities = 0
    for piece in itertools.chain(decoded_pieces(source, replaced), [None]):
        for item in splitter.feed(piece) if piece is not None else splitter.close():
            built, unexpanded = _item(item, source.name, reader, kind, skip_event)
            entities += unexpanded > 0
            yield built
    if entities:
        yield IngestIssue(source.name, None, "xml.entity-not-expanded",
                          f"{entities} event(s) hold entity references other than XML's own; "
                          "they were not expanded and are shown as text (&name;)")
    if replaced[0]:
        yield undecodable_issue(source.name, replaced[0])


def _item(item: Fragment | Problem, name: str, reader: str, kind: str,
          skip_event: SkipEvent | None
          ) -> tuple[RawRecord | IngestIssue | SkippedRecords, int]:
    """The record (or issue) of one splitter item, and its unexpanded entity references."""
    if isinstance(item, Problem):
        return IngestIssue(name, item.offset, item.code, item.detail,
                           records_failed=item.records_failed, truncated=item.truncated), 0
    try:
        element, entities = parse_fragment(item.text)
    except etree.XMLSyntaxError as exc:
        return IngestIssue(name, item.offset, "xml.bad-event",
                           f"a malformed <Event> ({exc.msg}); reading resumes at the next "
                           "<Event>", records_failed=1), 0
    if not isinstance(element.tag, str) or element.tag.rpartition("}")[2] != "Event":
        return IngestIssue(name, item.offset, "xml.bad-event", "not an <Event> element",
                           records_failed=1), 0
    reason = skip_event(element) if skip_event is not None else None
    if reason is not None:
        return SkippedRecords(name, 1, reason, item.offset), entities
    return event_to_record(element, name, reader, kind=kind), entities
