"""What every poller does in one cycle, whatever it lists: plan, list, diff, hold back, remember."""

from __future__ import annotations

import logging
import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

from pollers.cursors import ListingCursor, ListingPlan, cursor_to_state, make_cursor, restore_cursor
from pollers.entries import Entry
from pollers.errors import CursorStateError
from pollers.kinds import CursorKind, Outcome
from pollers.stability import StabilityGate
from pollers.state import StateLocation, StateStore, state_store_for
from pollers.stats import PollStats

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

log = logging.getLogger(__name__)

#: How far in the future a timestamp may lie (clock skew between writer and poller) before it is
#: counted as skewed and no longer waited for.
DEFAULT_SKEW_S = 2.0


def resolve_cursor(
    cursor: str | ListingCursor | None, *, lookback_s: float, sweep_every: int, default: str
) -> ListingCursor:
    """A cursor object from ``cursor=`` (a name or an object)."""
    if cursor is None:
        cursor = default
    if isinstance(cursor, ListingCursor):
        return cursor
    options: dict[str, Any] = {}
    if cursor in (CursorKind.WATERMARK, CursorKind.START_AFTER):
        options["lookback_s"] = lookback_s
    if cursor == CursorKind.START_AFTER:
        options["sweep_every"] = sweep_every
    return make_cursor(cursor, **options)


