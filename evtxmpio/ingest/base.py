"""Reader registry, content sniffing and the accounting every reader reports.

A reader is a generator ``read(source) -> Iterator[RawRecord | IngestIssue]``: it yields
records and problems as it meets them and never raises for bad input. Formats registered with
``accepts_options=True`` are called as ``read(source, options)`` with a :class:`ReadOptions`
and may also yield :class:`SkippedRecords` (records counted as read and skipped without being
built, e.g. chunks the pre-filter skipped, or a trace export's header event).
``register`` adds an :class:`InputFormat`; :func:`sniff_format` picks one from the first bytes
of a file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from evtxmpio.catalog.relevance import Relevance, providers_only
from evtxmpio.errors import Error
from evtxmpio.ingest.health import HealthLedger
from evtxmpio.model import RawRecord, quick_constructor
from evtxmpio.pathtext import path_text
from evtxmpio.timearith import TIME_MAX_NS, TIME_MIN_NS

SNIFF_BYTES = 4096


@dataclass(frozen=True, slots=True)
class IngestIssue:
    """A problem met while reading one input.

    Attributes:
        source_path: the input file.
        offset: byte offset (or chunk offset) where it happened, ``None`` if not known.
        code: stable machine-readable code, e.g. ``evtx.bad-record`` or ``xml.truncated``.
        detail: one human-readable line.
        records_failed: records the reader met but could not decode (counted as read and
            skipped).
        records_lost: records known to exist but never reached (not counted as read).
        records_recovered: records read from a damaged region (counted as read as usual).
        chunk_damaged: the problem is a damaged .evtx chunk.
        truncated: the file ends in the middle of a record.
    """

    source_path: str
    offset: int | None
    code: str
    detail: str
    records_failed: int = 0
    records_lost: int = 0
    records_recovered: int = 0
    chunk_damaged: bool = False
    truncated: bool = False

    def line(self) -> str:
        """The one-line form shown in the CLI and the report."""
        where = f" at offset {self.offset}" if self.offset is not None else ""
        return f"{self.source_path}{where}: {self.code}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Source:
    """One input to read: a path on disk, or a member of an archive opened by ``open``."""

    name: str
    open: Callable[[], BinaryIO]
    size: int | None = None


@dataclass(frozen=True, slots=True)
class SkippedRecords:
    """Records a reader met and deliberately did not build (counted as read and skipped).

    Attributes:
        source_path: the input file.
        count: how many records.
        reason: skip reason for the accounting (``prefiltered``, ``not-relevant``,
            ``trace-header``).
        offset: byte offset of the (first) record, where known.
        record_id: the EventRecordID of a single skipped record, where known (health ledger);
            with ``count > 1`` and ``id_span == 0``, the last of a run of ``count`` records
            whose ids are consecutive and whose times do not go backwards.
        time_ns: its time, where known (health ledger).
        id_span: for a skipped block, how far the EventRecordID sequence advances over it.
    """

    source_path: str
    count: int
    reason: str
    offset: int | None = None
    record_id: int | None = None
    time_ns: int | None = None
    id_span: int = 0


skipped_records = quick_constructor(SkippedRecords)  # readers make one per run skipped


def time_possible(time_ns: int | None) -> bool:
    """``None``, or a time the analysis can hold (1677-09-22 .. 2262-04-11, pandas' range)."""
    return time_ns is None or TIME_MIN_NS <= time_ns <= TIME_MAX_NS


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """Options readers that accept them get from :func:`ingest_paths`.

    Attributes:
        backend: .evtx backend, ``auto`` | ``python`` | ``rust``.
        prefilter_providers: lower-cased provider names that can matter; when set, .evtx
            chunks without any of them are skipped undecoded and records of other providers
            are counted ``not-relevant`` before they are built. ``None`` reads everything.
        relevance: which records can matter by provider, event id and content
            (:class:`~evtxmpio.catalog.relevance.Relevance`); when set, .evtx records it
            rejects are counted ``not-relevant`` before they are built, and its providers are
            the pre-filter's unless ``prefilter_providers`` names others.
        tz: IANA zone assumed for exports that carry local time without an offset.
        threads: worker threads of the Rust backend (``0`` = its default).
        jobs: processes that may read one large .evtx at once, each a part of its chunks
            (:mod:`evtxmpio.ingest.evtx_parts`); ``1`` reads in this process only.
        chunk_prefilter: with ``prefilter_providers``, skip .evtx chunks that hold none of
            them; ``False`` decodes every chunk but still skips other providers' records
            before they are built.
        xml_event_chars: longest ``<Event>`` element an XML reader buffers; a longer one is
            skipped as one failed record (limit ``xml-event``).
        csv_field_chars: longest CSV field or line (limit ``csv-field``).
    """

    backend: str = "auto"
    prefilter_providers: frozenset[str] | None = None
    relevance: Relevance | None = None
    tz: str | None = None
    threads: int = 1
    jobs: int = 1
    chunk_prefilter: bool = True
    xml_event_chars: int = 16 << 20
    csv_field_chars: int = 16 << 20

    @property
    def chunk_providers(self) -> frozenset[str] | None:
        """Provider names (lower case) whose chunks must be decoded; ``None``: every chunk."""
        if self.prefilter_providers is not None:
            return self.prefilter_providers
        return self.relevance.providers if self.relevance is not None else None

    @property
    def record_relevance(self) -> Relevance | None:
        """What decides, before a .evtx record is built, whether it can matter."""
        if self.relevance is not None:
            return self.relevance
        if self.prefilter_providers is not None:
            return providers_only(self.prefilter_providers)
        return None


Reader = Callable[..., Iterator["RawRecord | IngestIssue | SkippedRecords"]]


@dataclass(frozen=True, slots=True)
class InputFormat:
    """A registered input format.

    Attributes:
        name: format name shown in the accounting (``evtx``, ``event-xml`` ...).
        sniff: predicate over the first ``SNIFF_BYTES`` bytes of the file.
        read: the reader.
        priority: lower values are tried first (more specific formats first).
        accepts_options: ``read`` takes a :class:`ReadOptions` as second argument.
        local_time: the format carries local times without an offset (``tz`` applies).
    """

    name: str
    sniff: Callable[[bytes], bool]
    read: Reader
    priority: int = 50
    accepts_options: bool = False
    local_time: bool = False


_FORMATS: dict[str, InputFormat] = {}


def register(input_format: InputFormat) -> InputFormat:
    """Add a format to the registry.

    Raises:
        Error: if a format of that name is already registered.
    """
    if input_format.name in _FORMATS:
        raise Error(f"input format {input_format.name!r} is registered twice")
    _FORMATS[input_format.name] = input_format
    return input_format


def formats() -> list[InputFormat]:
    """Registered formats, in sniffing order."""
    return sorted(_FORMATS.values(), key=lambda f: (f.priority, f.name))


def get_format(name: str) -> InputFormat:
    """The registered format called ``name``."""
    return _FORMATS[name]


def sniff_format(head: bytes) -> InputFormat | None:
    """The first registered format whose sniffer accepts ``head``, else ``None``."""
    for input_format in formats():
        if input_format.sniff(head):
            return input_format
    return None


@dataclass(slots=True)
class FileAccount:
    """What was read from one input file, and what became of it.

    ``records_read == records_used + records_skipped`` always holds; ``skip_reasons`` splits
    the skipped count by cause (``not-relevant``, ``undecodable``, ``prefiltered``,
    ``duplicate``, ``trace-header`` ...). ``health`` is the file's health ledger.
    ``times_impossible`` counts records whose time the analysis cannot hold (kept without
    a time, reported as an issue).
    """

    file: str
    format: str
    records_read: int = 0
    records_used: int = 0
    records_skipped: int = 0
    records_recovered: int = 0
    chunks_damaged: int = 0
    duplicates_removed: int = 0
    truncated: bool = False
    errors: list[str] = field(default_factory=list)
    skip_reasons: Counter[str] = field(default_factory=Counter)
    backend: str | None = None
    time_zone_assumed: str | None = None
    health: HealthLedger = field(default_factory=lambda: HealthLedger())
    times_impossible: int = 0

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` records read but not used, for ``reason``."""
        self.records_skipped += count
        self.skip_reasons[reason] += count

    def to_dict(self) -> dict[str, object]:
        """The JSON ``ingest`` entry."""
        return {
            "file": self.file,
            "format": self.format,
            "records_read": self.records_read,
            "records_used": self.records_used,
            "records_skipped": self.records_skipped,
            "records_recovered": self.records_recovered,
            "chunks_damaged": self.chunks_damaged,
            "duplicates_removed": self.duplicates_removed,
            "truncated": self.truncated,
            "errors": list(self.errors),
            "skip_reasons": dict(sorted(self.skip_reasons.items())),
            "backend": self.backend,
            "time_zone_assumed": self.time_zone_assumed,
            "health": self.health.to_dict(),
        }


def path_source(path: Path, display: str | None = None) -> Source:
    """A :class:`Source` for a file on disk."""
    # A name that is not UTF-8 is shown escaped (\xff); the file is still opened by its path.
    return Source(name=display or path_text(path), open=lambda: path.open("rb"),
                  size=path.stat().st_size)
