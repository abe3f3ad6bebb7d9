"""What every poller does in one cycle, whatever it lists: plan, list, diff, hold back, remember."""

from __future__ import annotations

import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

from pollers.cursors import ListingCursor, ListingPlan, cursor_to_state, make_cursor, restore_cursor
from pollers.entries import Entry
from pollers.stability import StabilityGate
from pollers.state import StateStore, state_store_for
from pollers.stats import PollStats


class Poller(ABC):
    """One ``poll_once`` per cycle; ``acknowledge`` each file once handled; ``commit`` to save.

    The cursor moves in memory as soon as ``poll_once`` returns (so the next cycle does not report
    the same files again) but is saved only by ``commit``: a poller killed before committing is
    restarted from the previous cycle's cursor and reports that cycle's files again, never fewer.
    """

    def __init__(
        self,
        *,
        strategy: str,
        state_path: str | os.PathLike[str] | None,
        min_age_s: float,
        lookback_s: float,
        sweep_every: int,
        s3_client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        options: dict[str, Any] = {}
        if strategy in ("watermark", "start-after"):
            options["lookback_s"] = lookback_s
        if strategy == "start-after":
            options["sweep_every"] = sweep_every
        self.cursor: ListingCursor = make_cursor(strategy, **options)
        self.gate = StabilityGate(min_age_s)
        self.stats = PollStats()
        self._lock = threading.Lock()  # acknowledge() may be called from a loop's worker threads
        self._clock = clock
        self._store: StateStore = state_store_for(state_path, s3_client)
        saved = self._store.load()
        if saved is not None:
            restore_cursor(self.cursor, saved)

    @property
    def strategy(self) -> str:
        return self.cursor.strategy

    def poll_once(self) -> list[Entry]:
        """List once and return the entries not reported before (each with ``.key``, ``.size``)."""
        plan = self.cursor.plan()
        listed = list(self._list(plan))  # the whole listing first: a failed page changes nothing
        candidates = self.cursor.select_new(listed, plan)
        ready, held = self.gate.split(candidates, self._clock())
        self.gate.forget_missing({e.key for e in candidates})
        self.cursor.mark_reported(ready)
        self.cursor.listing_done(plan)
        self._after_listing(listed, ready, held)
        self.stats.poll_cycles += 1
        self.stats.empty_polls += not ready
        self.stats.new_files += len(ready)
        self.stats.held_back = len(held)
        return ready

    def acknowledge(self, entry: Entry, *, succeeded: bool = True) -> None:
        """Say a reported entry has been handled; the inbox strategy moves it out here."""
        if self.cursor.moves_processed:
            self._move_out(entry, succeeded=succeeded)  # I/O outside the lock: workers move in parallel
        with self._lock:
            self.stats.moved += self.cursor.moves_processed
            self.cursor.acknowledge(entry)

    def commit(self) -> None:
        """Save the cursor atomically (call after the cycle's files are processed)."""
        self._store.save(cursor_to_state(self.cursor))

    @abstractmethod
    def _list(self, plan: ListingPlan) -> Iterable[Entry]:
        """Everything under the watched location that the plan asks for, counting requests."""

    def _after_listing(self, listed: list[Entry], ready: list[Entry], held: list[Entry]) -> None:  # noqa: B027
        """Hook for pollers that cache what they have already looked at."""

    @abstractmethod
    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        """Move a handled entry out of the watched location (inbox strategy only)."""
