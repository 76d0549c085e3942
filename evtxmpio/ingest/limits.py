"""Resource limits for one case: what a single input may cost in time, memory and records.

A customer file can be pathological (crafted or just broken): a zip bomb, an XML export made
of one endless element, a CSV line of a gigabyte, a log whose decoding never ends. Every reader
works in bounded steps (a 64 KiB .evtx chunk, one ``<Event>`` element of at most
``xml_event_bytes``, one CSV field of at most ``csv_field_bytes``), and between steps
:class:`FileGuard` checks the file's wall time, the process memory and the records kept from
the file. When a limit is hit, reading of that file stops with an ``limit.*`` issue that names
the limit and how to raise it; every record read before is kept and the case goes on.

Limits are set on the command line as ``--limit KEY=VALUE`` (repeatable); :data:`LIMIT_KEYS`
lists the keys, their meaning and defaults (``evtxmpio limits`` prints them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from evtxmpio.errors import Error
from evtxmpio.ingest.archive import ArchiveLimits

_UNITS = {"": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40,
          "tb": 1 << 40, "tib": 1 << 40}


def default_memory_bytes() -> int:
    """Half of the machine's physical memory (8 GiB when it cannot be read)."""
    try:
        half = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
        return max(1 << 30, half >> 28 << 28)  # a multiple of 256 MiB, at least 1 GiB
    except (ValueError, OSError, AttributeError):
        return 8 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one input file (and one archive) may cost.

    Attributes:
        file_seconds: wall-clock seconds spent reading one input file.
        file_records: records kept (relevant, not duplicate) from one input file.
        memory_bytes: resident memory of the process while a file is read.
        xml_event_bytes: characters of one ``<Event>`` element in an XML export.
        csv_field_bytes: characters of one CSV field (and of one CSV line).
        archive: bounds on archive expansion (total, member, ratio, depth, members).
    """

    file_seconds: float = 3600.0
    file_records: int = 20_000_000
    memory_bytes: int = field(default_factory=default_memory_bytes)
    xml_event_bytes: int = 16 << 20
    csv_field_bytes: int = 16 << 20
    archive: ArchiveLimits = field(default_factory=ArchiveLimits)


@dataclass(frozen=True, slots=True)
class LimitKey:
    """One ``--limit`` key: where it goes and how its value is read."""

    key: str
    target: str
    kind: str  # "bytes" | "count" | "seconds"
    help: str

    def default(self, limits: Limits) -> object:
        """The value ``limits`` has for this key."""
        owner, _, name = self.target.rpartition(".")
        holder = limits.archive if owner == "archive" else limits
        return getattr(holder, name)


LIMIT_KEYS: tuple[LimitKey, ...] = (
    LimitKey("file-seconds", "file_seconds", "seconds", "wall time reading one input file"),
    LimitKey("file-records", "file_records", "count", "records kept from one input file"),
    LimitKey("memory", "memory_bytes", "bytes",
             "process resident memory while reading (default: half the physical memory)"),
    LimitKey("xml-event", "xml_event_bytes", "bytes", "one <Event> element of an XML export"),
    LimitKey("csv-field", "csv_field_bytes", "bytes", "one field or line of a CSV export"),
    LimitKey("archive-total", "archive.max_total_bytes", "bytes",
             "uncompressed bytes of one archive, nested members included"),
    LimitKey("archive-member", "archive.max_member_bytes", "bytes",
             "uncompressed bytes of one archive member"),
    LimitKey("archive-ratio", "archive.max_ratio", "count",
             "uncompressed/compressed ratio of a member above 1 MiB (zip bomb)"),
    LimitKey("archive-depth", "archive.max_depth", "count", "archives inside archives"),
    LimitKey("archive-members", "archive.max_members", "count", "members of one archive"),
)
_BY_KEY = {entry.key: entry for entry in LIMIT_KEYS}


def parse_value(text: str, kind: str) -> float | int:
    """A ``--limit`` value: ``16MiB``/``4g`` for bytes, ``600``/``10m``/``2h`` for seconds.

    Raises:
        ValueError: for a value that is not a positive number of that kind.
    """
    raw = text.strip().lower().replace("_", "")
    if kind == "seconds":
        scale = {"s": 1, "m": 60, "h": 3600}.get(raw[-1:])
        number = float(raw[:-1] if scale else raw) * (scale or 1)
    else:
        digits = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = raw[len(digits):] if kind == "bytes" else ""
        if unit not in _UNITS:
            raise ValueError(f"unknown unit {unit!r}")
        number = int(float(digits) * _UNITS[unit])
    if not number > 0:
        raise ValueError("must be positive")
    return number


def parse_limits(options: Iterable[str], base: Limits | None = None) -> Limits:
    """Apply ``KEY=VALUE`` options to ``base`` (the defaults).

    Raises:
        Error: ``--limit 'x': problem`` for an unknown key or a bad value.
    """
    limits = base or Limits()
    archive_changes: dict[str, object] = {}
    changes: dict[str, object] = {}
    for option in options:
        key, sep, value = option.partition("=")
        entry = _BY_KEY.get(key.strip().lower())
        if not sep or entry is None:
            known = ", ".join(_BY_KEY)
            raise Error(f"--limit {option!r}: expected KEY=VALUE with KEY one of {known}")
        try:
            number = parse_value(value, entry.kind)
        except ValueError as exc:
            raise Error(f"--limit {option!r}: {exc}") from exc
        owner, _, name = entry.target.rpartition(".")
        (archive_changes if owner == "archive" else changes)[name] = number
    if archive_changes:
        changes["archive"] = replace(limits.archive, **archive_changes)
    return replace(limits, **changes) if changes else limits


def describe(limits: Limits) -> list[tuple[str, str, str]]:
    """``(key, value, meaning)`` rows of every limit, for ``evtxmpio limits``."""
    return [(entry.key, _show(entry.default(limits), entry.kind), entry.help)
            for entry in LIMIT_KEYS]


def _show(value: object, kind: str) -> str:
    if kind == "bytes" and isinstance(value, int):
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if value >= size and value % size == 0:
                return f"{value // size}{unit}"
        return str(value)
    if kind == "seconds" and isinstance(value, float):
        return f"{value:g}s"
    return str(value)


def resident_bytes() -> int | None:
    """The process's resident memory now (Linux ``/proc/self/statm``), else ``None``."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class FileGuard:
    """Checks one file's reading against :class:`Limits`, between reader steps.

    ``check()`` is cheap: the clock is read every call, memory every ``MEMORY_EVERY``
    seconds. It returns ``None`` while within limits, else the issue code and text.
    """

    MEMORY_EVERY = 0.25

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._deadline = time.monotonic() + limits.file_seconds
        self._next_memory = 0.0

    def records_hit(self) -> tuple[str, str]:
        """The issue of a file that reached its record limit."""
        return ("limit.file-records",
                f"{self.limits.file_records} records kept from this file, the limit "
                f"(raise with --limit file-records=N)")

    def check(self) -> tuple[str, str] | None:
        """``(code, detail)`` of the time or memory limit hit, or ``None``."""
        limits = self.limits
        now = time.monotonic()
        if now > self._deadline:
            return ("limit.file-seconds",
                    f"reading took longer than {limits.file_seconds:g} s "
                    f"(raise with --limit file-seconds=N)")
        if now >= self._next_memory:
            self._next_memory = now + self.MEMORY_EVERY
            resident = resident_bytes()
            if resident is not None and resident > limits.memory_bytes:
                return ("limit.memory",
                        f"process memory {resident >> 20} MiB above the limit of "
                        f"{limits.memory_bytes >> 20} MiB (raise with --limit memory=SIZE)")
        return None


__all__ = ["LIMIT_KEYS", "FileGuard", "LimitKey", "Limits", "describe", "parse_limits",
           "parse_value", "resident_bytes"]
