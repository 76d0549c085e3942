"""Binary .evtx: the format (sniffing, registration) and the choice of backend.

Spec: libyal libevtx "Windows XML Event Log (EVTX) format"
(https://github.com/libyal/libevtx/blob/main/documentation/). Every file is walked chunk by
chunk by :mod:`evtxmpio.ingest.evtx_walk`; each chunk is decoded by one backend: ``python``
(python-evtx, the reference: :mod:`evtxmpio.ingest.evtx_python`) or ``rust`` (the ``evtx``
package: :mod:`evtxmpio.ingest.evtx_rust`).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from evtxmpio.errors import Error
from evtxmpio.ingest.base import InputFormat, ReadOptions, Source, register
from evtxmpio.ingest.evtx_chunks import EVTX_MAGIC
from evtxmpio.ingest.evtx_parts import read_in_parts
from evtxmpio.ingest.evtx_python import read_evtx_python
from evtxmpio.ingest.evtx_rust import read_evtx_rust
from evtxmpio.ingest.evtx_walk import ReadItem

__all__ = ["BACKENDS", "read_evtx", "resolve_backend", "rust_available", "sniff_evtx"]

BACKENDS = ("auto", "python", "rust")


def sniff_evtx(head: bytes) -> bool:
    """EVTX files start with the ``ElfFile\\0`` magic, or a file header whose magic is damaged.

    A damaged magic would otherwise cost the whole file (not sniffed, not read) for one bad
    byte; the header's fixed fields still tell: header size 128, major version 3, header block
    size 4096 (every file of the corpus; 8 bytes no other format puts there).
    """
    if head.startswith(EVTX_MAGIC):
        return True
    if len(head) < 44:
        return False
    header_size, _, major, block_size = struct.unpack_from("<IHHH", head, 32)
    return (header_size, major, block_size) == (128, 3, 4096)


def rust_available() -> bool:
    """Whether the Rust-backed ``evtx`` package can be imported."""
    try:
        import evtx  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str) -> str:
    """``auto`` -> ``rust`` when importable, else ``python``; check explicit choices.

    Raises:
        Error: for an unknown backend name, or ``rust`` when the package is missing.
    """
    if backend not in BACKENDS:
        raise Error(f"--backend: unknown .evtx backend {backend!r} (choose {', '.join(BACKENDS)})")
    if backend == "auto":
        return "rust" if rust_available() else "python"
    if backend == "rust" and not rust_available():
        raise Error("--backend rust: the Rust-backed 'evtx' package is not installed")
    return backend


def read_evtx(source: Source, options: ReadOptions | None = None) -> Iterator[ReadItem]:
    """Read a .evtx with the backend ``options.backend`` names (``auto`` by default)."""
    backend = resolve_backend(options.backend if options else "auto")
    if backend == "rust" and options is not None and options.jobs != 1:
        return read_in_parts(read_evtx_rust, source, options)
    if backend == "rust":
        return read_evtx_rust(source, options)
    return read_evtx_python(source, options)


register(InputFormat("evtx", sniff=sniff_evtx, read=read_evtx, priority=10,
                     accepts_options=True))