class Poller(ABC):
    """One ``poll_once`` per cycle; ``acknowledge`` each file once handled; ``commit`` to save.

    The cursor moves in memory as soon as ``poll_once`` returns (so the next cycle does not report
    the same files again) but is saved only by ``commit``: a poller killed before committing is
    restarted from the previous cycle's cursor and reports that cycle's files again, never fewer.
    Only the cursor decides what is new; the stability gate only delays a file until it stops
    changing.
    """

    def __init__(
        self,
        *,
        cursor: ListingCursor,
        state_path: StateLocation,
        min_age_s: float,
        skew_s: float = DEFAULT_SKEW_S,
        s3_client: S3Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cursor = cursor
        self.gate = StabilityGate(min_age_s, skew_s=skew_s)
        self.stats = PollStats()
        self._lock = threading.Lock()  # acknowledge() may be called from a loop's worker threads
        self._clock = clock
        # reported files whose work another worker held a claim on: offered again every cycle
        self._deferred: dict[str, Entry] = {}
        # inbox files that could not be claimed or moved out: key -> (version, reason); not
        # reported again until their version changes (memory only: a restart tries them once more)
        self._stuck: dict[str, tuple[str, str]] = {}
        self._refused: list[tuple[Entry, BaseException]] = []
        self._store: StateStore = state_store_for(state_path, s3_client)
        saved = self._store.load()
        if saved is not None:
            where = getattr(self._store, "where", "saved cursor")
            restore_cursor(self.cursor, saved, where)
            self._deferred = load_deferred(saved, where)

    @property
    @abstractmethod
    def source(self) -> str:
        """What this poller watches, as a stable string (folder path or ``s3://bucket/prefix``)."""

    def poll_once(self) -> list[Entry]:
        """List once and return the entries not reported before (each with ``.key``, ``.size``)."""
        plan = self.cursor.plan()
        # the whole listing first: a failed page changes no cursor (S3 keeps the pages it has to
        # resume from the failed page's token next time)
        listed = list(self._list(plan))
        candidates = self.cursor.select_new(listed, plan)
        if self._stuck:
            candidates = self._without_stuck(listed, candidates)
        now = self._clock()
        ready, held = self.gate.split(candidates, now)
        if self.gate.held_back:
            self.gate.forget_missing({e.key for e in candidates})
        if self.cursor.moves_processed:
            ready = self._claim_all(ready)
        self.cursor.mark_reported(ready)
        self.cursor.limit_watermark(now + self.gate.skew_s)
        self.cursor.listing_done(plan)
        present = self._present_names(plan, listed)
        if present is not None:
            self.cursor.prune(present)
        self._after_listing(listed, ready, held)
        self.stats.poll_cycles += 1
        self.stats.empty_polls += not ready
        self.stats.new_files += len(ready)
        self.stats.held_back = len(held)
        self.stats.future_timestamps = self.gate.future_timestamps
        self.stats.found_by_name = self.cursor.found_by_name
        if self._deferred:
            fresh = {r.key for r in ready}
            again = [e for k, e in self._deferred.items() if k not in fresh]
            self._deferred.clear()
            return ready + again
        return ready

    def _without_stuck(self, listed: list[Entry], candidates: list[Entry]) -> list[Entry]:
        """Drop stuck files still unchanged; forget stuck files that changed or went away."""
        stuck = self._stuck
        present = {e.key: e.version for e in listed}
        for key in [k for k, (version, _) in stuck.items() if present.get(k, version) != version]:
            del stuck[key]
        return [e for e in candidates if stuck.get(e.key, ("",))[0] != e.version]

    @property
    def stuck(self) -> dict[str, str]:
        """Inbox files left in place because they could not be claimed or moved out: key -> reason."""
        with self._lock:
            return {key: reason for key, (_, reason) in self._stuck.items()}

    def take_refused(self) -> list[tuple[Entry, BaseException]]:
        """The files this cycle could not claim (so did not report), each with its error, once."""
        refused, self._refused = self._refused, []
        return refused

    def _mark_stuck(self, entry: Entry, exc: BaseException, what: str) -> str:
        reason = f"could not {what} {entry.key!r} in {self.source}: {type(exc).__name__}: {exc}"
        log.warning("%s; left in place, not reported again until it changes", reason)
        with self._lock:
            self._stuck[entry.key] = (entry.version, reason)
            self.stats.inbox.stuck += 1
        return reason

    def defer(self, entry: Entry) -> None:
        """Offer ``entry`` again next cycle (its work is claimed elsewhere and may not finish);
        saved with the cursor, so a restart does not drop it."""
        with self._lock:
            self._deferred[entry.key] = entry

    def acknowledge(self, entry: Entry, *, succeeded: bool = True) -> Outcome:
        """Say a reported entry has been handled; the inbox cursor moves it out here.

        Never raises for one file: a file that vanished meanwhile is recorded as ``GONE``; a file
        that cannot be moved (read-only folder, a name too long for the target, a key the path
        guard refuses) is ``STUCK``: logged and counted once with its reason (see ``stuck``), left
        in place, and not reported again until it changes. A move that may work later (S3
        throttling) is logged and the file is reported again next cycle.
        """
        outcome = Outcome.PROCESSED if succeeded else Outcome.FAILED
        if self.cursor.moves_processed:
            try:
                self._move_out(entry, succeeded=succeeded)  # I/O outside the lock: workers move in parallel
            except Exception as exc:
                if self._is_gone(exc):
                    outcome = Outcome.GONE
                else:
                    with self._lock:
                        self.stats.inbox.move_errors += 1
                    if self._move_cannot_succeed(exc):
                        outcome = Outcome.STUCK
                        self._mark_stuck(entry, exc, "move out")
                    else:  # throttled or a network error: reported again next cycle
                        log.warning("could not move %s out of %s: %s", entry.key, self.source, exc)
            self._release_claim(entry)
        with self._lock:
            self.stats.inbox.moved += self.cursor.moves_processed and outcome not in (
                Outcome.GONE,
                Outcome.STUCK,
            )
            self.stats.inbox.gone += outcome is Outcome.GONE
            self.cursor.acknowledge(entry)
        return outcome

    def commit(self) -> None:
        """Save the cursor atomically (call after the cycle's files are processed)."""
        document = cursor_to_state(self.cursor)
        if self._deferred:
            document["deferred"] = [[e.key, e.size, e.mtime, e.etag] for e in self._deferred.values()]
        self._store.save(document)

    def _claim_all(self, entries: list[Entry]) -> list[Entry]:
        claimed = []
        for entry in entries:
            try:
                won = self._claim(entry)
            except OSError as exc:  # this file cannot be claimed (read-only folder, ...); others can
                self._mark_stuck(entry, exc, "claim")
                self._refused.append((entry, exc))
                continue
            if won:
                claimed.append(entry)
            else:
                self.stats.inbox.claimed_elsewhere += 1
        return claimed

    @abstractmethod
    def _list(self, plan: ListingPlan) -> Iterable[Entry]:
        """What the cursor must look at, counting requests (may skip entries provably unchanged)."""

    def _present_names(self, plan: ListingPlan, listed: list[Entry]) -> Collection[str] | None:
        """Every name now present after a full listing, or None when nothing needs forgetting."""
        return {e.key for e in listed} if plan.is_full else None

    def _after_listing(self, listed: list[Entry], ready: list[Entry], held: list[Entry]) -> None:  # noqa: B027
        """Hook for pollers that cache what they have already looked at."""

    @abstractmethod
    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        """Move a handled entry out of the watched location (inbox cursor only)."""

    @abstractmethod
    def _is_gone(self, exc: BaseException) -> bool:
        """Whether ``exc`` from ``_move_out`` means the entry no longer exists."""

    def _move_cannot_succeed(self, exc: BaseException) -> bool:
        """Whether ``exc`` from ``_move_out`` will recur on every try (the file is then stuck)."""
        return True

    def _claim(self, entry: Entry) -> bool:
        """Atomically claim an inbox entry so that a concurrent poller skips it."""
        return True

    def _release_claim(self, entry: Entry) -> None:  # noqa: B027
        """Drop the claim once the entry has been moved out (or found gone)."""


def load_deferred(document: dict[str, Any], where: str) -> dict[str, Entry]:
    """The ``deferred`` entries of a saved document, validated (absent in older documents)."""
    rows = document.get("deferred", [])
    if not isinstance(rows, list):
        raise CursorStateError(f"{where}: field 'deferred' must be a list, got {rows!r:.60}")
    deferred: dict[str, Entry] = {}
    for row in rows:
        valid = (
            isinstance(row, list)
            and len(row) == 4
            and isinstance(row[0], str)
            and isinstance(row[1], int)
            and not isinstance(row[1], bool)
            and row[1] >= 0
            and isinstance(row[2], int | float)
            and math.isfinite(row[2])
            and (row[3] is None or isinstance(row[3], str))
        )
        if not valid:
            raise CursorStateError(f"{where}: field 'deferred' holds a bad entry {row!r:.60}")
        deferred[row[0]] = Entry(row[0], row[1], float(row[2]), row[3])
    return deferred
