"""The I/O stream: one row per request offered to an MPIO disk.

Columns, in order (CSV header line and Parquet schema):

================ ======================= ===================== ==================================
column           CSV                     Parquet               meaning
================ ======================= ===================== ==================================
issue_time       ``2011-06-14T07:45:30.1234567Z`` timestamp[ns, UTC] request issued to the MPIO disk
completion_time  same                    timestamp[ns, UTC]    completion on a healthy path
host             text                    string                Computer name
mpio_disk        decimal                 int32                 N of ``\\Device\\MPIODiskN``
lun              decimal                 int32                 LUN number
path_id          ``0x77030001``          uint32                path the load balancer chose
operation        ``read`` / ``write``    string
offset           decimal bytes           int64                 byte offset on the LUN
length           decimal bytes           int32
status           ``0x00000000``          uint32                NTSTATUS as recorded
request_id       ``0x1A2F``              uint64                unique per host
================ ======================= ===================== ==================================

Rows are sorted by ``issue_time``. The stream is the *offered* load: the model decides which
requests fail, are redirected, resubmitted or lost from the workload's faults, and does not read
``status`` -- so one stream replayed through ``buggy`` and ``fixed`` is a counterfactual pair.
"""

from __future__ import annotations

import csv
import heapq
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from evtxmpio.errors import Error
from evtxmpio.replay.workload import seconds_to_ns

if TYPE_CHECKING:
    from evtxmpio.replay.workload import Host, Lun, Workload

COLUMNS = (
    "issue_time",
    "completion_time",
    "host",
    "mpio_disk",
    "lun",
    "path_id",
    "operation",
    "offset",
    "length",
    "status",
    "request_id",
)
_LENGTHS = (4096, 8192, 16384, 65536)
_BATCH = 65_536


class StreamError(Error):
    """An I/O stream file is unreadable: ``stream.csv:12: problem``."""


@dataclass(frozen=True, slots=True)
class IoRequest:
    """One row of the I/O stream (times in Unix-epoch ns)."""

    issue_ns: int
    completion_ns: int
    host: str
    mpio_disk: int
    lun: int
    path_id: int
    operation: str
    offset: int
    length: int
    status: int
    request_id: int


def generate_stream(workload: Workload) -> Iterator[IoRequest]:
    """Yield the offered I/O of every LUN of every host, lazily, sorted by issue time.

    Arrivals are Poisson at each LUN's ``iops``; the path follows the host's load-balance
    policy (``failover-only`` uses the LUN's first path, every other policy rotates over the
    LUN's paths); service time is exponential around ``latency_ms``.
    """
    streams = []
    for host in workload.hosts:
        ids = iter(range(0x1000, 1 << 62))
        per_lun = [_lun_stream(workload, host, lun) for lun in host.luns]
        merged = heapq.merge(*per_lun, key=lambda item: item[0])
        streams.append(_number(merged, host, ids))
    return heapq.merge(*streams, key=lambda request: request.issue_ns)


def _lun_stream(workload: Workload, host: Host, lun: Lun) -> Iterator[tuple]:
    if lun.iops <= 0:
        return
    rng = random.Random(f"{workload.seed}:{host.name}:{lun.mpio_disk}:io")
    now = workload.start_ns + seconds_to_ns(workload.io_start_s)
    blocks = lun.size_gb * (1 << 30) // 4096
    turn = 0
    while True:
        now += max(100, seconds_to_ns(rng.expovariate(lun.iops)))
        if now >= workload.end_ns:
            return
        service = max(100, seconds_to_ns(rng.expovariate(1000.0 / lun.latency_ms)))
        path = lun.paths[0] if host.load_balance == "failover-only" else lun.paths[turn]
        turn = (turn + 1) % len(lun.paths)
        operation = "write" if rng.random() < lun.write_fraction else "read"
        yield (
            now,
            now + service,
            lun,
            path,
            operation,
            rng.randrange(blocks) * 4096,
            rng.choice(_LENGTHS),
        )


def _number(items: Iterator[tuple], host: Host, ids: Iterator[int]) -> Iterator[IoRequest]:
    for issue, completion, lun, path, operation, offset, length in items:
        yield IoRequest(
            issue,
            completion,
            host.name,
            lun.mpio_disk,
            lun.lun,
            path,
            operation,
            offset,
            length,
            0,
            next(ids),
        )


def format_time(time_ns: int) -> str:
    """Render Unix-epoch ns as ``YYYY-MM-DDTHH:MM:SS.fffffffZ`` (7 digits, UTC)."""
    import datetime as dt

    seconds, rest = divmod(time_ns, 1_000_000_000)
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 100:07d}Z"


def parse_time(text: str) -> int:
    """Parse ``YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`` (or ``+00:00``) to Unix-epoch ns."""
    import datetime as dt

    text = text.strip().removesuffix("Z").removesuffix("+00:00")
    main, _, fraction = text.partition(".")
    moment = dt.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    if not fraction.isdigit() and fraction:
        raise ValueError(f"bad fraction in {text!r}")
    return int(moment.timestamp()) * 1_000_000_000 + int((fraction or "0").ljust(9, "0")[:9])


