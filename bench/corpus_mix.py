"""The provider/event mix of the real System logs in ``../shared/corpus``, as replay noise weights.

    python bench/corpus_mix.py [--corpus DIR] [--json OUT]

Reads every System-channel log of the corpus with at least ``MIN_RECORDS`` records (the small
attack samples hold a handful of hand-picked events and would skew the mix) with the Rust
``evtx`` package, counts records per (provider, event id), and maps each to the replay noise kind
that writes it (``NOISE_KINDS``). Records of no known kind are counted as ``other``; the weights
of the known kinds are their share of all records, in percent, rounded, so a ``realistic`` noise
mix is the corpus's own. It also reports which share of the records comes from providers that
evtxmpio keeps, and how many 64 KiB chunks name one of them, the two numbers that decide what
the chunk pre-filter can skip on such logs.

The benchmark (``bench/run.py``) runs this and records its output beside its results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from evtx import PyEvtxParser

BENCH = Path(__file__).resolve().parent
CORPUS = BENCH.parent.parent / "shared" / "corpus"
MIN_RECORDS = 1000
CHUNK = 65536
HEADER = 4096

# noise kind -> (provider name, event id), as the replay writer emits them.
NOISE_KINDS: dict[str, tuple[str, int]] = {
    "scm-7036": ("Service Control Manager", 7036),
    "scm-7040": ("Service Control Manager", 7040),
    "kernel-general-16": ("Microsoft-Windows-Kernel-General", 16),
    "kernel-general-1": ("Microsoft-Windows-Kernel-General", 1),
    "kernel-general-12": ("Microsoft-Windows-Kernel-General", 12),
    "wu-44": ("Microsoft-Windows-WindowsUpdateClient", 44),
    "wu-19": ("Microsoft-Windows-WindowsUpdateClient", 19),
    "wu-43": ("Microsoft-Windows-WindowsUpdateClient", 43),
    "filtermanager-6": ("Microsoft-Windows-FilterManager", 6),
    "dcom-10016": ("Microsoft-Windows-DistributedCOM", 10016),
    "dns-client-1014": ("Microsoft-Windows-DNS-Client", 1014),
    "ntfs-98": ("Microsoft-Windows-Ntfs", 98),
    "time-service-37": ("Microsoft-Windows-Time-Service", 37),
    "eventlog-6013": ("EventLog", 6013),
    "disk-153": ("disk", 153),
}

# Providers the pipeline keeps (README, "Only MPIO-relevant providers become events").
KEPT_PROVIDERS = (
    "mpio", "msdsm", "disk", "Ntfs", "Microsoft-Windows-Ntfs", "Application Popup", "iScsiPrt",
    "EventLog", "Microsoft-Windows-Kernel-General", "Microsoft-Windows-WindowsUpdateClient",
    "USER32", "Microsoft-Windows-Servicing",
)


def _systems(path: Path):
    """The System element of every record ``evtx`` can read; a damaged record is passed over."""
    records = PyEvtxParser(str(path)).records_json()
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except (RuntimeError, OSError):  # a damaged record or chunk: the corpus has some
            continue
        yield json.loads(record["data"])["Event"]["System"]


def system_logs(corpus: Path) -> list[Path]:
    """The corpus's System-channel logs with at least ``MIN_RECORDS`` records, sorted."""
    found = []
    for path in sorted((corpus / "evtx").rglob("*.evtx")):
        channels, count = Counter(), 0
        for system in _systems(path):
            channels[system.get("Channel")] += 1
            count += 1
        if count >= MIN_RECORDS and channels.most_common(1)[0][0] == "System":
            found.append(path)
    return found


def _event_key(system: dict) -> tuple[str, int]:
    provider = system["Provider"]["#attributes"].get("Name", "")
    event_id = system["EventID"]
    if isinstance(event_id, dict):
        event_id = event_id.get("#text")
    return provider, int(event_id)


def _chunks_naming_kept(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    needles = [name.encode("utf-16-le") for name in KEPT_PROVIDERS]
    chunks = [data[off:off + CHUNK] for off in range(HEADER, len(data), CHUNK)]
    chunks = [chunk for chunk in chunks if chunk.startswith(b"ElfChnk\x00")]
    hits = sum(1 for chunk in chunks if any(needle in chunk for needle in needles))
    return hits, len(chunks)


def measure(corpus: Path) -> dict:
    """Counts, shares and noise weights of the corpus System logs."""
    kinds = {key: kind for kind, key in NOISE_KINDS.items()}
    per_file, total, by_kind, kept = {}, 0, Counter(), 0
    chunk_hits = chunk_total = 0
    for path in system_logs(corpus):
        counts = Counter(_event_key(system) for system in _systems(path))
        n = sum(counts.values())
        kept_here = sum(c for (prov, _), c in counts.items() if prov in KEPT_PROVIDERS)
        hits, chunks = _chunks_naming_kept(path)
        chunk_hits, chunk_total = chunk_hits + hits, chunk_total + chunks
        per_file[str(path.relative_to(corpus))] = {
            "records": n, "kept_provider_share": round(kept_here / n, 3),
            "chunks": chunks, "chunks_naming_kept_providers": hits,
        }
        total, kept = total + n, kept + kept_here
        for key, count in counts.items():
            by_kind[kinds.get(key, "other")] += count
    weights = {
        kind: round(100 * count / total)
        for kind, count in by_kind.most_common()
        if kind != "other" and round(100 * count / total) > 0
    }
    return {
        "files": per_file,
        "records": total,
        "kept_provider_share": round(kept / total, 3),
        "chunks": chunk_total,
        "chunks_naming_kept_providers": chunk_hits,
        "other_share": round(by_kind["other"] / total, 3),
        "weights": weights,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--json", type=Path, help="write the result here too")
    args = parser.parse_args(argv)
    if not (args.corpus / "evtx").is_dir():
        print(f"error: no corpus at {args.corpus}", file=sys.stderr)
        return 1
    result = measure(args.corpus)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
