"""``--redact``: consistent pseudonyms for host names, volumes, file paths, IPs and iSCSI names.

Two passes. :func:`collect` learns the names from the case: the structured columns (``host``,
``volume``, ``file``, ``source_file``, inputs, accounts, LUN hosts) and, by pattern, from every
free-text string (messages, Data values, issue lines): Windows paths, volume devices and GUIDs,
IPv4/IPv6 addresses, ``iqn.``/``eui.``/``naa.`` iSCSI names. :meth:`Redactor.walk` is then the
final pass over *every* string of an output (the report context, the JSON document, CSV and
Timesketch rows): each known name is replaced wherever it occurs, case-insensitively, also in
its JSON-escaped spelling (``\\\\Device\\\\...`` inside the ``data`` column). The mapping is
written to a separate file the engineer keeps (:meth:`Redactor.mapping_document`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

import pandas as pd

from evtxmpio.detect import CaseResult
from evtxmpio.model import cluster_rows, data_values

MAP_SCHEMA = "evtxmpio.redaction/1"
PREFIX = {"host": "HOST", "domain": "DOMAIN", "volume": "VOLUME", "file": "FILE", "ip": "IP",
          "iscsi": "IQN", "role": "ROLE"}
_PATH_END = r"[^\s\"'<>|*?,;]+"
PATTERNS = {
    "volume": re.compile(r"\\Device\\HarddiskVolume\d+(?![\\\w])|\\\\\?\\Volume\{[0-9A-Fa-f-]{36}\}"
                         r"(?!\\\w)", re.I),
    "file": re.compile(r"(?:[A-Za-z]:\\|\\Device\\HarddiskVolume\d+\\|\\\\[\w.$-]+\\)" + _PATH_END),
    "iscsi": re.compile(r"\b(?:iqn\.\d{4}-\d{2}\.[\w.:-]+|eui\.[0-9A-Fa-f]{16}"
                        r"|naa\.[0-9A-Fa-f]{16,32})", re.I),
    "ip": re.compile(r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*::[0-9A-Fa-f:]*"
                     r"|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4})(?![\w.:])"),
}
TEXT_COLUMNS = ("message", "data", "dsm", "trigger", "channel", "device", "target", "dump_data")
# Fields that hold only identifiers the report made itself (CSS classes, anchors, ids).
OWN_FIELDS = frozenset({"css", "kind", "href", "anchor", "verdict", "severity", "rule_id"})
_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9_])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9_])"


@dataclass(slots=True)
class Redactor:
    """Original name -> pseudonym, per kind; ``walk`` applies it to any output value."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # lower original -> (kind, p)
    originals: dict[str, str] = field(default_factory=dict)  # lower original -> as first seen
    counters: dict[str, int] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None
    _lookup: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, original: str, pseudonym: str | None = None) -> str | None:
        """Give ``original`` a pseudonym (``HOST-1``; files keep their extension)."""
        original = original.strip().rstrip(".:")
        if len(original) < 2 or original.lower() in self.names:
            return self.names.get(original.lower(), (kind, None))[1]
        if pseudonym is None:
            self.counters[kind] = self.counters.get(kind, 0) + 1
            pseudonym = f"{PREFIX[kind]}-{self.counters[kind]}"
            if kind == "file":
                pseudonym += _extension(original)
        self.names[original.lower()] = (kind, pseudonym)
        self.originals[original.lower()] = original
        self._pattern = None
        return pseudonym

    def add_host(self, host: str) -> None:
        """A host name, its short name and its DNS domain."""
        pseudonym = self.add("host", host)
        short, _, domain = host.partition(".")
        if domain and pseudonym:
            self.add("host", short, pseudonym)
            domain_name = self.add("domain", domain)
            netbios = domain.partition(".")[0]
            if len(netbios) >= 4 and domain_name:
                self.add("domain", netbios, domain_name)

    def _compile(self) -> re.Pattern[str] | None:
        self._lookup = {}
        for lower, (_, pseudonym) in self.names.items():
            self._lookup[lower] = pseudonym
            escaped = json.dumps(self.originals[lower], ensure_ascii=False)[1:-1].lower()
            self._lookup.setdefault(escaped, pseudonym)
        if not self._lookup:
            return None
        keys = sorted(self._lookup, key=lambda k: (-len(k), k))
        body = "|".join(re.escape(k) for k in keys)
        return re.compile(f"{_BOUNDARY_BEFORE}(?:{body}){_BOUNDARY_AFTER}", re.I)

    def text(self, value: str) -> str:
        """``value`` with every known name replaced by its pseudonym."""
        if self._pattern is None:
            self._pattern = self._compile()
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self._lookup[m.group(0).lower()], value)

    def walk(self, value: Any) -> Any:
        """Redact every string inside ``value`` (dataclasses, dicts, lists, tuples)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.walk(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self.walk(item) for item in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self.walk(getattr(value, f.name))
                       for f in dataclasses.fields(value) if f.init and f.name not in OWN_FIELDS}
            return dataclasses.replace(value, **changes)
        return value

    def mapping_document(self) -> dict[str, Any]:
        """The mapping file: pseudonym -> original spellings, per kind. Keep it; never send it."""
        kinds: dict[str, dict[str, list[str]]] = {}
        for lower, (kind, pseudonym) in self.names.items():
            kinds.setdefault(kind, {}).setdefault(pseudonym, []).append(self.originals[lower])
        return {"schema": MAP_SCHEMA,
                "note": "Pseudonym -> original names. Keep this file; do not send it with "
                        "the report.",
                "pseudonyms": {kind: dict(sorted(kinds[kind].items())) for kind in sorted(kinds)}}


def _extension(path: str) -> str:
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    name = name.rpartition("!")[2]
    suffix = PurePosixPath(name).suffix
    return suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""


def _scan(redactor: Redactor, texts: Iterable[str]) -> None:
    for text in texts:
        for kind in ("file", "volume", "iscsi", "ip"):
            for match in PATTERNS[kind].finditer(text):
                _add_match(redactor, kind, match.group(0))


def _add_match(redactor: Redactor, kind: str, value: str) -> None:
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return
        if value in ("0.0.0.0", "127.0.0.1", "::", "::1"):
            return
    redactor.add(kind, value.rstrip(".,:;)"))


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    if name not in frame:
        return []
    return [str(v) for v in frame[name].dropna().unique()]


def _data_values(frame: pd.DataFrame) -> list[str]:
    return data_values(frame["data"]) if "data" in frame else []


def collect(case: CaseResult) -> Redactor:
    """Learn every host, volume, file, IP and iSCSI name of ``case``."""
    redactor = Redactor()
    events = case.events
    hosts = set(_column(events, "host")) | set(_column(case.timelines, "host"))
    hosts |= {f.host for f in case.findings if f.host}
    hosts |= {d.host for d in case.delayed_write_failures if d.host}
    for lun in getattr(case, "luns", None) or []:
        host = lun.get("host") if isinstance(lun, dict) else getattr(lun, "host", None)
        if host:
            hosts.add(str(host))
    fqdn_labels = {h.partition(".")[0].lower() for h in hosts if "." in h}
    for host in sorted(h for h in hosts if "." not in h and h.lower() in fqdn_labels):
        # A short name the case keeps apart from an FQDN (not proven one machine) gets its own
        # pseudonym, or the redacted report would show two hosts under one name.
        redactor.add("host", host)
    for host in sorted(hosts, key=lambda h: (-h.count("."), h.lower())):
        redactor.add_host(host)
    lost = {f.file for f in case.delayed_write_failures}
    for path in sorted(lost | set(_column(events, "file"))):
        redactor.add("file", path)
    sources = set(case.inputs) | set(_column(events, "source_file"))
    sources |= {a.file for a in case.accounts} | {i.source_path for i in case.issues}
    for path in sorted(sources):
        redactor.add("file", path)
    for volume in sorted(set(_column(events, "volume")) | {
            d.volume for d in case.delayed_write_failures if d.volume}):
        redactor.add("volume", volume)
    for cluster in getattr(case, "clusters", None) or []:
        if cluster.name:  # the cluster name is a computer name in the domain
            redactor.add_host(cluster.name)
    for role in sorted(set(_column(cluster_rows(events), "trigger"))):  # clustered roles
        redactor.add("role", role)
    free_text = [v for c in TEXT_COLUMNS if c != "data" for v in _column(events, c)]
    free_text += _data_values(events) + [i.line() for i in case.issues]
    free_text += [e for a in case.accounts for e in a.errors]
    _scan(redactor, free_text)
    return redactor
