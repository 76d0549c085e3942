"""evtxmpio benchmarks: speed and memory as ratios against python-evtx and the Rust evtx package.

    python bench/run.py [--quick] [--dry-run]

Inputs are made with ``evtxmpio replay``: System .evtx of 10^5 and 10^6 records (10^4 too for
the python-evtx-speed tools), a day of unrelated noise around one KB 2406705 race, in four noise
mixes (:data:`MIXES`): ``realistic``, the provider/event mix of the corpus System logs as
``bench/corpus_mix.py`` measures it in the same run (recorded in the results); ``storm``, an
incident flooding disk 153 retries (kept events); ``eventlog50``, half EventLog 6013; and
``friendly``, noise of providers evtxmpio never keeps, the best case. Plus a real System log
from ``../shared/corpus``. On the same files, in the same run, each job runs in its
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
# Noise mixes (replay noise kinds -> weights). ``realistic`` is replaced by the corpus's own
# mix when the corpus is there; this is what bench/corpus_mix.py measured on it.
MIXES = {
    "realistic": {"scm-7036": 36, "scm-7040": 11, "kernel-general-16": 10, "wu-44": 7,
                  "filtermanager-6": 3, "wu-19": 3, "wu-43": 3, "kernel-general-1": 2,
                  "dcom-10016": 2, "eventlog-6013": 1, "dns-client-1014": 1, "ntfs-98": 1,
                  "time-service-37": 1},
    "storm": {"scm-7036": 80, "disk-153": 20},
    "eventlog50": {"scm-7036": 50, "eventlog-6013": 50},
    "friendly": {"scm-7036": 80, "scm-7040": 8, "time-service-37": 12},
}
# Targets per mix at the largest size, as ratio of the default analysis (Rust backend with the
# chunk pre-filter) to the Rust evtx package decoding every record.
MIX_TARGETS = {"realistic": 1.5, "storm": 3.0, "eventlog50": 3.0, "friendly": 0.5}
# With both cores reading the file (``--jobs 2``): the stretch target of the realistic mix.
MIX_TARGETS_2JOBS = {"realistic": 1.0, "storm": 3.0, "eventlog50": 3.0, "friendly": 0.5}
TOOLS = ("python-evtx", "evtx-rs", "analyze:rust:prefilter", "analyze:rust:prefilter:2jobs",
         "analyze:rust:full", "analyze:python:full", "analyze:python:prefilter")
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
    mixes: tuple[str, ...] = tuple(MIXES)


PLANS = {
    "full": Plan("full", (10_000, 100_000, 1_000_000), 10_000, True),
    "quick": Plan("quick", (10_000, 100_000), 10_000, True),
    "dry-run": Plan("dry-run", (1_000,), 10_000, False, repeats=1, mixes=("realistic",)),
}


@dataclass(frozen=True, slots=True)
class Measurement:
    """One job on one file."""

    input: str
    mix: str
    records: int
    size_mb: float
    tool: str
    seconds: float
    wall_seconds: float
    peak_rss_mb: float
    records_per_s: float
    mb_per_s: float
    detail: dict


def make_input(size: int, mix: dict[str, int], name: str) -> Path:
    """A replayed System .evtx of about ``size`` records of noise ``mix`` (in bench/cache/)."""
    folder = WORK / f"system-{name}-{size}"
    target = folder / "System-FS01.evtx"
    workload = (BENCH / "workload.yaml.in").read_text(encoding="utf-8")
    workload = (workload.replace("NOISE_PER_HOUR", str(max(size // 24, 1))).replace("SEED", "8")
                .replace("MIX", json.dumps(mix)))
    stamp = folder / "workload.yaml"
    if target.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == workload:
        return target
    folder.mkdir(parents=True, exist_ok=True)
    stamp.write_text(workload, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "evtxmpio", "replay", str(stamp), "--model", "buggy",
                    "--out", str(folder), "--formats", "evtx"], check=True,
                   stdout=subprocess.DEVNULL)
    return target


def measure(tool: str, path: Path, label: str | None = None, mix: str = "corpus"
            ) -> Measurement:
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
    return Measurement(label or path.name, mix, records, round(size_mb, 2), tool,
                       round(seconds, 3), round(wall, 3), round(usage.ru_maxrss / 1024, 1),
                       round(records / seconds), round(size_mb / seconds, 2), result)


def repeats_for(tool: str, size: int, plan: Plan) -> int:
    """Rust-speed jobs run ``plan.repeats`` times; python-evtx-speed jobs once (they take some
    25 s at 10^4 records, in every mix)."""
    return 1 if tool in PYTHON_TOOLS else plan.repeats


def run(plan: Plan, mixes: dict[str, dict[str, int]]) -> list[Measurement]:
    """Every measurement of ``plan``; the best of each job's runs.

    This machine's speed drifts by 20-40 % over minutes, so the runs of the tools compared on
    one input are interleaved (all tools once, then all again) rather than run back to back.
    """
    inputs = [(f"{mix}-{size:,}", mix, make_input(size, mixes[mix], mix), size)
              for mix in plan.mixes for size in plan.sizes]
    if plan.corpus and CORPUS_FILE.is_file():
        inputs.append(("corpus:plaso/System.evtx", "corpus", CORPUS_FILE,
                       _record_count(CORPUS_FILE)))
    results = []
    for label, mix, path, size in inputs:
        tools = [t for t in TOOLS if t not in PYTHON_TOOLS or size <= plan.python_max]
        best: dict[str, Measurement] = {}
        for round_no in range(plan.repeats):
            for tool in tools:
                if round_no >= repeats_for(tool, size, plan):
                    continue
                m = measure(tool, path, label, mix)
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
        mix = next(iter(tools.values())).mix
        for tool, base, target in (("analyze:rust:prefilter", "evtx-rs",
                                    MIX_TARGETS.get(mix, 0.5)),
                                   ("analyze:rust:prefilter:2jobs", "evtx-rs",
                                    MIX_TARGETS_2JOBS.get(mix, 0.5)),
                                   ("analyze:rust:full", "evtx-rs", 1.2),
                                   ("analyze:python:full", "python-evtx", 1.2)):
            if tool in tools and base in tools:
                value = tools[tool].seconds / tools[base].seconds
                rows.append({"input": name, "mix": mix, "records": tools[base].records, "ratio":
                             f"{tool} / {base}", "value": round(value, 3), "target": target,
                             "met": value <= target})
    return rows


def memory_check(results: list[Measurement]) -> dict:
    """Peak RSS of end-to-end analysis against input size, per mix (target < 500 MB at 10^6)."""
    checks = {}
    for mix in dict.fromkeys(m.mix for m in results if m.mix != "corpus"):
        points = sorted((m.records, m.peak_rss_mb) for m in results
                        if m.tool == "analyze:rust:prefilter" and m.mix == mix)
        largest = points[-1] if points else (0, 0.0)
        growth = (points[-1][1] / points[0][1]) / (points[-1][0] / points[0][0]) \
            if len(points) > 1 else None
        checks[mix] = {"points": points, "largest_records": largest[0],
                       "largest_peak_rss_mb": largest[1], "under_500_mb": largest[1] < 500,
                       "rss_growth_over_size_growth": round(growth, 4) if growth else None}
    return checks


def markdown(results: list[Measurement], checks: list[dict], memory: dict, plan: Plan) -> str:
    """The results as a markdown document."""
    lines = [f"Run `{plan.name}` on {platform.machine()} ({os.cpu_count()} cores), "
             f"Python {platform.python_version()}.", "",
             "| mix | input | records | MB | tool | seconds | records/s | MB/s | "
             "peak RSS MB | kept |",
             "|---|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {m.mix} | {m.input} | {m.records:,} | {m.size_mb} | {m.tool} | {m.seconds} | "
              f"{m.records_per_s:,} | {m.mb_per_s} | {m.peak_rss_mb} | "
              f"{m.detail.get('events', '')} |" for m in results]
    lines += ["", "| mix | input | records | ratio | value | target | met |",
              "|---|---|---:|---|---:|---:|---|"]
    lines += [f"| {c['mix']} | {c['input']} | {c['records']:,} | {c['ratio']} | {c['value']} | "
              f"<= {c['target']} | {'yes' if c['met'] else 'NO'} |" for c in checks]
    lines += [""]
    for mix, check in memory.items():
        lines += [f"- Peak RSS of `analyze:rust:prefilter`, mix `{mix}`: "
                  f"{check['largest_peak_rss_mb']} MB at {check['largest_records']:,} records "
                  f"(target < 500 MB: {'met' if check['under_500_mb'] else 'NOT met'}); RSS "
                  f"growth / size growth = {check['rss_growth_over_size_growth']} (sub-linear "
                  "when < 1)."]
    return "\n".join(lines) + "\n"


def plot(results: list[Measurement], target: Path) -> None:
    """Time and peak RSS against input size, one line per tool."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for tool in ("evtx-rs", "analyze:rust:prefilter"):
        for mix in dict.fromkeys(m.mix for m in results if m.mix != "corpus"):
            points = sorted((m.records, m.seconds, m.peak_rss_mb) for m in results
                            if m.tool == tool and m.mix == mix)
            if not points or (tool == "evtx-rs" and mix != "realistic"):
                continue
            xs = [p[0] for p in points]
            label = tool if tool == "evtx-rs" else f"{tool} ({mix})"
            left.plot(xs, [p[1] for p in points], marker="o", label=label)
            right.plot(xs, [p[2] for p in points], marker="o", label=label)
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


