"""Listing cursors: given what a listing saw, decide what is new. Pure: no I/O, no clocks.

A cursor answers two questions each cycle: *where should the next listing start* (``plan``) and
*which of the listed entries have not been reported yet* (``select_new``). After the caller has
reported entries it calls ``mark_reported``; ``to_state``/``from_state`` round-trip the cursor
through JSON so that a restarted poller neither repeats nor misses files.

Four strategies, chosen by name (see ``make_cursor``):

* ``seen-set``: remember every key and etag. Simplest and exact; memory grows with the bucket.
* ``watermark``: remember the newest timestamp reported, the keys reported within a look-back
  window below it (with their timestamp and etag) and the names of everything reported. Files
  sharing one timestamp are all reported (the Apache NiFi ListS3 and Dagster sensor bug); a
  name never reported is new whatever its timestamp (``cp -p``, ``rsync -a`` and ``mv`` keep old
  mtimes; a multipart upload's LastModified is when it started), and such finds are counted in
  ``found_by_name``; a known name is new again when its timestamp moves past the window or its
  etag changes (an overwrite, which S3 announces as a new event).
* ``start-after``: for keys that sort in arrival order (date-partitioned names), list only the
  keys after the last one reported, so an idle poll costs one request whatever the bucket size.
  Every ``sweep_every`` cycles a full listing, compared by name like ``watermark``, catches keys
  that arrived late but sort earlier.
* ``inbox``: everything still in the listed prefix is new, because processed files are moved
  out; the cursor only remembers files reported but not yet moved, in memory: a restarted
  poller reports files left in the inbox again (at least once; an idempotency ledger makes the
  repeat harmless), so a saved in-flight set can never hide a file for good.

Saved state is validated field by field on load (``CursorStateError`` names the field): NaN,
infinities, timestamps outside years 1900-9999, wrong types.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pollers.entries import Entry
from pollers.errors import CursorStateError, PollerConfigError
from pollers.kinds import CursorKind

STRATEGIES = tuple(kind.value for kind in CursorKind)
#: Plausible file and object timestamps: 1900-01-01 .. 9999-12-31 (epoch seconds).
MIN_TIMESTAMP, MAX_TIMESTAMP = -2_208_988_800.0, 253_402_300_799.0
#: Longest look-back a saved cursor may claim: ten years.
MAX_LOOKBACK_S = 10 * 366 * 86_400.0

__all__ = [
    "STRATEGIES",
    "CursorStateError",
    "InboxCursor",
    "ListingCursor",
    "ListingPlan",
    "SeenSetCursor",
    "StartAfterCursor",
    "WatermarkCursor",
    "cursor_to_state",
    "make_cursor",
    "restore_cursor",
]


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """Where the next listing starts. ``start_after=None`` means a full listing of the prefix."""

    start_after: str | None = None

    @property
    def is_full(self) -> bool:
        return self.start_after is None


class ListingCursor(ABC):
    """The shared contract of the four cursors."""

    kind: ClassVar[CursorKind]
    #: Whether processed files must be moved out of the listed prefix (only ``inbox``).
    moves_processed: ClassVar[bool] = False

    @property
    def strategy(self) -> str:
        """The cursor's name (the old word for it; ``kind`` is the typed one)."""
        return self.kind.value

    def plan(self) -> ListingPlan:
        """Where the next listing should start; most cursors always list everything."""
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

    def prune(self, present: Collection[str]) -> None:  # noqa: B027 - optional hook
        """After a full listing: forget names no longer present (bounds memory; a name deleted
        and created again is then new, as S3 would announce it)."""

    def limit_watermark(self, ceiling: float) -> None:  # noqa: B027 - optional hook
        """Keep any timestamp high-water mark at or below ``ceiling`` (the poller's clock plus its
        skew allowance), so one file dated in the future cannot push the window past today."""

    @property
    def found_by_name(self) -> int:
        """Entries reported only because their name was new (their timestamp was too old)."""
        return 0

    @abstractmethod
    def state(self) -> dict[str, Any]:
        """The cursor as JSON-ready data."""

    @abstractmethod
    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what ``state`` returned, validating it (``CursorStateError`` names the field)."""

    @property
    @abstractmethod
    def remembered(self) -> int:
        """How many keys the cursor holds in memory: the price of its exactness."""


class SeenSetCursor(ListingCursor):
    """Remember every key and its etag (or, for files, size and mtime); a change is new again."""

    kind = CursorKind.SEEN_SET

    def __init__(self) -> None:
        self._seen: dict[str, str | None] = {}

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        seen = self._seen
        new = []
        for entry in entries:
            saved = seen.get(entry.key, _MISSING)
            # a saved None predates versions for files: it matches any content
            if saved is _MISSING or (saved is not None and saved != entry.version):
                new.append(entry)
        return new

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            self._seen[entry.key] = entry.version

    def prune(self, present: Collection[str]) -> None:
        if len(self._seen) > len(present) or any(k not in present for k in self._seen):
            self._seen = {k: v for k, v in self._seen.items() if k in present}

    def state(self) -> dict[str, Any]:
        return {"seen": self._seen}

    def load_state(self, state: dict[str, Any]) -> None:
        seen = _require(state, "seen", dict)
        for key, value in seen.items():
            if value is not None and not isinstance(value, str):
                raise CursorStateError(f"field 'seen.{key:.60}' must be a string or null, got {value!r:.60}")
        self._seen = dict(seen)

    @property
    def remembered(self) -> int:
        return len(self._seen)


class WatermarkCursor(ListingCursor):
    """Newest timestamp reported, every key reported within ``lookback_s`` below it, and the
    names of everything reported (so an old timestamp never hides a new name)."""

    kind = CursorKind.WATERMARK

    def __init__(self, lookback_s: float = 900.0) -> None:
        if not 0 <= lookback_s <= MAX_LOOKBACK_S:
            raise PollerConfigError(f"lookback_s must be between 0 and {MAX_LOOKBACK_S:g}, got {lookback_s}")
        self.lookback_s = lookback_s
        self.watermark = -math.inf
        # key -> (mtime, version) of what was reported inside the window
        self._recent: dict[str, tuple[float, str | None]] = {}
        # names of everything reported; None for a cursor restored from a state that predates it
        # (the first full listing then adopts what it sees rather than reporting it all again)
        self._known: set[str] | None = set()
        self._found_by_name = 0

    @property
    def horizon(self) -> float:
        """Known entries older than this are taken as already dealt with."""
        return self.watermark - self.lookback_s

    def is_new(self, entry: Entry) -> bool:
        recent = self._recent.get(entry.key)
        if recent is not None:
            return _changed(recent, entry)
        if entry.mtime >= self.horizon:
            return True
        return self._known is not None and entry.key not in self._known

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        # is_new, inlined: this runs once per listed entry
        recent_get, horizon, known = self._recent.get, self.horizon, self._known
        new = []
        for entry in entries:
            recent = recent_get(entry.key)
            if recent is not None:
                if _changed(recent, entry):
                    new.append(entry)
            elif entry.mtime >= horizon or (known is not None and entry.key not in known):
                new.append(entry)
        return new

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        horizon = self.horizon
        known, recent = self._known, self._recent
        for entry in entries:
            key, mtime = entry.key, entry.mtime
            if mtime < horizon and key not in recent:
                self._found_by_name += 1
            recent[key] = (mtime, entry.etag)
            if mtime > self.watermark:
                self.watermark = mtime
        if known is not None:
            known.update(e.key for e in entries)
        horizon = self.horizon
        if any(v[0] < horizon for v in recent.values()):
            self._recent = {k: v for k, v in recent.items() if v[0] >= horizon}

    def prune(self, present: Collection[str]) -> None:
        if self._known is None:
            self._known = set(present)  # adopt: what is there now was dealt with by the old cursor
        elif len(self._known) > len(present) or any(k not in present for k in self._known):
            self._known = {k for k in self._known if k in present}
        if any(k not in present for k in self._recent):
            self._recent = {k: v for k, v in self._recent.items() if k in present}

    def limit_watermark(self, ceiling: float) -> None:
        if self.watermark > ceiling:
            self.watermark = ceiling

    @property
    def found_by_name(self) -> int:
        return self._found_by_name

    def state(self) -> dict[str, Any]:
        return {
            "watermark": None if self.watermark == -math.inf else self.watermark,
            "lookback_s": self.lookback_s,
            "recent": {k: [m, e] for k, (m, e) in self._recent.items()},
            "known": None if self._known is None else sorted(self._known),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        mark = state.get("watermark")
        if mark is not None:
            mark = _timestamp(mark, "watermark")
        lookback = state.get("lookback_s", self.lookback_s)
        if not _is_number(lookback) or not 0 <= lookback <= MAX_LOOKBACK_S:
            raise CursorStateError(
                f"field 'lookback_s' must be a number in [0, {MAX_LOOKBACK_S:g}], got {lookback!r:.60}"
            )
        recent: dict[str, tuple[float, str | None]] = {}
        for key, value in _require(state, "recent", dict).items():
            where = f"recent.{key:.60}"
            if not isinstance(value, list) or len(value) != 2:
                raise CursorStateError(f"field {where!r} must be [mtime, etag], got {value!r:.60}")
            version = value[1]
            if version is not None and not isinstance(version, str):
                raise CursorStateError(f"field {where!r} etag must be a string or null, got {version!r:.60}")
            recent[key] = (_timestamp(value[0], where), version)
        known = state.get("known")
        if known is not None and not (isinstance(known, list) and all(isinstance(k, str) for k in known)):
            raise CursorStateError(f"field 'known' must be a list of strings or null, got {known!r:.60}")
        self._recent = recent
        self._known = None if known is None else set(known)
        self.watermark = -math.inf if mark is None else mark

    @property
    def remembered(self) -> int:
        return len(self._recent) + (len(self._known) if self._known is not None else 0)


class StartAfterCursor(ListingCursor):
    """List after the last key reported; sweep the whole prefix every ``sweep_every`` cycles.

    Between sweeps a key that sorts before the cursor waits for the next sweep: it is late, not
    lost. The sweep compares names like ``watermark``, so a late key is found however old its
    timestamp.
    """

    kind = CursorKind.START_AFTER

    def __init__(self, lookback_s: float = 900.0, sweep_every: int = 60) -> None:
        if sweep_every < 1:
            raise PollerConfigError(f"sweep_every must be >= 1, got {sweep_every}")
        self.sweep_every = sweep_every
        self.last_key: str | None = None
        self.cycles_since_sweep = 0
        self._window = WatermarkCursor(lookback_s)

    def plan(self) -> ListingPlan:
        if self.last_key is None or self.cycles_since_sweep + 1 >= self.sweep_every:
            return ListingPlan()
        return ListingPlan(start_after=self.last_key)

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        is_new = self._window.is_new
        return [e for e in entries if is_new(e)]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        self._window.mark_reported(entries)
        for entry in entries:
            if self.last_key is None or entry.key > self.last_key:
                self.last_key = entry.key

    def listing_done(self, plan: ListingPlan) -> None:
        self.cycles_since_sweep = 0 if plan.is_full else self.cycles_since_sweep + 1

    def prune(self, present: Collection[str]) -> None:
        self._window.prune(present)

    def limit_watermark(self, ceiling: float) -> None:
        self._window.limit_watermark(ceiling)

    @property
    def found_by_name(self) -> int:
        return self._window.found_by_name

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
            raise CursorStateError(f"field 'last_key' must be a string or null, got {last!r:.60}")
        cycles = state.get("cycles_since_sweep", 0)
        if isinstance(cycles, bool) or not isinstance(cycles, int) or not 0 <= cycles <= 10**9:
            raise CursorStateError(
                f"field 'cycles_since_sweep' must be a whole number >= 0, got {cycles!r:.60}"
            )
        try:
            self._window.load_state(_require(state, "window", dict))
        except CursorStateError as exc:
            raise CursorStateError(f"in 'window': {exc}") from None
        self.last_key = last
        self.cycles_since_sweep = cycles

    @property
    def remembered(self) -> int:
        return self._window.remembered


class InboxCursor(ListingCursor):
    """Whatever is still in the inbox is new, except files reported and not yet moved out.

    The in-flight set lives in memory only: it is written to the state for inspection, but a
    restarted poller starts with it empty, so files a crashed poller never moved out are
    reported again instead of being hidden for good by a stale set.
    """

    kind = CursorKind.INBOX
    moves_processed = True

    def __init__(self) -> None:
        self._in_flight: set[str] = set()

    def select_new(self, entries: Iterable[Entry], plan: ListingPlan) -> list[Entry]:
        in_flight = self._in_flight
        return [e for e in entries if e.key not in in_flight]

    def mark_reported(self, entries: Sequence[Entry]) -> None:
        self._in_flight.update(e.key for e in entries)

    def acknowledge(self, entry: Entry) -> None:
        self._in_flight.discard(entry.key)

    def prune(self, present: Collection[str]) -> None:
        self._in_flight = {k for k in self._in_flight if k in present}

    def state(self) -> dict[str, Any]:
        return {"in_flight": sorted(self._in_flight)}

    def load_state(self, state: dict[str, Any]) -> None:
        in_flight = _require(state, "in_flight", list)
        if not all(isinstance(k, str) for k in in_flight):
            raise CursorStateError(f"field 'in_flight' must be a list of strings, got {in_flight!r:.60}")
        self._in_flight = set()  # see the class docstring: never trust a saved in-flight set

    @property
    def remembered(self) -> int:
        return len(self._in_flight)


_CURSORS: dict[CursorKind, type[ListingCursor]] = {
    cls.kind: cls for cls in (SeenSetCursor, WatermarkCursor, StartAfterCursor, InboxCursor)
}


def make_cursor(kind: str, **params: Any) -> ListingCursor:
    """Build a cursor by name; ``params`` go to its constructor (e.g. ``lookback_s``)."""
    try:
        cls = _CURSORS[CursorKind(kind)]
    except ValueError:
        raise PollerConfigError(f"unknown cursor {kind!r}; choose one of {', '.join(STRATEGIES)}") from None
    return cls(**params)


STATE_VERSION = 1
_MISSING: Any = object()


def cursor_to_state(cursor: ListingCursor) -> dict[str, Any]:
    """The versioned document written to a state file (``strategy`` is the cursor's name)."""
    return {"version": STATE_VERSION, "strategy": cursor.kind.value, "cursor": cursor.state()}


def restore_cursor(cursor: ListingCursor, document: dict[str, Any], where: str = "saved cursor") -> None:
    """Load a saved document into ``cursor``, refusing one written by another cursor kind.

    ``where`` (a file path or ``s3://`` URL) starts every error message.
    """
    try:
        _restore(cursor, document)
    except CursorStateError as exc:
        raise CursorStateError(f"{where}: {exc}") from None


def _restore(cursor: ListingCursor, document: dict[str, Any]) -> None:
    if not isinstance(document, dict):
        raise CursorStateError(f"saved cursor must be a JSON object, got {type(document).__name__}")
    if document.get("version") != STATE_VERSION:
        raise CursorStateError(
            f"saved cursor has version {document.get('version')!r:.20}; this poller reads {STATE_VERSION}"
        )
    if document.get("strategy") != cursor.kind.value:
        raise CursorStateError(
            f"saved cursor was written by strategy {document.get('strategy')!r:.30}, "
            f"not {cursor.kind.value!r}; use a new state path or the same cursor"
        )
    cursor.load_state(_require(document, "cursor", dict))


def _changed(saved: tuple[float, str | None], entry: Entry) -> bool:
    """Whether a remembered (mtime, etag) no longer describes ``entry``: a new etag, or for a
    file (no etag) a new mtime."""
    saved_mtime, saved_etag = saved
    if saved_etag is None or entry.etag is None:
        return saved_mtime != entry.mtime or saved_etag != entry.etag
    return saved_etag != entry.etag


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _timestamp(value: object, field: str) -> float:
    if not _is_number(value) or not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:  # type: ignore[operator]
        raise CursorStateError(
            f"field {field!r} must be a finite timestamp between years 1900 and 9999, got {value!r:.60}"
        )
    return float(value)  # type: ignore[arg-type]


def _require(state: dict[str, Any], name: str, kind: type) -> Any:
    value = state.get(name)
    if not isinstance(value, kind):
        raise CursorStateError(f"field {name!r} must be a {kind.__name__}, got {value!r:.60}")
    return value
