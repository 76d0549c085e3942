"""evtxmpio benchmarks: speed and memory as ratios against python-evtx and the Rust evtx package.

    python bench/run.py [--quick] [--dry-run]

Inputs are made with ``evtxmpio replay`` (System .evtx of 10^4, 10^5 and 10^6 records, a day of
unrelated noise around one KB 2406705 race: well under 1 % MPIO-related records) plus a real
System log from ``../shared/corpus``. On the same files, in the same run, each job runs in its
own process (``bench/measure.py``): python-evtx parse-only, the Rust ``evtx`` package parse-only
(``records_json``, one thread), and ``evtxmpio analyze`` end to end with each backend, with and
without the chunk pre-filter. Results go to ``bench/results/`` as JSON, a markdown table and a
PNG plot; a full run also refreshes the table in the README.

python-evtx decodes some 400 records/s, so it and the python backend run only up to
``Plan.python_max`` records (10^5 in a full run: the 10^6 file alone would take each of them
most of an hour). Timings on this machine vary by about 20 % from run to run, so each job is
the best of three runs (python-evtx-speed jobs: two up to 10^4 records, one above).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / "cache"
CORPUS_FILE = REPO.parent / "shared" / "corpus" / "evtx" / "log2timeline__plaso" / "System.evtx"
TOOLS = ("python-evtx", "evtx-rs", "analyze:rust:prefilter", "analyze:rust:full",
         "analyze:python:full", "analyze:python:prefilter")
PYTHON_TOOLS = ("python-evtx", "analyze:python:full", "analyze:python:prefilter")
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"


@dataclass(frozen=True, slots=True)
class Plan:
    """What one run measures."""

    name: str
    sizes: tuple[int, ...]
    python_max: int
    corpus: bool
    repeats: int = 3


PLANS = {
    "full": Plan("full", (10_000, 100_000, 1_000_000), 100_000, True),
    "quick": Plan("quick", (10_000, 100_000), 10_000, True),
    "dry-run": Plan("dry-run", (1_000,), 10_000, False, repeats=1),
}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One job on one file."""

    input: str
    records: int
    size_mb: float
    tool: str
    seconds: float
    wall_seconds: float
    peak_rss_mb: float
    records_per_s: float
    mb_per_s: float
    detail: dict


