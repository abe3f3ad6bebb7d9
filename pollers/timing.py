"""Timing rules for the poll loop: fixed rate, jitter, backoff. Pure."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from pollers.errors import PollerConfigError


def check_interval(interval_s: float, name: str = "interval_s") -> None:
    """A poll interval must be a finite number of seconds above 0 (NaN and inf are refused by name)."""
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise PollerConfigError(f"{name} must be a finite number of seconds > 0, got {interval_s}")


@dataclass
class FixedRateSchedule:
    """Cycles due at ``start + k * interval_s`` whatever each cycle took.

    The seed's ``time.sleep(60)`` after the work makes the period 60 s *plus* the work, so the
    loop drifts later every cycle. Here the next cycle is due one interval after the previous
    *due* time. A cycle that overran starts at once, and ticks it overran are skipped rather than
    run back to back. ``jitter_s`` adds a random delay in ``[0, jitter_s)`` to each due time
    (spreading many pollers) without shifting the grid.
    """

    interval_s: float
    start: float
    jitter_s: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        check_interval(self.interval_s)  # NaN first: it fails every comparison, the jitter's too
        if not 0 <= self.jitter_s < self.interval_s:
            raise PollerConfigError(f"jitter_s must be in [0, interval_s), got {self.jitter_s}")
        self._rng = random.Random(self.seed)
        self._tick = 0

    def first_due(self) -> float:
        return self.start + self._jitter()

    def next_due(self, now: float) -> float:
        """The time the next cycle should start, given that the previous one ended at ``now``."""
        self._tick += 1
        grid = self.start + self._tick * self.interval_s
        if now > grid:  # overran: skip the ticks already past and start now
            self._tick = max(self._tick, math.floor((now - self.start) / self.interval_s))
            return now
        return grid + self._jitter()

    def _jitter(self) -> float:
        return self._rng.uniform(0.0, self.jitter_s) if self.jitter_s else 0.0


@dataclass
class Backoff:
    """Exponential backoff with a cap and full jitter (AWS's recommended form), seeded."""

    base_s: float = 0.5
    cap_s: float = 30.0
    factor: float = 2.0
    jitter: bool = True
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or self.factor < 1:
            raise PollerConfigError("backoff needs base_s > 0, cap_s >= base_s and factor >= 1")
        self._rng = random.Random(self.seed)

    def delay(self, failures: int) -> float:
        """Wait before the next try after ``failures`` consecutive failures (1, 2, ...)."""
        if failures < 1:
            return 0.0
        ceiling = min(self.cap_s, self.base_s * self.factor ** (failures - 1))
        return self._rng.uniform(0.0, ceiling) if self.jitter else ceiling
