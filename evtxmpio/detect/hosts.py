"""One name per machine, only where the logs prove it.

Windows computer names compare case-insensitively, so ``fs01`` and ``FS01`` are one name. A
short name (``FS01``) and a fully qualified one (``FS01.contoso.local``) are one machine only
when the logs prove it:

* both appear as the ``Computer`` of records in one input file of one machine's log (a log
  file belongs to one machine; a ForwardedEvents log does not); or
* a USER32 1074 (planned restart) logged by the FQDN names the short name as the computer it
  restarts (its second string; domain reference 2.8; seen so in the corpus System logs).

Otherwise they are kept apart, and the pair is reported as uncertain. Nothing else ever joins
two hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evtxmpio.model import folded_in

FORWARDED = "forwardedevents"
RESTART = ("user32", 1074)  # provider (case-folded), event id


@dataclass(frozen=True, slots=True)
class HostNames:
    """How host names were unified.

    Attributes:
        merged: ``(name, into, proof)`` for each name folded into another.
        uncertain: pairs ``(short, fqdn)`` that may be one machine but were kept apart.
    """

    merged: tuple[tuple[str, str, str], ...] = ()
    uncertain: tuple[tuple[str, str], ...] = ()

    def others(self, host: str) -> tuple[str, ...]:
        """The names that may be the same machine as ``host`` (kept apart)."""
        return tuple(sorted({b if a == host else a for a, b in self.uncertain
                             if host in (a, b)}))


def _spelling(events: pd.DataFrame) -> dict[str, str]:
    """Each name -> the most frequent spelling of its case-folded form."""
    counts = events["host"].dropna().astype(str).value_counts()
    best: dict[str, tuple[int, str]] = {}
    for name, count in counts.items():
        key = name.casefold()
        if key not in best or (-count, name) < (-best[key][0], best[key][1]):
            best[key] = (int(count), name)
    return {name: best[name.casefold()][1] for name in counts.index}


def _files_of(events: pd.DataFrame) -> dict[str, set[str]]:
    """Host -> the input files of one machine's log that name it as Computer."""
    own = ~folded_in(events["channel"], (FORWARDED,))
    pairs = events.loc[own, ["host", "source_file"]].dropna().drop_duplicates()
    files: dict[str, set[str]] = {}
    for host, source in pairs.itertuples(index=False, name=None):
        files.setdefault(str(host), set()).add(str(source))
    return files


def _self_names(events: pd.DataFrame) -> dict[str, dict[str, str]]:
    """FQDN -> {short name it calls itself in USER32 1074 (case-folded): input file}."""
    named: dict[str, dict[str, str]] = {}
    restart = folded_in(events["provider"], (RESTART[0],)) & (
        events["event_id"] == RESTART[1]).fillna(False).astype(bool)
    rows = events.loc[restart, ["host", "target", "source_file"]]
    for host, machine, source in rows.itertuples(index=False, name=None):
        if isinstance(host, str) and isinstance(machine, str):  # %2, typed by normalize
            named.setdefault(host, {}).setdefault(machine.strip().casefold(), str(source))
    return named


def _proof(short: str, fqdn: str, files: dict[str, set[str]],
           named: dict[str, dict[str, str]]) -> str | None:
    shared = sorted(files.get(short, set()) & files.get(fqdn, set()))
    if shared:
        return f"both name the computer of records in {shared[0]}"
    source = named.get(fqdn, {}).get(short.casefold())
    return f"USER32 1074 of {fqdn} in {source} names {short} as its computer" if source else None


def unify_hosts(events: pd.DataFrame) -> tuple[pd.DataFrame, HostNames]:
    """Rename hosts to one name per machine where proven; report the uncertain pairs."""
    if events.empty:
        return events, HostNames()
    spelling = _spelling(events)
    merged = [(name, into, "the same name in another letter case")
              for name, into in sorted(spelling.items()) if name != into]
    if merged:  # else every name is its own spelling: the column stays as it is
        renamed = events["host"].map(lambda h: spelling.get(h, h) if isinstance(h, str) else h)
        events = events.assign(host=renamed.astype(events["host"].dtype))
    files = _files_of(events)
    names = sorted(files)
    uncertain = []
    rename: dict[str, str] = {}
    named = _self_names(events)
    for short in (n for n in names if "." not in n):
        fqdns = [n for n in names if "." in n and n.split(".", 1)[0].casefold() == short.casefold()]
        proofs = {f: p for f in fqdns if (p := _proof(short, f, files, named)) is not None}
        if len(proofs) == 1:
            (fqdn, proof), = proofs.items()
            rename[short] = fqdn
            merged.append((short, fqdn, proof))
        else:
            uncertain.extend((short, f) for f in fqdns)
    if rename:
        events = events.assign(host=events["host"].map(
            lambda h: rename.get(h, h) if isinstance(h, str) else h).astype(events["host"].dtype))
    return events, HostNames(tuple(merged), tuple(uncertain))
