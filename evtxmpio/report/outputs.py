"""Output files: check every path of a run before anything is written, then write atomically.

A run writes a *set* of files (a report and, with ``--redact``, its redaction map). Either the
whole set is written or none of it: :func:`plan_outputs` checks every path first (a folder in
the way, a parent that is a file or not writable, a name or path too long for the file system,
a name the file system cannot encode, two outputs on one file) and :func:`write_files` writes
each file to a temporary file in the same folder, flushes it to disk, and only then renames
all of them into place (``os.replace``). A cut write (a full disk) leaves the old file, never
half a new one. An existing output that is not a regular file (``/dev/stdout``, a pipe) is
written straight through, because it cannot be replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evtxmpio.errors import ReportError

__all__ = ["OutputPlan", "check_output_path", "default_map_path", "plan_outputs",
           "write_atomic", "write_files"]

TEMP_PREFIX = ".evtxmpio-"
TEMP_SUFFIX = ".tmp"


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """Every file one ``analyze`` run writes, checked.

    Attributes:
        report: the report (``-o``).
        redaction_map: the pseudonym mapping (``--redact``), else ``None``.
    """

    report: Path
    redaction_map: Path | None = None

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every output path, the report first."""
        return (self.report,) if self.redaction_map is None else (self.report,
                                                                   self.redaction_map)


def default_map_path(out: Path) -> Path:
    """Where the redaction mapping goes by default: ``<out>.redaction.json``."""
    return out.with_name(out.name + ".redaction.json")


def plan_outputs(out: Path, redact: bool = False, redact_map: Path | None = None
                 ) -> OutputPlan:
    """Every output path of an ``analyze`` run, each checked with :func:`check_output_path`.

    Call it before the analysis starts so that a bad ``-o`` costs seconds, not the analysis;
    :func:`evtxmpio.report.write_outputs` checks again before it writes.

    Raises:
        ReportError: one line naming the first path that cannot be written and why.
    """
    planned = OutputPlan(out, (redact_map or default_map_path(out)) if redact else None)
    check_output_path(planned.report, "report")
    if planned.redaction_map is not None:
        check_output_path(planned.redaction_map, "redaction map")
        if _same_file(planned.report, planned.redaction_map):
            raise ReportError(f"{planned.report}: the report and the redaction map would be "
                              "the same file")
    return planned


def _same_file(first: Path, second: Path) -> bool:
    return os.path.realpath(first) == os.path.realpath(second)


def _limit(folder: Path, name: str, fallback: int) -> int:
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError):
        return fallback
    return value if value > 0 else fallback


def _existing_ancestor(path: Path) -> tuple[Path, list[str]]:
    """The nearest existing ancestor of ``path`` and the names below it still to create."""
    missing: list[str] = []
    current = path.absolute()
    while not os.path.lexists(current) and current != current.parent:
        missing.append(current.name)
        current = current.parent
    return current, list(reversed(missing))


def check_output_path(path: Path, what: str = "output") -> None:
    """Raise :class:`ReportError` when ``path`` cannot be written as a file.

    Checks, without writing anything: the name encodes for the file system, no name and not
    the whole path is too long, no folder is in the way, and the nearest existing ancestor is
    a writable folder. Missing parent folders are fine (they are created when writing).
    """
    try:
        encoded = os.fsencode(path.absolute())
    except UnicodeEncodeError as exc:
        raise ReportError(f"{path!s}: cannot write {what}: the name cannot be encoded for "
                          "the file system") from exc
    ancestor, missing = _existing_ancestor(path)
    folder = ancestor if missing else Path(os.path.realpath(path)).parent
    _check_lengths(path, what, folder, missing or [path.name], len(encoded))
    try:
        if path.is_dir():
            raise ReportError(f"{path}: cannot write {what}: it is a folder")
        if not folder.is_dir():
            raise ReportError(f"{path}: cannot write {what}: {folder} is not a folder")
    except OSError as exc:
        raise ReportError(f"{path}: cannot write {what}: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ReportError(f"{path}: cannot write {what}: folder {folder} is not writable")


def _check_lengths(path: Path, what: str, folder: Path, names: list[str], length: int
                   ) -> None:
    name_max = _limit(folder, "PC_NAME_MAX", 255)
    for name in names:
        if len(os.fsencode(name)) > name_max:
            raise ReportError(f"{path}: cannot write {what}: file name too long "
                              f"({len(os.fsencode(name))} bytes, at most {name_max})")
    path_max = _limit(folder, "PC_PATH_MAX", 4096)
    if length >= path_max:
        raise ReportError(f"{path}: cannot write {what}: path too long ({length} bytes, "
                          f"at most {path_max - 1})")


def _is_special(path: Path) -> bool:
    """An existing output that is not a regular file (a device, a pipe): written through."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _final(path: Path) -> Path:
    """The file a symlinked output points to (replacing the link itself would cut it)."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _umask_mode() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _temp_copy(target: Path, data: bytes, mode: int) -> Path:
    """``data`` in a flushed temporary file beside ``target``; the caller renames it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def _sync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_files(files: list[tuple[Path, str | bytes, str]], private: frozenset[Path] = frozenset()
                ) -> None:
    """Write every ``(path, content, what)`` atomically, all of them or none.

    Each content goes to a temporary file beside its target and is flushed to disk; only when
    all are complete are they renamed into place. Text is written as UTF-8; a lone surrogate
    (an undecodable byte of a file name) is written as its escape ``\\udcff``, never fatal.
    Paths in ``private`` get mode 0600.

    Raises:
        ReportError: ``<path>: cannot write <what>: <reason>``; a failure before the renames
            (a full disk, a bad path) leaves nothing new in place.
    """
    for path, _, what in files:
        check_output_path(path, what)
    temps: list[tuple[Path, Path, str]] = []
    try:
        for path, content, what in files:
            staged = _stage(path, content, what, 0o600 if path in private else _umask_mode())
            if staged is not None:
                temps.append(staged)
        for temp, target, what in temps:
            try:
                os.replace(temp, target)
            except OSError as exc:
                raise ReportError(f"{target}: cannot write {what}: {exc.strerror}") from exc
            _sync_folder(target.parent)
    finally:
        for temp, _, _ in temps:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _stage(path: Path, content: str | bytes, what: str, mode: int
           ) -> tuple[Path, Path, str] | None:
    """``content`` flushed to a temporary file beside ``path``: ``(temp, target, what)``;
    ``None`` when the target is a device or pipe and was written straight through."""
    data = content.encode("utf-8", "backslashreplace") if isinstance(content, str) else content
    target = _final(path)
    if _is_special(target):
        _write_through(target, data, what)
        return None
    try:
        return _temp_copy(target, data, mode), target, what
    except OSError as exc:
        raise ReportError(f"{path}: cannot write {what}: {exc.strerror}") from exc


def _write_through(target: Path, data: bytes, what: str) -> None:
    try:
        with open(target, "wb") as stream:
            stream.write(data)
    except OSError as exc:
        raise ReportError(f"{target}: cannot write {what}: {exc.strerror}") from exc


def write_atomic(path: Path, content: str | bytes, what: str = "output") -> None:
    """Write one file atomically (see :func:`write_files`).

    Raises:
        ReportError: ``<path>: cannot write <what>: <reason>``; the old file stays then.
    """
    write_files([(path, content, what)])
