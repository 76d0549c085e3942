"""Read one large .evtx on several cores: each process reads a part of its chunk slots.

Chunks are independent (each holds its own string and template tables, libevtx section 3), and
the walk (:func:`evtxmpio.ingest.evtx_walk.walk_chunks`) can start and stop at any chunk slot.
So a file of ``n`` slots is cut into ``jobs`` parts of consecutive slots: this process reads the
first part while forked processes read the others, each with the same backend and options;
then the items are handed on part after part. The items, and so the records, the issues, the
accounting and everything built from them, are exactly those of one sequential read (tested).

Where a part cannot be read elsewhere (no ``fork``, a daemonic process such as a Dask worker,
no free process, a process that died or failed), this process reads it itself: the parts are a
speed-up, never a change of result. Limits are applied as the items are handed on, as for a
sequential read; the memory of the helper processes is not counted against ``--limit memory``.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from evtxmpio.ingest.base import ReadOptions, Source
from evtxmpio.ingest.evtx_chunks import CHUNK_SIZE, FILE_HEADER_SIZE
from evtxmpio.ingest.evtx_walk import ReadItem

MIN_PART_CHUNKS = 64
"""A part has at least this many chunk slots (4 MiB): below that a process costs more than it
saves."""

PartReader = Callable[[Source, ReadOptions, int, "int | None"], Iterator[ReadItem]]


def jobs_for(jobs: int) -> int:
    """``jobs`` as asked (``0``: one per core, at most 2 for now), at least 1."""
    if jobs <= 0:
        jobs = min(os.cpu_count() or 1, 2)
    return max(1, jobs)


def plan_parts(size: int | None, jobs: int, min_chunks: int | None = None
               ) -> list[tuple[int, int | None]]:
    """Chunk slot ranges ``(first, stop)`` of a file of ``size`` bytes read by ``jobs``, each
    of at least ``min_chunks`` slots (default :data:`MIN_PART_CHUNKS`)."""
    min_chunks = MIN_PART_CHUNKS if min_chunks is None else min_chunks
    slots = max(0, ((size or 0) - FILE_HEADER_SIZE + CHUNK_SIZE - 1) // CHUNK_SIZE)
    parts = max(1, min(jobs, slots // max(1, min_chunks)))
    if parts == 1:
        return [(0, None)]
    bounds = [slots * k // parts for k in range(parts)]
    return [(first, bounds[k + 1] if k + 1 < parts else None)
            for k, first in enumerate(bounds)]


def read_in_parts(read: PartReader, source: Source, options: ReadOptions,
                  min_chunks: int | None = None) -> Iterator[ReadItem]:
    """Yield what ``read(source, options)`` yields, reading parts of the file at once."""
    parts = plan_parts(source.size, jobs_for(options.jobs), min_chunks)
    helpers = [_start(read, source, options, first, stop) for first, stop in parts[1:]]
    yield from read(source, options, *parts[0])
    for (first, stop), helper in zip(parts[1:], helpers, strict=True):
        items = _collect(helper)
        if items is None:  # read here what could not be read elsewhere
            items = read(source, options, first, stop)
        yield from items


def _start(read: PartReader, source: Source, options: ReadOptions, first: int,
           stop: int | None) -> tuple[multiprocessing.Process, Connection] | None:
    if multiprocessing.current_process().daemon or "fork" not in \
            multiprocessing.get_all_start_methods():
        return None
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    process = multiprocessing.get_context("fork").Process(
        target=_read_part, args=(read, source, options, first, stop, sender), daemon=True)
    try:
        process.start()
    except OSError:  # no free process (EAGAIN, ENOMEM): read it here
        return None
    sender.close()
    return process, receiver


def _read_part(read: PartReader, source: Source, options: ReadOptions, first: int,
               stop: int | None, sender: Connection) -> None:
    """In the helper process: read the part and send its items as one pickle."""
    try:
        payload = pickle.dumps(list(read(source, options, first, stop)),
                               protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # any failure: the parent reads the part itself instead
        payload = b""
    try:
        sender.send_bytes(payload)
    finally:
        sender.close()


def _collect(helper: tuple[multiprocessing.Process, Connection] | None
             ) -> list[ReadItem] | None:
    if helper is None:
        return None
    process, receiver = helper
    try:
        payload = receiver.recv_bytes()
    except (EOFError, OSError):  # the helper died
        payload = b""
    finally:
        receiver.close()
        process.join()
    return pickle.loads(payload) if payload else None
