"""Listing cursors: given what a listing saw, decide what is new. Pure: no I/O, no clocks.

A cursor answers two questions each cycle: *where should the next listing start* (``plan``) and
*which of the listed entries have not been reported yet* (``select_new``). After the caller has
reported entries it calls ``mark_reported``; ``to_state``/``from_state`` round-trip the cursor
through JSON so that a restarted poller neither repeats nor misses files.

Four strategies, chosen by name (see ``make_cursor``):

* ``seen-set``: remember every key and etag. Simplest and exact; memory grows with the bucket.
* ``watermark``: remember the newest timestamp reported and the keys reported within a look-back
  window below it. Files sharing one timestamp are all reported (the Apache NiFi ListS3 and
  Dagster sensor bug), and a multipart upload whose LastModified is older than the watermark
  is still found as long as it lands within the look-back window.
* ``start-after``: for keys that sort in arrival order (date-partitioned names), list only the
  keys after the last one reported, so an idle poll costs one request whatever the bucket size.
  Every ``sweep_every`` cycles a full listing, filtered like ``watermark``, catches keys that
  arrived late but sort earlier.
* ``inbox``: everything still in the listed prefix is new, because processed files are moved
  out; the cursor only remembers files reported but not yet moved.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pollers.entries import Entry

STRATEGIES = ("seen-set", "watermark", "start-after", "inbox")


class CursorStateError(ValueError):
    """A saved cursor that cannot be loaded: wrong strategy, wrong version or malformed."""


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """Where the next listing starts. ``start_after=None`` means a full listing of the prefix."""

    start_after: str | None = None

    @property
    def is_full(self) -> bool:
        return self.start_after is None


class ListingCursor(ABC):
    """The shared contract of the four strategies."""

    strategy: ClassVar[str]
    #: Whether processed files must be moved out of the listed prefix (only ``inbox``).
    moves_processed: ClassVar[bool] = False

    def plan(self) -> ListingPlan:
        """Where the next listing should start; most strategies always list everything."""
        return ListingPlan()

    @abstractmethod
    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        """The entries of one listing that have not been reported yet, in listing order."""

    @abstractmethod
    def mark_reported(self, entries: Sequence[Entry]) -> None:
        """Remember that these entries were reported, so that no later cycle reports them again."""

    def listing_done(self, plan: ListingPlan) -> None:  # noqa: B027 - optional hook
        """Called once per completed listing (start-after counts cycles between sweeps)."""

    def acknowledge(self, entry: Entry) -> None:  # noqa: B027 - optional hook
        """Called once a reported entry has been dealt with (inbox forgets it once moved)."""

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The cursor as JSON-ready data."""

    @abstractmethod
    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what ``state`` returned, validating it."""

    @property
    @abstractmethod
    def remembered(self) -> int:
        """How many keys the cursor holds in memory: the price of its exactness."""


class SeenSetCursor(ListingCursor):
    """Remember every key and etag ever reported; an overwritten object (new etag) is new again."""

    strategy = "seen-set"

    def __init__(self) -> None:
        self._seen: dict[str, str | None] = {}

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        missing = object()
        return [e for e in entries if self._seen.get(e.key, missing) != e.etag]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self._seen[entry.key] = entry.etag

    def state(self) -> dict[str, Any]:
        return {"seen": self._seen}

    def load_state(self, state: dict[str, Any]) -> None:
        seen = _require(state, "seen", dict)
        self._seen = {str(k): (None if v is None else str(v)) for k, v in seen.items()}

    @property
    def remembered(self) -> int:
        return len(self._seen)


class WatermarkCursor(ListingCursor):
    """Newest timestamp reported, plus every key reported within ``lookback_s`` below it."""

    strategy = "watermark"

    def __init__(self, lookback_s: float = 900.0) -> None:
        if lookback_s < 0:
            raise ValueError(f"lookback_s must be >= 0, got {lookback_s}")
        self.lookback_s = lookback_s
        self.watermark = -math.inf
        # key -> (mtime, etag) of what was reported inside the window
        self._recent: dict[str, tuple[float, str | None]] = {}

    @property
    def horizon(self) -> float:
        """Entries older than this are taken as already dealt with."""
        return self.watermark - self.lookback_s

    def remembers(self, key: str) -> bool:
        return key in self._recent

    def is_new(self, entry: Entry) -> bool:
        recent = self._recent.get(entry.key)
        if recent is not None:
            return recent[1] != entry.etag or (entry.etag is None and recent[0] != entry.mtime)
        return entry.mtime >= self.horizon

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        return [e for e in entries if self.is_new(e)]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self._recent[entry.key] = (entry.mtime, entry.etag)
            self.watermark = max(self.watermark, entry.mtime)
        horizon = self.horizon
        self._recent = {k: v for k, v in self._recent.items() if v[0] >= horizon}

    def state(self) -> dict[str, Any]:
        return {
            "watermark": None if self.watermark == -math.inf else self.watermark,
            "lookback_s": self.lookback_s,
            "recent": {k: [m, e] for k, (m, e) in self._recent.items()},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        mark = state.get("watermark")
        if mark is not None and not isinstance(mark, int | float):
            raise CursorStateError(f"'watermark' must be a number or null, got {mark!r}")
        recent = _require(state, "recent", dict)
        try:
            self._recent = {str(k): (float(v[0]), v[1]) for k, v in recent.items()}
        except (TypeError, ValueError, IndexError) as exc:
            raise CursorStateError(f"'recent' must map keys to [mtime, etag]: {exc}") from exc
        self.watermark = -math.inf if mark is None else float(mark)

    @property
    def remembered(self) -> int:
        return len(self._recent)


class StartAfterCursor(ListingCursor):
    """List after the last key reported; sweep the whole prefix every ``sweep_every`` cycles.

    Between sweeps a key that sorts before the cursor waits for the next sweep: it is late, not
    lost. The sweep filters like ``watermark``, so the look-back window bounds how late it can be.
    """

    strategy = "start-after"

    def __init__(self, lookback_s: float = 900.0, sweep_every: int = 60) -> None:
        if sweep_every < 1:
            raise ValueError(f"sweep_every must be >= 1, got {sweep_every}")
        self.sweep_every = sweep_every
        self.last_key: str | None = None
        self.cycles_since_sweep = 0
        self._window = WatermarkCursor(lookback_s)

    def plan(self) -> ListingPlan:
        if self.last_key is None or self.cycles_since_sweep + 1 >= self.sweep_every:
            return ListingPlan()
        return ListingPlan(start_after=self.last_key)

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        last = self.last_key
        window = self._window
        return [
            e
            for e in entries
            if window.is_new(e) or ((last is None or e.key > last) and not window.remembers(e.key))
        ]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        self._window.mark_reported(entries)
        for entry in entries:
            if self.last_key is None or entry.key > self.last_key:
                self.last_key = entry.key

    def listing_done(self, plan: ListingPlan) -> None:
        self.cycles_since_sweep = 0 if plan.is_full else self.cycles_since_sweep + 1

    def state(self) -> dict[str, Any]:
        return {
            "last_key": self.last_key,
            "cycles_since_sweep": self.cycles_since_sweep,
            "sweep_every": self.sweep_every,
            "window": self._window.state(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        last = state.get("last_key")
        if last is not None and not isinstance(last, str):
            raise CursorStateError(f"'last_key' must be a string or null, got {last!r}")
        self._window.load_state(_require(state, "window", dict))
        self.last_key = last
        self.cycles_since_sweep = int(state.get("cycles_since_sweep", 0))

    @property
    def remembered(self) -> int:
        return self._window.remembered


class InboxCursor(ListingCursor):
    """Whatever is still in the inbox is new, except files reported and not yet moved out."""

    strategy = "inbox"
    moves_processed = True

    def __init__(self) -> None:
        self._in_flight: set[str] = set()

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        return [e for e in entries if e.key not in self._in_flight]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        self._in_flight.update(e.key for e in entries)

    def acknowledge(self, entry: Entry) -> None:
        self._in_flight.discard(entry.key)

    def state(self) -> dict[str, Any]:
        return {"in_flight": sorted(self._in_flight)}

    def load_state(self, state: dict[str, Any]) -> None:
        self._in_flight = {str(k) for k in _require(state, "in_flight", list)}

    @property
    def remembered(self) -> int:
        return len(self._in_flight)


_CURSORS: dict[str, type[ListingCursor]] = {
    cls.strategy: cls for cls in (SeenSetCursor, WatermarkCursor, StartAfterCursor, InboxCursor)
}


def make_cursor(strategy: str, **params: Any) -> ListingCursor:
    """Build a cursor by strategy name; ``params`` go to its constructor (e.g. ``lookback_s``)."""
    try:
        cls = _CURSORS[strategy]
    except KeyError:
        raise ValueError(
            f"unknown cursor strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}"
        ) from None
    return cls(**params)


STATE_VERSION = 1


def cursor_to_state(cursor: ListingCursor) -> dict[str, Any]:
    """The versioned document written to a state file."""
    return {"version": STATE_VERSION, "strategy": cursor.strategy, "cursor": cursor.state()}


def restore_cursor(cursor: ListingCursor, document: dict[str, Any]) -> None:
    """Load a saved document into ``cursor``, refusing one written by another strategy."""
    if not isinstance(document, dict):
        raise CursorStateError(f"saved cursor must be a JSON object, got {type(document).__name__}")
    if document.get("version") != STATE_VERSION:
        raise CursorStateError(
            f"saved cursor has version {document.get('version')!r}; this poller reads {STATE_VERSION}"
        )
    if document.get("strategy") != cursor.strategy:
        raise CursorStateError(
            f"saved cursor was written by strategy {document.get('strategy')!r}, "
            f"not {cursor.strategy!r}; use a new state path or the same strategy"
        )
    cursor.load_state(_require(document, "cursor", dict))


def _require(state: dict[str, Any], name: str, kind: type) -> Any:
    value = state.get(name)
    if not isinstance(value, kind):
        raise CursorStateError(f"saved cursor field {name!r} must be a {kind.__name__}, got {value!r:.60}")
    return value
