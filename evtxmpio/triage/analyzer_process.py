"""The isolated analyzer process: ``python -m evtxmpio.triage.analyzer_process``.

It reads length-prefixed pickled :class:`CaseSpec` frames from stdin and answers each with a
pickled :class:`CaseOutcome` on the original stdout; anything the analyzer prints goes to
stderr instead, so it cannot corrupt the protocol. It says ``ready`` once its imports are done
and exits at the end of stdin (when its parent closes the pipe), or is killed when its parent
dies, even in the middle of a case (:mod:`evtxmpio.triage.lifeline`).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

from evtxmpio.triage.lifeline import clean_stale_folders, die_with_parent

HEADER = struct.Struct("<Q")
READY = "ready"


def write_frame(stream: BinaryIO, value: Any) -> None:
    """Write one pickled, length-prefixed frame and flush."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(body)) + body)
    stream.flush()


def read_exact(stream: BinaryIO, count: int) -> bytes | None:
    """``count`` bytes, or ``None`` at end of stream (a short read means the writer died)."""
    parts: list[bytes] = []
    while count:
        part = stream.read(count)
        if not part:
            return None
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def read_frame(stream: BinaryIO) -> Any:
    """One frame's value, or ``None`` at end of stream."""
    header = read_exact(stream, HEADER.size)
    if header is None:
        return None
    body = read_exact(stream, HEADER.unpack(header)[0])
    return None if body is None else pickle.loads(body)


def main() -> None:
    """Serve cases until stdin ends."""
    die_with_parent()
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    clean_stale_folders()
    from evtxmpio.runtime import freeze_startup_objects
    from evtxmpio.triage.analyze_case import analyze_spec  # after the redirect: imports may print

    freeze_startup_objects()  # a long-lived analyzer: imports stay out of every collection
    write_frame(answers, READY)
    requests = sys.stdin.buffer
    while (spec := read_frame(requests)) is not None:
        write_frame(answers, analyze_spec(spec))


if __name__ == "__main__":
    main()
