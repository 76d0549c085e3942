"""The facts a verdict policy can test, and the text fields its reasons can quote.

Facts describe what the logs of one host can say, never a pattern a rule decides: patterns
are findings, named by rule id. :mod:`evtxmpio.detect.facts` computes them.
"""

from __future__ import annotations

from typing import Any

KB_OS_VALUES = ("applies", "does-not-apply", "unknown")
HOTFIX_VALUES = ("installed-before-incident", "installed-after-incident", "not-applicable",
                 "unknown")

# name -> (type, allowed values or None, meaning)
FACTS: dict[str, tuple[type, tuple[str, ...] | None, str]] = {
    "system_log": (bool, None, "an event of the host comes from a System log (channel System, "
                   "or an export that names no channel)"),
    "mpio_trace": (bool, None, "the host has MPIO or MSDSM trace events"),
    "mpio_events": (int, None, "MPIO System-log and MPIO/MSDSM trace events of the host"),
    "disks_failed_over": (int, None, "MPIO disks whose state timeline left NORMAL for a "
                          "failover state"),
    "kb2406705_os": (str, KB_OS_VALUES, "whether KB 2406705 applies to the host's OS, as far "
                     "as the logs name the OS"),
    "hotfix": (str, HOTFIX_VALUES, "KB 2406705 installation evidence relative to the "
               "incident"),
    "host_name_certain": (bool, None, "false when another host name of the case may be the "
                          "same machine and the logs do not prove it either way"),
}
TEXT_FIELDS = {
    "host": "the host name as logged",
    "os_name": "the OS the logs name (e.g. Windows Server 2012 R2), or 'unknown'",
    "hotfix_evidence": "the installation evidence: what, when (UTC)",
    "other_names": "host names that may be this machine",
    "inputs": "the kinds of log the host's events come from",
    "fixed_versions": "the first fixed mpio.sys version of every OS KB 2406705 applies to "
    "(from the Windows catalogue)",
    "fixed_version": "the first fixed mpio.sys version for the host's OS, or 'unknown'",
}
OPERATORS = ("equals", "not_equals", "in", "gte", "gt", "lte", "lt")
ORDERED = ("gte", "gt", "lte", "lt")


def _of_type(kind: type, value: Any) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


def check_fact_value(name: str, op: str, value: Any) -> str | None:
    """The problem with testing fact ``name`` with ``op value``, or ``None``."""
    kind, allowed, _ = FACTS[name]
    if op not in OPERATORS:
        return f"unknown test {op!r} (known: {', '.join(OPERATORS)})"
    if op in ORDERED and kind is not int:
        return f"{op!r} needs a number fact"
    values = value if op == "in" else [value]
    if op == "in" and not isinstance(value, list):
        return "'in' needs a list"
    for item in values:
        if not _of_type(kind, item):
            return f"{item!r} is not a {kind.__name__}"
        if allowed is not None and item not in allowed:
            return f"{item!r} not one of {', '.join(allowed)}"
    return None
