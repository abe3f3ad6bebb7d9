"""Counters the local runtime keeps: what AWS would bill and what its logs would show."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


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
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            data: dict[str, float] = {
                f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")
            }
        data["gb_s"] = round(data["gb_s"], 9)
        data["init_ms"] = round(data["init_ms"], 3)
        return data
