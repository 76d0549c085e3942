"""Process-level settings for the long-running entry points (the CLI, triage analyzers)."""

from __future__ import annotations


def freeze_startup_objects() -> None:
    """Exempt everything imported so far from the cyclic garbage collector.

    Modules, classes and functions of pandas, lxml and friends live as long as the process;
    without this every collection walks all of them again, and python-evtx's hundreds of
    thousands of small node objects trigger many collections (about 30 % of the python
    backend's time). Only entry points call this (the command line, triage's analyzer
    processes, the benchmark's analyze job): a library caller keeps its own policy.
    """
    import gc

    gc.collect()
    gc.freeze()