def _row_text(request: IoRequest) -> list[str]:
    return [
        format_time(request.issue_ns),
        format_time(request.completion_ns),
        request.host,
        str(request.mpio_disk),
        str(request.lun),
        f"0x{request.path_id:08X}",
        request.operation,
        str(request.offset),
        str(request.length),
        f"0x{request.status:08X}",
        f"0x{request.request_id:X}",
    ]


def require_pyarrow(path: Path) -> None:
    """Parquet streams need pyarrow, an optional part (``pip install 'evtxmpio[parquet]'``).

    Raises:
        StreamError: naming the file and the extra to install.
    """
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError as exc:
        raise StreamError(f"{path}: Parquet streams need pyarrow: "
                          "pip install 'evtxmpio[parquet]' (or use CSV)") from exc


class StreamWriter:
    """Writes :class:`IoRequest` rows to ``.csv`` or ``.parquet`` (chosen by suffix), streaming.

    Args:
        path: output file; ``.parquet`` writes Parquet in row groups of 65,536 rows, anything
            else CSV with a header line.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.rows = 0
        self._parquet = self.path.suffix == ".parquet"
        if self._parquet:
            require_pyarrow(self.path)
        self._batch: list[IoRequest] = []
        self._writer = None
        if not self._parquet:
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._file, lineterminator="\n")
            self._csv.writerow(COLUMNS)

    def write(self, request: IoRequest) -> None:
        """Append one row."""
        self.rows += 1
        if not self._parquet:
            self._csv.writerow(_row_text(request))
            return
        self._batch.append(request)
        if len(self._batch) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pydict(_columns(self._batch), schema=_schema())
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, _schema())
        self._writer.write_table(table)
        self._batch = []

    def close(self) -> None:
        """Flush and close the file."""
        if not self._parquet:
            self._file.close()
            return
        if self._batch or self._writer is None:
            self._flush()
        self._writer.close()


def _schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("issue_time", pa.timestamp("ns", tz="UTC")),
            ("completion_time", pa.timestamp("ns", tz="UTC")),
            ("host", pa.string()),
            ("mpio_disk", pa.int32()),
            ("lun", pa.int32()),
            ("path_id", pa.uint32()),
            ("operation", pa.string()),
            ("offset", pa.int64()),
            ("length", pa.int32()),
            ("status", pa.uint32()),
            ("request_id", pa.uint64()),
        ]
    )


def _columns(batch: list[IoRequest]) -> dict[str, list]:
    return {
        "issue_time": [r.issue_ns for r in batch],
        "completion_time": [r.completion_ns for r in batch],
        "host": [r.host for r in batch],
        "mpio_disk": [r.mpio_disk for r in batch],
        "lun": [r.lun for r in batch],
        "path_id": [r.path_id for r in batch],
        "operation": [r.operation for r in batch],
        "offset": [r.offset for r in batch],
        "length": [r.length for r in batch],
        "status": [r.status for r in batch],
        "request_id": [r.request_id for r in batch],
    }


def read_stream(path: str | Path) -> Iterator[IoRequest]:
    """Yield the rows of a ``.csv`` or ``.parquet`` I/O stream, checking their order.

    Raises:
        StreamError: the file is missing, a row does not parse, or issue times decrease; the
            message names the file and row.
    """
    path = Path(path)
    rows = _read_parquet(path) if path.suffix == ".parquet" else _read_csv(path)
    last = None
    for number, request in rows:
        if last is not None and request.issue_ns < last:
            raise StreamError(f"{path}:{number}: issue_time goes backwards")
        last = request.issue_ns
        yield request


def _read_csv(path: Path) -> Iterator[tuple[int, IoRequest]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise StreamError(f"{path}: cannot read I/O stream: {exc}") from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise StreamError(f"{path}:1: header must be {','.join(COLUMNS)}")
        for number, row in enumerate(reader, start=2):
            try:
                yield number, _parse_row(row)
            except (ValueError, IndexError) as exc:
                raise StreamError(f"{path}:{number}: {exc}") from exc


def _parse_row(row: list[str]) -> IoRequest:
    if len(row) != len(COLUMNS):
        raise ValueError(f"{len(row)} columns, expected {len(COLUMNS)}")
    operation = row[6].strip()
    if operation not in ("read", "write"):
        raise ValueError(f"operation {operation!r} is not read/write")
    return IoRequest(
        parse_time(row[0]),
        parse_time(row[1]),
        row[2].strip(),
        int(row[3]),
        int(row[4]),
        int(row[5], 16),
        operation,
        int(row[7]),
        int(row[8]),
        int(row[9], 16),
        int(row[10], 16),
    )


def _read_parquet(path: Path) -> Iterator[tuple[int, IoRequest]]:
    require_pyarrow(path)
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise StreamError(f"{path}: cannot read I/O stream: {exc}") from exc
    names = tuple(parquet.schema_arrow.names)
    if names != COLUMNS:
        raise StreamError(f"{path}: columns must be {','.join(COLUMNS)}")
    number = 0
    for batch in parquet.iter_batches(batch_size=_BATCH):
        columns = [
            batch.column(i).cast("int64").to_pylist() if i < 2 else batch.column(i).to_pylist()
            for i in range(len(COLUMNS))
        ]
        for values in zip(*columns, strict=True):
            number += 1
            yield number, IoRequest(*values)
