"""Real faults for tests: a small tmpfs that fills up (ENOSPC), mounted by the test itself.

Mounting needs root (or CAP_SYS_ADMIN); where the machine does not allow it, the test is
skipped with that reason, never passed.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (``64k``) mounted on ``mount_point`` (created) while in the block."""
    mount_point.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs",
                              str(mount_point)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for a real ENOSPC: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=False)


def fill(folder: Path) -> None:
    """Fill the file system of ``folder`` to the last byte (one file ``filler``)."""
    with open(folder / "filler", "wb", buffering=0) as stream:
        for step in (b"\0" * 4096, b"\0"):
            with contextlib.suppress(OSError):
                while stream.write(step):
                    pass
