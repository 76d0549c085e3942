"""Where the time goes on one .evtx: the floor under ``analyze`` (the ``realistic`` and
``eventlog50`` mixes skip nearly every record; ``storm`` keeps a fifth of them).

    python bench/floor.py FILE [--json OUT]

Each stage adds one step of what the Rust backend does with a sound chunk, on the same file in
the same process, CPU time, best of three:

1. ``evtx-rs``: the ``evtx`` package's ``records()`` over the whole file (the benchmark's
   denominator, one thread);
2. ``chunk walk``: the chunks read and checked as ingest does before deciding them (chunk
   header and data checksums, the provider pre-filter, record headers, free space offset,
   hash chains, what ``evtx`` would stop on);
3. ``+ binary decisions``: each batch of sound chunks decided from its records' binary values
   (``evtx_binfacts.ChunkDecider``: templates, System values, relevance, the content test of
   update records, the health ledger's ids and times) and the kept records of those chunks
   built from their values (``evtx_kept``); no record rendered;
4. ``analyze``: the whole analysis (``pipeline.analyze``, one process, the JSON report; only
   chunks not understood, or with a record kept by the content test, are rendered by
   ``evtx``).

The differences say what each step costs per record.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path


def _best(work: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def _evtx_rs(path: Path) -> None:
    from evtx import PyEvtxParser

    for _ in PyEvtxParser(str(path), number_of_threads=1).records():
        pass


def _chunks(path: Path, step: str) -> None:
    from evtxmpio.catalog.relevance import relevance
    from evtxmpio.ingest.base import ReadOptions, path_source
    from evtxmpio.ingest.evtx_binfacts import ChunkDecider
    from evtxmpio.ingest.evtx_chunks import record_headers
    from evtxmpio.ingest.evtx_rust import BATCH_CHUNKS, _sound_records
    from evtxmpio.ingest.evtx_walk import ChunkToDecode, walk_chunks

    options = ReadOptions(relevance=relevance())
    decider = ChunkDecider(options.relevance)
    batch = []
    for item in walk_chunks(path_source(path), options):
        if not isinstance(item, ChunkToDecode):
            continue
        records = _sound_records(item, record_headers(item.data, item.cut))
        if records is not None:
            batch.append(records)
        if len(batch) == BATCH_CHUNKS:
            if step == "decide":
                decider.decide(batch)
            batch = []
    if step == "decide":
        decider.decide(batch)


def _analyze(path: Path) -> None:
    from evtxmpio import pipeline
    from evtxmpio.report import render_json

    render_json(pipeline.analyze([path], backend="rust", jobs=1))


def measure(path: Path) -> dict[str, object]:
    """The stages on ``path``: seconds and µs per record."""
    from evtx import PyEvtxParser

    from evtxmpio import pipeline

    pipeline.shipped_rules()  # start-up is not a stage
    records = sum(1 for _ in PyEvtxParser(str(path), number_of_threads=1).records())
    stages = {
        "evtx-rs": lambda: _evtx_rs(path),
        "chunk walk": lambda: _chunks(path, "walk"),
        "+ binary decisions": lambda: _chunks(path, "decide"),
        "analyze": lambda: _analyze(path),
    }
    seconds = {name: round(_best(work), 3) for name, work in stages.items()}
    base = seconds["evtx-rs"]
    return {"file": path.name, "records": records, "seconds": seconds,
            "ratio": {name: round(value / base, 2) for name, value in seconds.items()},
            "us_per_record": {name: round(value / records * 1e6, 2)
                              for name, value in seconds.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = measure(args.file)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