def floor_stages(plan: Plan, mixes: dict[str, dict[str, int]]) -> list[dict]:
    """``bench/floor.py`` (in a fresh process) on the largest input of the mixes whose records
    are nearly all skipped, and of ``storm`` (a fifth kept): where the time goes."""
    floors = []
    for mix in ("realistic", "eventlog50", "storm"):
        if mix in plan.mixes:
            path = make_input(max(plan.sizes), mixes[mix], mix)
            done = subprocess.run([sys.executable, str(BENCH / "floor.py"), str(path)],
                                  check=True, capture_output=True, text=True)
            floors.append({"mix": mix, **json.loads(done.stdout)})
    return floors


def floor_markdown(floors: list[dict]) -> str:
    """The stages of :func:`floor_stages` as a table."""
    if not floors:
        return ""
    lines = ["", "Where the time goes (`bench/floor.py`; CPU seconds, best of 3; each stage adds "
             "one step; `storm` keeps a fifth of its records, the others nearly none):", "",
             "| mix | records | stage | seconds | x evtx-rs | µs/record |",
             "|---|---:|---|---:|---:|---:|"]
    for floor in floors:
        for stage, seconds in floor["seconds"].items():
            lines.append(f"| {floor['mix']} | {floor['records']:,} | {stage} | {seconds} | "
                         f"{floor['ratio'][stage]} | {floor['us_per_record'][stage]} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 and 10^5 records only")
    parser.add_argument("--dry-run", action="store_true",
                        help="a tiny input, every tool once, results to bench/cache/ only")
    args = parser.parse_args()
    plan = PLANS["dry-run" if args.dry_run else "quick" if args.quick else "full"]
    mixes, measured = dict(MIXES), None
    if (CORPUS_FILE.parents[2] / "evtx").is_dir() and "realistic" in plan.mixes:
        from corpus_mix import measure as measure_mix

        measured = measure_mix(CORPUS_FILE.parents[2])
        mixes["realistic"] = measured["weights"]
    results = run(plan, mixes)
    checks, memory = ratios(results), memory_check(results)
    floors = floor_stages(plan, mixes)
    out = WORK / "dry-run" if args.dry_run else BENCH / "results"
    out.mkdir(parents=True, exist_ok=True)
    stem = "latest" if plan.name == "full" else plan.name
    document = {"plan": asdict(plan), "machine": platform.machine(), "cpus": os.cpu_count(),
                "python": platform.python_version(), "results": [asdict(m) for m in results],
                "ratios": checks, "memory": memory, "mixes": mixes,
                "corpus_mix": measured, "floor": floors}
    (out / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    table = markdown(results, checks, memory, plan) + floor_markdown(floors)
    (out / f"{stem}.md").write_text(table, encoding="utf-8")
    plot(results, out / f"{stem}.png")
    if plan.name == "full":
        update_readme(table)
    print(table)


if __name__ == "__main__":
    main()
