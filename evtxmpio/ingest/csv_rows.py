"""CSV rows of an input file, bounded per line, decoded by BOM or encoding, damage counted.

Shared by the System-log CSV exports (:mod:`evtxmpio.ingest.csv_export`) and tracerpt's CSV
(:mod:`evtxmpio.ingest.tracerpt`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from evtxmpio.ingest.base import IngestIssue, ReadOptions, Source
from evtxmpio.ingest.decode import REPLACE_ERRORS, detect_encoding, replacements, undecodable_issue


def field_limit(options: ReadOptions | None) -> int:
    """The longest CSV field or line the options allow (limit ``csv-field``)."""
    return (options or ReadOptions()).csv_field_chars


def csv_rows(source: Source, limit: int, **csv_options: object
             ) -> Iterator[list[str] | csv.Error | IngestIssue]:
    """CSV rows of the file, decoded by BOM/encoding; a bad row comes out as its error.

    A field or a line longer than ``limit`` characters is a bad row (skipped, never held in
    memory whole). Undecodable bytes become U+FFFD; their count comes last, as an issue. A
    file whose last line has no line end was cut (every export ends its rows with one): said
    as a ``csv.truncated`` issue, the rows before it kept. ``csv_options`` go to
    :func:`csv.reader` (tracerpt needs ``skipinitialspace``).
    """
    csv.field_size_limit(limit)
    with source.open() as raw:
        encoding = detect_encoding(raw.read(4096))
    before = replacements()
    with source.open() as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors=REPLACE_ERRORS, newline="")
        lines = _Lines(text, limit)
        reader = csv.reader(lines, **csv_options)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield exc
                continue
            yield row
    if lines.unterminated:
        yield IngestIssue(source.name, None, "csv.truncated",
                          "the file ends inside a line (no line end after the last row): it "
                          "was cut; the rows before are kept", truncated=True)
    if replacements() > before:
        yield undecodable_issue(source.name, replacements() - before)


class _Lines:
    """The lines of ``text`` (BOM dropped), each at most ``limit`` characters.

    A longer line is read past in pieces and raises :class:`csv.Error` once, which the CSV
    reader passes on; the next call goes on with the following line.
    """

    def __init__(self, text: io.TextIOWrapper, limit: int) -> None:
        self._text = text
        self._limit = limit
        self._first = True
        self.unterminated = False  # the last line read had text but no line end

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1)
        if not line:
            raise StopIteration
        if self._first:
            self._first = False
            line = line.lstrip("\ufeff")
        if len(line) > self._limit and not line.endswith("\n"):
            while (rest := self._text.readline(self._limit)) and not rest.endswith("\n"):
                pass
            raise csv.Error(f"line longer than {self._limit} characters (limit csv-field); "
                            "skipped")
        self.unterminated = not line.endswith(("\n", "\r")) and bool(line.strip("\x00 \t"))
        return line
