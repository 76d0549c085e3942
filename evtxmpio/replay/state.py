"""Mutable state of the failover model: MPIO disks, failure epochs, hosts, and the event sinks.

The model (:mod:`evtxmpio.replay.model`) owns one :class:`HostState` per host. Handlers in
:mod:`evtxmpio.replay.failover` change it and append what Windows would log to its sinks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from evtxmpio.catalog import trace_events
from evtxmpio.replay import records
from evtxmpio.replay.events import TraceEvent
from evtxmpio.replay.workload import seconds_to_ns

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from evtxmpio.replay.events import SystemEvent
    from evtxmpio.replay.stream import IoRequest
    from evtxmpio.replay.workload import Host, Lun, Timing

STATUS_SUCCESS = 0x00000000
FAILED = 0xC000009D
"""STATUS_DEVICE_NOT_CONNECTED: what a request on a surprise-removed path completes with."""


class Model(Protocol):
    """What the failover handlers need from the model driving them."""

    variant: str
    timing: Timing
    rng: random.Random
    now: int

    def schedule(self, time_ns: int, handler: Callable[..., None], *args: object) -> None:
        """Run ``handler(*args)`` at ``time_ns``."""


def ms(value: float) -> int:
    """Milliseconds to ns on the 100-ns grid."""
    return seconds_to_ns(value / 1000.0)


NORMAL, IN_FO, WAIT1, WAIT2, WAIT3, DEGRADED, REMOVED = (
    "NORMAL",
    "IN_FO",
    "WAIT1",
    "WAIT2",
    "WAIT3",
    "DEGRADED",
    "REMOVED",
)
STATES = (NORMAL, IN_FO, WAIT1, WAIT2, WAIT3, DEGRADED, REMOVED)


def hex_path(path_id: int) -> str:
    """Render a Path ID (or NTSTATUS) the way section 4.4 wants it: ``0x%08X``."""
    return f"0x{path_id:08X}"


@dataclass(eq=False)
class DiskState:
    """One MPIO disk (pseudo-LUN) as the model tracks it."""

    lun: Lun
    state: str = NORMAL
    active: set[int] = field(default_factory=set)
    transitions: list[tuple[int, str, str]] = field(default_factory=list)
    failed_over: bool = False
    broken: bool = False
    doomed: bool = False
    removed: bool = False
    removal_reason: str | None = None
    new_path: int = 0
    pending: dict[int, int] = field(default_factory=dict)
    failed_rows: dict[int, list[IoRequest]] = field(default_factory=dict)
    writes: deque[tuple[int, str]] = field(default_factory=deque)
    dsm_states: dict[int, str] = field(default_factory=dict)
    race_failover: int = 0

    @property
    def number(self) -> int:
        """The N of ``\\Device\\MPIODiskN``."""
        return self.lun.mpio_disk

    def dsm_id(self, path_id: int) -> str:
        """A stable pseudo-pointer for the DSM's device-path context of (disk, path)."""
        slot = self.lun.paths.index(path_id) if path_id in self.lun.paths else 0xF
        return f"0x{0xFFFFFA8003A00000 + (self.number << 12) + (slot << 6):016X}"


@dataclass(eq=False)
class Epoch:
    """One failure of one Path ID on one host, until the path arrives again."""

    path: int
    failed_at: int
    all_down: bool = False
    failover_id: int = 0
    lead: DiskState | None = None
    started_at: int = 0
    members: list[DiskState] = field(default_factory=list)
    waiting: set[int] = field(default_factory=set)
    racer: DiskState | None = None
    completed: bool = False
    restored_at: int | None = None


@dataclass(eq=False)
class HostState:
    """One host: its disks, open epochs, recent requests and the events logged so far."""

    host: Host
    disks: dict[int, DiskState]
    epochs: dict[int, Epoch] = field(default_factory=dict)
    closed_epochs: list[Epoch] = field(default_factory=list)
    recent: deque[IoRequest] = field(default_factory=deque)
    system: list[tuple[int, int, SystemEvent]] = field(default_factory=list)
    trace: list[tuple[int, int, TraceEvent]] = field(default_factory=list)
    races: list[dict] = field(default_factory=list)
    lost_files: list[tuple[int, str, str]] = field(default_factory=list)
    next_failover_id: int = 1
    counters: dict[str, int] = field(default_factory=dict)
    _seq: int = 0

    def log(self, event: SystemEvent) -> None:
        """Append a System-log record (numbered later, when merged with the noise)."""
        self._seq += 1
        self.system.append((event.time_ns, self._seq, event))

    def log_path_failover(self, disk: DiskState, path: int, when: int) -> None:
        """Log mpio 16 (18 on a single-path LUN) with the failed Path ID in the dump."""
        event_id = 18 if len(disk.lun.paths) == 1 else 16
        dump = records.path_dump(path)
        self.log(records.mpio_event(when, self.host.name, event_id, disk.number, dump=dump,
                                    final_status=FAILED))  # fmt: skip

    def trace_event(self, time_ns: int, name: str, *values: object, processor: int = 0) -> None:
        """Append a section 4.4 trace event; ``values`` follow the catalogue's field order."""
        spec = trace_events()[name]
        provider, event_id, names = spec.provider, spec.event_id, spec.fields
        if len(values) != len(names):
            raise ValueError(f"{name}: {len(values)} values for fields {names}")
        fields = tuple((key, str(value)) for key, value in zip(names, values, strict=True))
        self._seq += 1
        thread = 0xBC if provider == "MPIO" else 0xC4
        self.trace.append(
            (
                time_ns,
                self._seq,
                TraceEvent(
                    time_ns=time_ns,
                    provider=provider,
                    event_id=event_id,
                    name=name,
                    fields=fields,
                    computer=self.host.name,
                    thread_id=thread,
                    processor=processor,
                ),
            )
        )

    def set_state(self, disk: DiskState, time_ns: int, new: str, failover_id: int) -> None:
        """Move ``disk`` to ``new``, recording the transition and its StateChange event."""
        old = disk.state
        disk.state = new
        disk.transitions.append((time_ns, old, new))
        self.trace_event(
            time_ns, "StateChange", disk.number, old, new, failover_id, processor=disk.number % 4
        )

    def count(self, key: str, amount: int = 1) -> None:
        """Add to a named counter reported in the ground truth."""
        self.counters[key] = self.counters.get(key, 0) + amount

    def allocate_failover_id(self) -> int:
        """Return the next FailoverId of this host (1, 2, ...)."""
        value = self.next_failover_id
        self.next_failover_id += 1
        return value

    def dsm_state(self, disk: DiskState, path: int, when: int, new: str) -> None:
        """Record MSDSM's device-path state change for (disk, path) as DevicePathState."""
        old = disk.dsm_states.get(path, "DSM_DEV_ACTIVE_OPTIMIZED")
        disk.dsm_states[path] = new
        self.trace_event(
            when,
            "DevicePathState",
            disk.dsm_id(path),
            disk.number,
            hex_path(path),
            old,
            new,
            processor=disk.number % 4,
        )

    def dead_paths(self) -> set[int]:
        """Path IDs with an open failure epoch."""
        return set(self.epochs)
