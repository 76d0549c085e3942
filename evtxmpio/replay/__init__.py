"""Replay: I/O streams through an MPIO failover model, written as Windows would log them.

Library entry point::

    from evtxmpio.replay import replay
    result = replay("samples/kb2406705-race/workload.yaml", model="buggy", out_dir="out/race")
    result.ground_truth["verdict"]      # 'kb2406705-race'

Formats, file names, the workload and stream formats, the model's states and events:
``evtxmpio/replay/README.md``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evtxmpio.replay.cluster_events import cluster_truth, node_events, skewed
from evtxmpio.replay.model import VARIANTS, FailoverModel, ModelResult
from evtxmpio.replay.noise import boot_records, noise_records
from evtxmpio.replay.staging import Staging, staging
from evtxmpio.replay.stream import StreamWriter, generate_stream, read_stream
from evtxmpio.replay.truth import ground_truth, write_ground_truth
from evtxmpio.replay.workload import Workload, WorkloadError, load_workload, seconds_to_ns

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from evtxmpio.replay.events import SystemEvent
    from evtxmpio.replay.stream import IoRequest
    from evtxmpio.replay.workload import Host

FORMATS = ("evtx", "xml", "xml-viewer", "etw-xml", "etw-csv")
DEFAULT_FORMATS = ("evtx", "xml", "etw-xml", "etw-csv")
__all__ = ["DEFAULT_FORMATS", "FORMATS", "VARIANTS", "ReplayResult", "replay", "system_log"]


@dataclass
class ReplayResult:
    """What :func:`replay` wrote.

    Attributes:
        out_dir: the output folder.
        files: every file written, in writing order.
        ground_truth: the ground-truth document (also in ``ground_truth.json``).
        system_records: records written per host System log.
        trace_events: trace events written per host.
        model: the raw model result (state transitions, events).
    """

    out_dir: Path
    files: list[Path] = field(default_factory=list)
    ground_truth: dict[str, Any] = field(default_factory=dict)
    system_records: dict[str, int] = field(default_factory=dict)
    trace_events: dict[str, int] = field(default_factory=dict)
    model: ModelResult | None = None


def replay(
    workload: str | Path | dict[str, Any] | Workload,
    model: str = "buggy",
    out_dir: str | Path = "replay-out",
    formats: Iterable[str] = DEFAULT_FORMATS,
    stream: str | Path | None = None,
    stream_format: str = "csv",
) -> ReplayResult:
    """Replay a workload's I/O (or a recorded stream) through the model and write the logs.

    Args:
        workload: a workload YAML path, its parsed dict, or a :class:`Workload`.
        model: ``"buggy"`` (KB 2406705 race present) or ``"fixed"``.
        out_dir: folder for the outputs (created).
        formats: any of :data:`FORMATS`.
        stream: a recorded I/O stream (.csv/.parquet) to replay instead of generating one.
        stream_format: ``"csv"`` or ``"parquet"`` for the copy written as ``stream.<fmt>``.

    Raises:
        WorkloadError: bad workload, model or format name.
        StreamError: the recorded stream cannot be read.
    """
    spec = load_workload(workload)
    chosen = tuple(formats)
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown or stream_format not in ("csv", "parquet"):
        raise WorkloadError(f"formats: {unknown or stream_format} not in {list(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = ReplayResult(out_dir=out)
    with staging() as stage:
        _write_all(spec, model, stream, stream_format, chosen, result, stage)
    return result


def _write_all(spec: Workload, model: str, stream: str | Path | None, stream_format: str,
               formats: tuple[str, ...], result: ReplayResult, stage: Staging) -> None:
    out = result.out_dir
    stream_path = out / f"stream.{stream_format}"
    # written under another name first: the recorded stream may be this very file
    writer = StreamWriter(stage.path(stream_path))
    source = read_stream(stream) if stream is not None else generate_stream(spec)
    try:
        result.model = FailoverModel(spec, model).run(_tee(source, writer))
    finally:
        writer.close()
    result.files.append(stream_path)
    for host in spec.hosts:
        _write_host(spec, host, result, formats, stage)
    result.ground_truth = ground_truth(spec, result.model)
    if spec.cluster is not None:
        result.ground_truth["cluster"] = cluster_truth(spec, spec.cluster, result.model)
    write_ground_truth(stage.path(out / "ground_truth.json"), result.ground_truth)
    result.files.append(out / "ground_truth.json")


def _tee(source: Iterable[IoRequest], writer: StreamWriter) -> Iterator[IoRequest]:
    for request in source:
        writer.write(request)
        yield request


def system_log(workload: Workload, host: Host, model: ModelResult) -> Iterator[SystemEvent]:
    """Yield the host's whole System log, numbered: boot, model events and noise, merged."""
    spec = workload.cluster
    cluster = node_events(workload, spec, model, host.name) if spec else []
    preamble = sorted(
        [*boot_records(workload, host), *model.system_events(host.name), *cluster],
        key=lambda event: event.time_ns,
    )
    merged = heapq.merge(preamble, noise_records(workload, host), key=lambda e: e.time_ns)
    offset = spec.clock_offset_ns(host.name) if spec else 0  # the node's clock (cluster.py)
    for record_id, event in enumerate(merged, start=host.first_record_id):
        yield replace(skewed(event, offset), record_id=record_id)


def host_stem(host: Host) -> str:
    """Short host name used in file names (``FS01.contoso.local`` -> ``FS01``)."""
    return host.name.split(".")[0]


def _write_host(spec: Workload, host: Host, result: ReplayResult, formats: tuple[str, ...],
                stage: Staging) -> None:
    from evtxmpio.replay.evtx_writer import EvtxWriter
    from evtxmpio.replay.xml_writer import EventXmlWriter

    out, stem = result.out_dir, host_stem(host)
    targets = {
        "evtx": (out / f"System-{stem}.evtx", lambda p: EvtxWriter(p, spec.evtx_layout)),
        "xml": (out / f"System-{stem}.xml", lambda p: EventXmlWriter(p, "wevtutil")),
        "xml-viewer": (
            out / f"System-{stem}.eventviewer.xml",
            lambda p: EventXmlWriter(p, "eventviewer"),
        ),
    }
    chosen = [(path, make) for name, (path, make) in targets.items() if name in formats]
    writers = [make(stage.path(path)) for path, make in chosen]
    count = 0
    try:
        for event in system_log(spec, host, result.model):
            for writer in writers:
                writer.write(event)
            count += 1
    finally:
        for writer in writers:
            writer.close()
    result.files += [path for path, _ in chosen]
    result.system_records[host.name] = count
    _write_trace(spec, host, result, formats, stage)


def _write_trace(spec: Workload, host: Host, result: ReplayResult, formats: tuple[str, ...],
                 stage: Staging) -> None:
    from evtxmpio.replay.etw_writer import TraceCsvWriter, TraceXmlWriter

    out, stem = result.out_dir, host_stem(host)
    trace = result.model.trace_events(host.name)
    start = spec.start_ns + seconds_to_ns(spec.io_start_s)
    offset = host.utc_offset_minutes
    targets = {
        "etw-xml": (
            out / f"MPIO-{stem}.etw.xml",
            lambda p: TraceXmlWriter(p, start, host.name, offset),
        ),
        "etw-csv": (out / f"MPIO-{stem}.etw.csv", lambda p: TraceCsvWriter(p, start)),
    }
    for name, (path, make) in targets.items():
        if name in formats:
            writer = make(stage.path(path))
            try:
                for event in trace:
                    writer.write(event)
            finally:
                writer.close()
            result.files.append(path)
    result.trace_events[host.name] = len(trace)
