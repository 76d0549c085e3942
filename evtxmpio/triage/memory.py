"""The memory backstop of an analyzer process: a cap on its data segment while a case runs.

Ingest already stops reading a file gracefully when the process's resident memory passes the
``memory`` limit (:class:`~evtxmpio.ingest.limits.FileGuard`, checked between reader steps).
One allocation between two checks can still be huge, so while a case runs its child process
also has ``RLIMIT_DATA`` set to what it uses now plus the ``memory`` limit plus headroom
(a quarter of it, at least 256 MiB). ``RLIMIT_DATA`` counts the writable private memory a
process maps, not the address space merely reserved (thread stacks' guard pages, malloc
arenas), so it tracks real use on machines with many cores too; pyarrow is told to use the
system allocator in the child, since mimalloc maps a 1 GiB region up front.

Past the cap, an allocation fails: Python code raises :class:`MemoryError` and the case is
recorded failed with :func:`memory_reason`; native code (the ``evtx`` Rust reader, some
numpy paths) may abort the process instead, and the parent gives the case the same reason
when the process's last words say it ran out of memory (:func:`ran_out_of_memory`). Linux
only; elsewhere the cap is not set and the ingest limit alone applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

HEADROOM_MIN = 256 << 20
# What native code and Python print when an allocation fails.
OUT_OF_MEMORY_SIGNS = ("memory allocation of", "MemoryError", "bad_alloc", "out of memory",
                       "Cannot allocate memory", "Unable to allocate")


def headroom(limit: int) -> int:
    """Bytes allowed above ``limit`` before allocations fail."""
    return max(HEADROOM_MIN, limit // 4)


def memory_reason(limit: int) -> str:
    """The failure reason of a case that ran out of memory under a ``limit`` of bytes."""
    return (f"memory: the analysis exceeded the memory limit of {limit >> 20} MiB "
            "(raise with --limit memory=SIZE)")


def ran_out_of_memory(stderr_tail: str) -> bool:
    """Whether a dead analyzer's last stderr lines say an allocation failed."""
    return any(sign in stderr_tail for sign in OUT_OF_MEMORY_SIGNS)


def data_bytes() -> int | None:
    """The process's data segment now (``VmData``, Linux), else ``None``."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@contextmanager
def memory_cap(limit: int) -> Iterator[int | None]:
    """Cap the data segment at its current size + ``limit`` + :func:`headroom` for the block.

    Yields:
        the cap in bytes, or ``None`` where it cannot be set (not Linux).
    """
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    except (ImportError, AttributeError, OSError, ValueError):
        yield None
        return
    used = data_bytes()
    cap = None if used is None else used + limit + headroom(limit)
    if cap is not None and hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    try:
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))
    except (OSError, ValueError):
        cap = None
    try:
        yield cap
    finally:
        if cap is not None:
            resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
