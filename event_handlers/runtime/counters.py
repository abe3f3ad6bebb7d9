"""Counters the local runtime keeps: what AWS would bill and what its logs would show."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, field, fields


class Counter(enum.StrEnum):
    """The counter names; their values are the keys of ``snapshot()`` (and of summary JSON)."""

    INVOCATIONS = "invocations"
    ERRORS = "errors"
    TIMEOUTS = "timeouts"
    THROTTLES = "throttles"
    RETRIES = "retries"
    COLD_STARTS = "cold_starts"
    DLQ_SENDS = "dlq_sends"
    DROPPED = "dropped"
    BATCHES = "batches"
    RECORDS = "records"
    BILLED_MS = "billed_ms"
    INIT_MS = "init_ms"
    GB_S = "gb_s"


@dataclass
class RuntimeCounters:
    """Thread-safe counts for one function and the routes feeding it."""

    invocations: int = 0
    errors: int = 0
    timeouts: int = 0
    throttles: int = 0
    retries: int = 0
    cold_starts: int = 0
    dlq_sends: int = 0
    dropped: int = 0
    batches: int = 0
    records: int = 0
    billed_ms: int = 0
    init_ms: float = 0.0
    gb_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **deltas: float) -> None:
        """Add to counters named by ``Counter`` values; an unknown name is a bug and raises."""
        names = [Counter(name) for name in deltas]  # ValueError names the typo
        with self._lock:
            for name in names:
                setattr(self, name.value, getattr(self, name.value) + deltas[name.value])

    def get(self, name: Counter) -> float:
        with self._lock:
            value: float = getattr(self, name.value)
        return value

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            data: dict[str, float] = {
                f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")
            }
        data[Counter.GB_S] = round(data[Counter.GB_S], 9)
        data[Counter.INIT_MS] = round(data[Counter.INIT_MS], 3)
        return data