def make_input(size: int) -> Path:
    """A replayed System .evtx of about ``size`` records (cached in bench/cache/)."""
    folder = WORK / f"system-{size}"
    target = folder / "System-FS01.evtx"
    workload = (BENCH / "workload.yaml.in").read_text(encoding="utf-8")
    workload = workload.replace("NOISE_PER_HOUR", str(max(size // 24, 1))).replace("SEED", "8")
    stamp = folder / "workload.yaml"
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == workload:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(workload, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "evtxmpio", "replay", str(stamp), "--model", "buggy",
                    "--out", str(folder), "--formats", "evtx"], check=True,
                   stdout=subprocess.DEVNULL)
    return target


def measure(tool: str, path: Path, label: str | None = None) -> Measurement:
    """Run ``tool`` on ``path`` in a fresh process; collect time and peak RSS."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(BENCH / "measure.py"), tool, str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out, err = process.stdout.read(), process.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{tool} on {path.name} failed: {err.strip()[-500:]}")
    result = json.loads(out)
    size_mb = path.stat().st_size / 2**20
    seconds = float(result.pop("seconds"))
    records = int(result.pop("records"))
    return Measurement(label or path.name, records, round(size_mb, 2), tool,
                       round(seconds, 3), round(wall, 3), round(usage.ru_maxrss / 1024, 1),
                       round(records / seconds), round(size_mb / seconds, 2), result)


def repeats_for(tool: str, size: int, plan: Plan) -> int:
    """Rust-speed jobs run ``plan.repeats`` times; python-evtx-speed jobs fewer (they are slow)."""
    if tool not in PYTHON_TOOLS:
        return plan.repeats
    if plan.name == "quick":
        return 1  # --quick must finish in under five minutes
    return min(plan.repeats, 2) if size <= 10_000 else 1


def run(plan: Plan) -> list[Measurement]:
    """Every measurement of ``plan``; the best of each job's runs.

    This machine's speed drifts by 20-40 % over minutes, so the runs of the tools compared on
    one input are interleaved (all tools once, then all again) rather than run back to back.
    """
    inputs = [(f"replay-{size:,}", make_input(size), size) for size in plan.sizes]
    if plan.corpus and CORPUS_FILE.is_file():
        inputs.append(("corpus:plaso/System.evtx", CORPUS_FILE, _record_count(CORPUS_FILE)))
    results = []
    for label, path, size in inputs:
        tools = [t for t in TOOLS if t not in PYTHON_TOOLS or size <= plan.python_max]
        best: dict[str, Measurement] = {}
        for round_no in range(plan.repeats):
            for tool in tools:
                if round_no >= repeats_for(tool, size, plan):
                    continue
                m = measure(tool, path, label)
                if tool not in best or m.seconds < best[tool].seconds:
                    best[tool] = m
                print(f"{label:26} {tool:26} {m.seconds:9.3f} s {m.peak_rss_mb:8.1f} MB",
                      flush=True)
        results.extend(best[tool] for tool in tools)
    return results


def _record_count(path: Path) -> int:
    from evtx import PyEvtxParser

    return sum(1 for _ in PyEvtxParser(str(path), number_of_threads=1).records_json())


def ratios(results: list[Measurement]) -> list[dict]:
    """The targets of the benchmark issue, per input, with pass/fail."""
    rows = []
    by_input: dict[str, dict[str, Measurement]] = {}
    for m in results:
        by_input.setdefault(m.input, {})[m.tool] = m
    for name, tools in by_input.items():
        for tool, base, target in (("analyze:rust:prefilter", "evtx-rs", 0.5),
                                   ("analyze:rust:full", "evtx-rs", 1.2),
                                   ("analyze:python:full", "python-evtx", 1.2)):
            if tool in tools and base in tools:
                value = tools[tool].seconds / tools[base].seconds
                rows.append({"input": name, "records": tools[base].records, "ratio":
                             f"{tool} / {base}", "value": round(value, 3), "target": target,
                             "met": value <= target})
    return rows


def memory_check(results: list[Measurement]) -> dict:
    """Peak RSS of end-to-end analysis against input size (target < 500 MB at 10^6)."""
    points = sorted((m.records, m.peak_rss_mb) for m in results
                    if m.tool == "analyze:rust:prefilter" and m.input.startswith("replay"))
    largest = points[-1] if points else (0, 0.0)
    growth = (points[-1][1] / points[0][1]) / (points[-1][0] / points[0][0]) \
        if len(points) > 1 else None
    return {"points": points, "largest_records": largest[0], "largest_peak_rss_mb": largest[1],
            "under_500_mb": largest[1] < 500,
            "rss_growth_over_size_growth": round(growth, 4) if growth else None}


def markdown(results: list[Measurement], checks: list[dict], memory: dict, plan: Plan) -> str:
    """The results as a markdown document."""
    lines = [f"Run `{plan.name}` on {platform.machine()} ({os.cpu_count()} cores), "
             f"Python {platform.python_version()}.", "",
             "| input | records | MB | tool | seconds | records/s | MB/s | peak RSS MB |",
             "|---|---:|---:|---|---:|---:|---:|---:|"]
    lines += [f"| {m.input} | {m.records:,} | {m.size_mb} | {m.tool} | {m.seconds} | "
              f"{m.records_per_s:,} | {m.mb_per_s} | {m.peak_rss_mb} |" for m in results]
    lines += ["", "| input | records | ratio | value | target | met |",
              "|---|---:|---|---:|---:|---|"]
    lines += [f"| {c['input']} | {c['records']:,} | {c['ratio']} | {c['value']} | "
              f"<= {c['target']} | {'yes' if c['met'] else 'NO'} |" for c in checks]
    lines += ["", f"Peak RSS of `analyze:rust:prefilter`: {memory['largest_peak_rss_mb']} MB at "
              f"{memory['largest_records']:,} records (target < 500 MB: "
              f"{'met' if memory['under_500_mb'] else 'NOT met'}); RSS growth / size growth = "
              f"{memory['rss_growth_over_size_growth']} (sub-linear when < 1)."]
    return "\n".join(lines) + "\n"


def plot(results: list[Measurement], target: Path) -> None:
    """Time and peak RSS against input size, one line per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tool in TOOLS:
        points = sorted((m.records, m.seconds, m.peak_rss_mb) for m in results
                        if m.tool == tool and m.input.startswith("replay"))
        if not points:
            continue
        xs = [p[0] for p in points]
        left.plot(xs, [p[1] for p in points], marker="o", label=tool)
        right.plot(xs, [p[2] for p in points], marker="o", label=tool)
    for axis, label in ((left, "seconds"), (right, "peak RSS (MB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("records in the System .evtx")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    figure.suptitle("evtxmpio vs python-evtx and evtx (Rust), same files, same run")
    figure.tight_layout()
    figure.savefig(target, dpi=110)


def update_readme(table: str) -> None:
    """Replace the benchmark table in README.md between its markers."""
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{table}{README_END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 records only")
    parser.add_argument("--dry-run", action="store_true",
                        help="a tiny input, every tool once, results to bench/cache/ only")
    args = parser.parse_args()
    plan = PLANS["dry-run" if args.dry_run else "quick" if args.quick else "full"]
    results = run(plan)
    checks, memory = ratios(results), memory_check(results)
    out = WORK / "dry-run" if args.dry_run else BENCH / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = "latest" if plan.name == "full" else plan.name
    document = {"plan": asdict(plan), "machine": platform.machine(), "cpus": os.cpu_count(),
                "python": platform.python_version(), "results": [asdict(m) for m in results],
                "ratios": checks, "memory": memory}
    (out / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    table = markdown(results, checks, memory, plan)
    (out / f"{stem}.md").write_text(table, encoding="utf-8")
    plot(results, out / f"{stem}.png")
    if plan.name == "full":
        update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
