"""The SQS mapping's concurrent batches over virtual time, minute by minute, as AWS scales them.

Each minute the mapping runs ``level`` concurrent batches. A fluid backlog (seconds of work
waiting) says whether messages remained at the minute's end: then the mapping adds up to 300
batches for the next minute; else it scales back to what was in use (never below five). The rules
themselves are ``event_handlers.runtime.scaling``'s, shared with the local runtime.

The levels give the capacity clock ``varying_servers`` needs (cumulative server-seconds at each
minute), and the idle pollers whose long polls come back empty (``empty_receives_per_s``).
"""

from __future__ import annotations

import math

import numpy as np

from event_handlers.runtime.scaling import (
    SQS_RULES,
    SqsScalingRules,
    empty_receives_per_s,
    sqs_idle_pollers,
    sqs_start,
    sqs_step,
)

MINUTE_S = 60.0


class SqsTimeline:
    """Concurrent batches per minute from ``origin``; ``fixed`` pins them (the scenario's override)."""

    def __init__(
        self,
        origin: float,
        horizon: float,
        cap: int,
        *,
        fixed: int | None = None,
        maximum_concurrency_set: bool = False,
        wait_s: int = 20,
        rules: SqsScalingRules = SQS_RULES,
    ) -> None:
        self.origin, self.cap, self.fixed, self.wait_s = origin, cap, fixed, wait_s
        self.max_set, self.rules = maximum_concurrency_set, rules
        minutes = math.ceil(max(0.0, horizon - origin) / MINUTE_S) + 2
        self.levels = np.zeros(minutes)
        self.empty_rate = np.zeros(minutes)  # empty receives a second, per minute
        self.decided = 0
        self.state = sqs_start(cap, rules)
        self.backlog = 0.0  # seconds of work still waiting at the end of the last decided minute
        self.late = 0.0  # work that arrived in minutes already decided
        self.peak = self.level
        self.scale_ups = 0

    @property
    def level(self) -> int:
        return self.fixed if self.fixed is not None else self.state.batches

    def minute_of(self, t: np.ndarray) -> np.ndarray:
        since = np.subtract(t, self.origin)
        since //= MINUTE_S  # in place: a chunk's arrays are 40 MB each
        minute = since.astype(np.int64)
        del since
        return np.clip(minute, 0, self.levels.size - 1, out=minute)

    def add(self, available: np.ndarray, service: np.ndarray) -> None:
        """Decide every minute up to the last of these messages (and on while a backlog remains)."""
        if available.size == 0:
            return
        minute = self.minute_of(available)
        last = int(minute.max())
        size = max(last + 1, self.decided) + 1
        work = np.bincount(minute, weights=service, minlength=size)
        count = np.bincount(minute, minlength=size)
        self.late += float(work[: self.decided].sum())
        m = self.decided
        while m < self.levels.size and (m <= last or self.backlog > 0):
            self._decide(m, float(work[m]) if m < size else 0.0, int(count[m]) if m < size else 0)
            m += 1

    def advance(self, until: float) -> None:
        """Decide the quiet minutes up to ``until`` (the run's last activity)."""
        last = int(self.minute_of(np.asarray([until]))[0])
        for m in range(self.decided, last + 1):
            self._decide(m, 0.0, 0)

    def _decide(self, m: int, work: float, count: int) -> None:
        level = self.level
        self.levels[m] = level
        total = self.backlog + self.late + work
        self.late = 0.0
        self.backlog = max(0.0, total - level * MINUTE_S)
        in_use = min(float(level), total / MINUTE_S)
        if self.fixed is None:
            idle = (
                sqs_idle_pollers(
                    self.state, maximum_concurrency_set=self.max_set, cap=self.cap, rules=self.rules
                )
                if count == 0 and self.backlog == 0
                else level - in_use
            )
            before = self.state.batches
            self.state = sqs_step(
                self.state,
                messages_remain=self.backlog > 0,
                in_use=in_use,
                received=count > 0,
                elapsed_s=MINUTE_S,
                cap=self.cap,
                rules=self.rules,
            )
            self.scale_ups += self.state.batches > before
            self.peak = max(self.peak, self.state.batches)
        else:
            idle = level - in_use
        self.empty_rate[m] = empty_receives_per_s(max(0.0, idle), count / MINUTE_S, self.wait_s)
        self.decided = m + 1

    def lowest_since(self, t: float) -> int:
        """The fewest concurrent batches in any decided minute from ``t`` on (at least one)."""
        first = int(self.minute_of(np.asarray([t]))[0])
        levels = self.levels[first : self.decided]
        return max(1, int(levels.min()) if levels.size else self.level)

    def knots(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, cumulative server-seconds): the decided minutes, then the current level onwards."""
        levels = self.levels[: self.decided]
        t = self.origin + MINUTE_S * np.arange(self.decided + 1, dtype=float)
        capacity = np.concatenate(([0.0], np.cumsum(levels * MINUTE_S)))
        far = 1e12  # beyond any horizon: the current level goes on
        level = max(1, self.level)
        return np.append(t, t[-1] + far), np.append(capacity, capacity[-1] + level * far)

    def empty_receives(self, until: float) -> float:
        """Empty long polls from ``origin`` to ``until``, the last minute counted in part."""
        if until <= self.origin:
            return 0.0
        position = (until - self.origin) / MINUTE_S
        whole = min(int(position), self.decided)
        part = position - whole if whole < self.decided else 0.0
        partial = self.empty_rate[whole] * part * MINUTE_S if part else 0.0
        return float(self.empty_rate[:whole].sum() * MINUTE_S + partial)
