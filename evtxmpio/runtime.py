"""Process-level settings for the long-running entry points (the CLI, triage analyzers)."""

from __future__ import annotations


def freeze_startup_objects() -> None:
    """Exempt everything imported so far from the cyclic garbage collector, collect young
    objects less often, and have pyarrow allocate with ``malloc`` (:func:`use_system_arrow_pool`).

    Modules, classes and functions of pandas, lxml and friends live as long as the process;
    without this every collection walks all of them again, and python-evtx's hundreds of
    thousands of small node objects trigger many collections (about 30 % of the python
    backend's time). Only entry points call this (the command line, triage's analyzer
    processes, the benchmark's analyze job): a library caller keeps its own policy.
    """
    import gc

    gc.collect()
    gc.freeze()
    # A young generation of 50,000 container objects instead of 700: a storm of kept records
    # holds a sink batch of them (8,192 records with their data tuples) at a time. Storm 10^6:
    # ~1,400 young, 129 middle and 12 full collections (0.55 s) with 700; 86 young ones
    # (0.16 s) with 10,000; one (0.004 s) with 50,000. Peak RSS the same (303-315 MB).
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    use_system_arrow_pool()


YOUNG_OBJECTS = 50_000


def use_system_arrow_pool() -> None:
    """Have pyarrow, which holds pandas' string columns when installed, allocate with the C
    library's ``malloc`` instead of its default mimalloc pool, which keeps more memory it no
    longer uses (a storm of 200,000 kept events in a 10^6-record log: peak RSS 418-422 MB with
    mimalloc, 378-391 MB with malloc, the time the same). Called by :func:`freeze_startup_objects`,
    so only by entry points; without pyarrow it does nothing."""
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        return
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
