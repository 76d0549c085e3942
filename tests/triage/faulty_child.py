"""An analyzer child with faults injected by the tests: ``python -m tests.triage.faulty_child``.

It is :mod:`evtxmpio.triage.analyzer_process` with ``evtxmpio.pipeline.analyze`` wrapped, so a fault
happens exactly where the analysis runs (inside the memory cap, after an archive is extracted)
and the product's own isolation handles it. A case folder holding one of these files asks for:

* ``HANG-ME``: sleep forever (until the parent's ``--case-timeout`` kills the process);
* ``CRASH-ME``: exit at once with ``os._exit(70)``;
* ``EAT-MEMORY``: allocate without bound (untouched pages, so only the memory cap stops it),
  or, when the file says ``abort``, die as native code does when an allocation fails;
* ``PID-FILE``: write this process's PID into the file named by the marker's text, then wait
  while a file of that name plus ``.hold`` exists (to kill a parent, a scheduler or a worker
  while the case is known to be in flight), then analyze.

The shipped analyzer knows nothing of these files. Tests pass ``CHILD`` as ``child_module`` to
:class:`~evtxmpio.triage.dispatch.LocalExecutor` or the Dask executor.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

CHILD = "tests.triage.faulty_child"
HANG_MARKER = "HANG-ME"
CRASH_MARKER = "CRASH-ME"
MEMORY_MARKER = "EAT-MEMORY"
PID_MARKER = "PID-FILE"


def _exhaust_memory(how: str, limit: int) -> None:
    from evtxmpio.triage.memory import headroom

    if how == "abort":
        os.write(2, b"memory allocation of 68719476736 bytes failed\n")
        os.abort()
    import numpy

    blocks, block = [], 256 << 20
    # Four times the cap without a MemoryError means there is no cap: the case then goes on.
    for _ in range(4 * (limit + headroom(limit)) // block):
        blocks.append(numpy.empty(block, dtype=numpy.uint8))  # never touched: no RSS


def _hang() -> None:
    while True:
        time.sleep(1)


def hold_file(pid_file: Path) -> Path:
    """The file whose presence keeps a ``PID-FILE`` case waiting."""
    return pid_file.with_name(pid_file.name + ".hold")


def inject(analyze: Any) -> Any:
    """``analyze`` with the faults the case's marker files ask for."""

    def faulty(inputs: list[Path], **options: Any) -> Any:
        root = Path(inputs[0])
        if (root / CRASH_MARKER).exists():
            os._exit(70)
        if (root / MEMORY_MARKER).exists():
            _exhaust_memory((root / MEMORY_MARKER).read_text().strip(),
                            options["limits"].memory_bytes)
        if (root / PID_MARKER).exists():
            pid_file = Path((root / PID_MARKER).read_text().strip())
            hold = hold_file(pid_file)
            pid_file.write_text(str(os.getpid()))
            while hold.exists():
                time.sleep(0.1)
        if (root / HANG_MARKER).exists():
            _hang()
        return analyze(inputs, **options)

    return faulty


def main() -> None:
    """The product's child main, with the analysis wrapped."""
    from evtxmpio import pipeline
    from evtxmpio.triage import analyzer_process

    pipeline.analyze = inject(pipeline.analyze)
    analyzer_process.main()


if __name__ == "__main__":
    main()
