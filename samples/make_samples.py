"""Regenerate the replay samples: ``python samples/make_samples.py [--out DIR] [NAME ...]``.

Each sample folder holds ``workload.yaml`` (the input, committed by hand) and what
``evtxmpio replay`` writes from it (``stream.csv``, ``System-<host>.evtx``, Event XML,
tracerpt XML/CSV, ``ground_truth.json``). Output is deterministic: running this script again
gives byte-identical files (``tests/replay/test_samples.py`` checks it). ``--out`` writes the
samples somewhere else, leaving the workloads where they are.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from evtxmpio.replay import replay, system_log  # noqa: E402
from evtxmpio.replay.model import FailoverModel  # noqa: E402
from evtxmpio.replay.stream import read_stream  # noqa: E402
from evtxmpio.replay.workload import load_workload  # noqa: E402
from evtxmpio.replay.xml_writer import write_event_xml  # noqa: E402

# sample -> (model variant, formats)
SAMPLES = {
    "kb2406705-race": ("buggy", ("evtx", "xml", "etw-xml", "etw-csv")),
    "healthy-failover": ("buggy", ("evtx", "xml", "etw-xml", "etw-csv")),
    "all-paths-down": ("buggy", ("evtx", "xml", "etw-xml", "etw-csv")),
    "path-flapping": ("buggy", ("evtx", "xml", "etw-xml", "etw-csv")),
    "four-luns-race-noise": ("buggy", ("evtx", "xml-viewer", "etw-csv")),
    "duplicated-export": ("fixed", ("evtx", "etw-xml")),
    "cluster-race": ("buggy", ("evtx", "xml")),
    "cluster-all-paths-down": ("buggy", ("evtx", "xml")),
}
EXPORT_SPLIT = (0.65, 0.40)
"""duplicated-export: export 1 holds the first 65 % of the records, export 2 from 40 % on."""


def make_sample(name: str, out_root: Path) -> Path:
    """Regenerate one sample into ``out_root/name``; return its folder."""
    model, formats = SAMPLES[name]
    workload_file = HERE / name / "workload.yaml"
    target = out_root / name
    if target.exists() and target != workload_file.parent:
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    if target != workload_file.parent:
        shutil.copyfile(workload_file, target / "workload.yaml")
    for stale in target.iterdir():
        if stale.name != "workload.yaml":
            stale.unlink()
    replay(workload_file, model=model, out_dir=target, formats=formats)
    if name == "duplicated-export":
        _overlapping_exports(workload_file, model, target)
    return target


def _overlapping_exports(workload_file: Path, model: str, target: Path) -> None:
    workload = load_workload(workload_file)
    result = FailoverModel(workload, model).run(read_stream(target / "stream.csv"))
    for host in workload.hosts:
        events = list(system_log(workload, host, result))
        stem = host.name.split(".")[0]
        first = events[: round(len(events) * EXPORT_SPLIT[0])]
        second = events[round(len(events) * EXPORT_SPLIT[1]) :]
        write_event_xml(target / f"System-{stem}-export1.xml", first, "wevtutil")
        write_event_xml(target / f"System-{stem}-export2.xml", second, "wevtutil")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"samples to make (default: {list(SAMPLES)})")
    parser.add_argument("--out", type=Path, default=HERE, help="root folder to write into")
    args = parser.parse_args(argv)
    for name in args.names or SAMPLES:
        folder = make_sample(name, args.out)
        size = sum(path.stat().st_size for path in folder.iterdir())
        print(f"{name}: {size / 1024:.0f} KiB in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
