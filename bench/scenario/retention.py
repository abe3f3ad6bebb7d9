"""How long processed files stay in the watched prefix, and what a simulated period starts with.

A poller that lists everything pays for every file still there, every cycle, so its bill and its
listing time depend on retention as much as on the arrival rate:

* ``keep``: files stay forever (the prefix only grows: there is no steady state, so a "steady"
  start means the files of ``history_days`` of the same traffic, by default one earlier period);
* ``delete``: each file is deleted once processed (a DeleteObject, free), so a listing sees only
  what is not processed yet;
* ``lifecycle:N``: an S3 Lifecycle rule expires files N days after they were written (free, no
  request), so the prefix settles at N days of files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from bench.errors import InputError

RetentionKind = Literal["keep", "delete", "lifecycle"]
StartKind = Literal["steady", "empty"]
DAY_S = 86400.0
ALIASES = {"keep": "keep", "keep-forever": "keep", "forever": "keep", "delete": "delete"}
ALIASES["delete-after-processing"] = "delete"


class RetentionError(InputError):
    """A retention that cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class Retention:
    kind: RetentionKind
    days: float | None = None  # lifecycle only

    @property
    def label(self) -> str:
        if self.kind == "keep":
            return "keep forever"
        if self.kind == "delete":
            return "delete after processing"
        return f"lifecycle: expire after {self.days:g} days"

    @property
    def spec(self) -> str:
        """The canonical text form (what ``parse_retention`` reads back)."""
        return f"lifecycle:{self.days:g}" if self.kind == "lifecycle" else self.kind

    @property
    def lifetime_s(self) -> float:
        """Seconds a processed file stays listed: inf (keep), 0 (delete), N days (lifecycle)."""
        if self.kind == "keep":
            return math.inf
        if self.kind == "delete":
            return 0.0
        assert self.days is not None
        return self.days * DAY_S


def parse_retention(text: str) -> Retention:
    """``keep`` (or ``keep-forever``), ``delete`` (or ``delete-after-processing``), ``lifecycle:N``."""
    value = str(text).strip().lower()
    if value in ALIASES:
        return Retention(ALIASES[value])  # type: ignore[arg-type]
    if value.startswith("lifecycle:"):
        try:
            days = float(value.split(":", 1)[1])
        except ValueError:
            days = math.nan
        if not math.isfinite(days) or days <= 0:
            raise RetentionError(f"lifecycle needs a positive number of days (lifecycle:30), got {text!r}")
        return Retention("lifecycle", days)
    raise RetentionError(f"retention must be keep, delete or lifecycle:N (days), got {text!r}")


@dataclass(frozen=True)
class StartState:
    """What the watched prefix holds when a simulated period starts."""

    start: StartKind
    retention: Retention
    initial_objects: float
    history_days: float  # of traffic behind the initial objects (0 when empty)

    @property
    def label(self) -> str:
        where = f"retention: {self.retention.label}"
        if self.start == "empty":
            return f"start: empty bucket (a first period); {where}"
        if self.initial_objects == 0:
            return f"start: steady state (nothing left over); {where}"
        return (
            f"start: steady state, {self.initial_objects:,.0f} files already in the prefix "
            f"({self.history_days:g} days of the same traffic); {where}"
        )


def start_state(
    start: StartKind, retention: Retention, rate_per_s: float, period_s: float, history_days: float | None
) -> StartState:
    """The prefix at the start of a period, at a mean arrival rate (files per second).

    Steady state is what the retention leaves of earlier traffic at the same rate: N days of files
    under ``lifecycle:N``, nothing under ``delete``, and ``history_days`` of files (by default one
    earlier period of the same length) under ``keep``, which has no steady state of its own.
    """
    if start == "empty" or retention.kind == "delete":
        return StartState(start, retention, 0.0, 0.0)
    if retention.kind == "lifecycle":
        assert retention.days is not None
        days = retention.days
    else:
        days = history_days if history_days is not None else period_s / DAY_S
    return StartState(start, retention, max(0.0, rate_per_s * days * DAY_S), days)
