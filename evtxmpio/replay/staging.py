"""Replay's files written all or none: each under a temporary name beside it, all moved to
their names (``os.replace``) once every one is complete.

A replay that fails or is stopped part-way leaves the files of an earlier run as they were (the
logs, the trace and the ground truth still agree with each other) and no file half written
under an output's name; a rerun writes them afresh. The temporary names are
``.<stem>.<random>.partial<suffix>`` (the suffix stays: the stream writer picks Parquet or CSV
by it); those a killed run could not remove are removed by the next run of the same output.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Staging:
    """Temporary files of one run, by the output each becomes."""

    def __init__(self) -> None:
        self._files: list[tuple[Path, Path]] = []

    def path(self, final: Path) -> Path:
        """A new temporary file beside ``final``, to write what becomes ``final``."""
        prefix, suffix = f".{final.stem}.", f".partial{final.suffix}"
        for stale in final.parent.glob(f"{_glob_escape(prefix)}*{_glob_escape(suffix)}"):
            stale.unlink(missing_ok=True)  # left by a run that was killed
        handle, name = tempfile.mkstemp(dir=final.parent, prefix=prefix, suffix=suffix)
        os.close(handle)
        self._files.append((Path(name), final))
        return Path(name)

    def commit(self) -> None:
        """Move every temporary file to its output name."""
        for temporary, final in self._files:
            os.replace(temporary, final)
        self._files.clear()

    def discard(self) -> None:
        """Remove the temporary files not moved."""
        for temporary, _ in self._files:
            temporary.unlink(missing_ok=True)
        self._files.clear()


@contextmanager
def staging() -> Iterator[Staging]:
    """A :class:`Staging` committed when the block ends without an error, discarded when the
    block raises (anything, ``KeyboardInterrupt`` included)."""
    stage = Staging()
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    try:
        stage.commit()
    finally:
        stage.discard()


def _glob_escape(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)
