"""Analyzer processes die with their parent, and their leftovers are cleaned at the next start.

An analyzer child works on one case at a time and may be stuck in it (a hung case is killed by
its *parent* at ``--case-timeout``). If the parent dies first (killed, crashed, the machine's
OOM killer), nothing would stop the child: :func:`die_with_parent` makes the kernel send it
``SIGKILL`` when its parent goes (Linux ``PR_SET_PDEATHSIG``; elsewhere a watchdog thread that
checks the parent once a second), and exits at once when the parent is already gone.

A child killed that way cannot remove the temporary folder it extracted an archive into.
Every such folder, ``evtxmpio-case-*`` in the temporary directory, holds a lock file that its
process keeps locked (``flock``) while it lives; :func:`clean_stale_folders`, run when an
analyzer process starts, removes every folder whose lock nobody holds.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from evtxmpio.errors import Error

PARENT_ENV = "EVTXMPIO_TRIAGE_PARENT"
FOLDER_PREFIX = "evtxmpio-case-"
LOCK_NAME = "lock"
CASE_NAME = "case"
PR_SET_PDEATHSIG = 1
WATCHDOG_PERIOD_S = 1.0
# A folder without its lock file yet is left alone for this long (it may be being created).
UNLOCKED_GRACE_S = 600.0


def _set_death_signal() -> bool:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError, TypeError):
        return False


def _watch(parent: int) -> None:
    while True:
        time.sleep(WATCHDOG_PERIOD_S)
        if os.getppid() != parent:
            os._exit(1)


def die_with_parent(parent: int | None = None) -> None:
    """End this process when ``parent`` (default: ``$EVTXMPIO_TRIAGE_PARENT``, else the
    current parent) dies; exit at once if it is already gone."""
    if parent is None:
        parent = int(os.environ.get(PARENT_ENV) or os.getppid())
    if not _set_death_signal():
        threading.Thread(target=_watch, args=(parent,), name="evtxmpio-lifeline",
                         daemon=True).start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)


class TemporaryFolderError(Error):
    """The temporary folder of a case cannot be made (a problem of the machine, not the case)."""


@contextlib.contextmanager
def case_folder() -> Iterator[Path]:
    """A private temporary folder for one case (``evtxmpio-case-*/case``), locked while in use
    and removed at the end; a folder left by a killed process is removed by the next
    :func:`clean_stale_folders`.

    Raises:
        TemporaryFolderError: when the folder cannot be made.
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX))
    except OSError as exc:
        raise TemporaryFolderError(f"cannot make a temporary folder in "
                                   f"{tempfile.gettempdir()}: {exc.strerror}") from exc
    try:
        with open(folder / LOCK_NAME, "wb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            target = folder / CASE_NAME
            target.mkdir()
            yield target
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename).parent == folder:
            raise TemporaryFolderError(f"cannot prepare the temporary folder {folder}: "
                                       f"{exc.strerror}") from exc
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _is_stale(folder: Path) -> bool:
    try:
        lock = open(folder / LOCK_NAME, "rb")  # noqa: SIM115  (closed below)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_S
        return False
    except OSError:
        return False
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a living process holds it
        return True


def temp_root() -> Path:
    """The temporary directory analyzer processes started now would use (``$TMPDIR`` as it
    is now; :func:`tempfile.gettempdir` caches the first answer of this process)."""
    for variable in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(variable)
        if value and os.path.isdir(value):
            return Path(value)
    return Path(tempfile.gettempdir())


def clean_stale_folders(root: Path | None = None) -> list[Path]:
    """Remove the ``evtxmpio-case-*`` folders of dead processes in ``root`` (default: the
    temporary directory); return what was removed."""
    removed = []
    base = root or temp_root()
    with contextlib.suppress(OSError):
        for folder in base.glob(FOLDER_PREFIX + "*"):
            if folder.is_dir() and not folder.is_symlink() and _is_stale(folder):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
