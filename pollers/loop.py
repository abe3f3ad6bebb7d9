"""The poll loop: a fixed-rate schedule, backoff on errors and throttling, and a graceful stop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pollers.base import Poller
from pollers.entries import Entry
from pollers.errors import PersistentFailureError, PollerConfigError, SourceUnavailableError
from pollers.kinds import Outcome
from pollers.ledger import Answer, ProcessingLedger, answer_of, default_ledger_key
from pollers.timing import Backoff, FixedRateSchedule, check_interval

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "503",
    }
)


def is_throttling(exc: BaseException) -> bool:
    """True for S3's ``SlowDown`` and other throttling answers (HTTP 503 included)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in THROTTLING_CODES or status == 503


def _always(exc: BaseException) -> bool:
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """Everything the loop does when something fails, in one value.

    * A file whose ``process`` raises is tried up to ``max_attempts`` times in all while
      ``retryable(exc)``, waiting ``file_backoff_base_s * 2**(n-1)`` (full jitter, capped at
      ``file_backoff_cap_s``) between tries.
    * A failed listing waits ``listing_backoff_base_s * 2**(n-1)`` (full jitter, capped at
      ``listing_backoff_cap_s``) and tries again; after ``give_up_after`` consecutive failed
      cycles, counted from the first, ``run`` raises ``PersistentFailureError`` (None: never,
      except for a source that could not be listed even once, which ends ``run`` at once).
    """

    max_attempts: int = 1
    retryable: Callable[[BaseException], bool] = _always
    file_backoff_base_s: float = 0.05
    file_backoff_cap_s: float = 2.0
    listing_backoff_base_s: float = 0.5
    listing_backoff_cap_s: float = 30.0
    give_up_after: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise PollerConfigError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.give_up_after is not None and self.give_up_after < 1:
            raise PollerConfigError(f"give_up_after must be >= 1 or None, got {self.give_up_after}")
        # checked here so that a bad policy fails when it is written, not at the first failure
        Backoff(self.file_backoff_base_s, self.file_backoff_cap_s)
        Backoff(self.listing_backoff_base_s, self.listing_backoff_cap_s)

    def listing_backoff(self, seed: int | None) -> Backoff:
        return Backoff(self.listing_backoff_base_s, self.listing_backoff_cap_s, seed=seed)

    def file_backoff(self, seed: int | None) -> Backoff:
        return Backoff(self.file_backoff_base_s, self.file_backoff_cap_s, seed=seed)


class PollListener:
    """Hooks a caller may override to watch the loop; the benchmark stamps its clocks here."""

    def files_detected(self, entries: Sequence[Entry], at: float) -> None:
        """A listing found ``entries`` at wall-clock time ``at``."""

    def cycle_finished(self, cycle: CycleResult) -> None:
        """A cycle's files were processed and the cursor saved."""


@dataclass
class CycleResult:
    """What one cycle found and did."""

    found: int = 0
    processed: int = 0
    failed: int = 0
    #: Files the ledger said were done already, or held by someone else: not processed again.
    skipped: int = 0
    bytes_processed: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0


@dataclass
class ListingFailures:
    """Failed listings across the loop's life: each backs off and keeps the cursor."""

    errors: int = 0
    throttles: int = 0
    consecutive_failures: int = 0
    last_error: str = ""
    backoff_s: float = 0.0


@dataclass
class LoopStats:
    """Counters across the loop's life, next to the poller's own ``PollStats``."""

    cycles: int = 0
    processed: int = 0
    failed: int = 0
    bytes_read: int = 0
    #: Files the idempotency ledger said were already completed (e.g. before a crash): skipped.
    duplicates_skipped: int = 0
    #: Files another worker or poller held a ledger claim on: left for it.
    claimed_elsewhere: int = 0
    #: Inbox files that vanished before they could be moved out.
    gone: int = 0
    #: Inbox files that could not be claimed or moved out: each recorded in ``failures`` once.
    stuck: int = 0
    file_retries: int = 0
    late_cycles: int = 0
    max_lateness_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    #: Listing errors and throttles (``errors``, ``throttles``, ``backoff_s``, ...).
    listing: ListingFailures = field(default_factory=ListingFailures)


class PollLoop:
    """Run ``poller`` every ``interval_s`` and hand each new entry to ``process``.

    * ``process(entry)`` does the per-file work. If it raises and ``retryable(exc)``, it is tried
      again (up to ``max_attempts`` in all, after a short backoff); if it still fails, the entry
      counts as failed, goes to ``on_failure(entry, exc)`` (by default recorded in
      ``stats.failures``), and the loop goes on: one bad file never stops the others.
    * A failed *listing* (network error, ``SlowDown``/503 throttling) leaves the cursor untouched
      and retries after an exponential backoff with a cap; the schedule resumes afterwards.
    * ``stop()`` is graceful: the current cycle finishes, its cursor is saved, then ``run`` returns.
    * ``workers > 1`` processes a cycle's files in parallel threads (I/O-bound work on S3); the
      cursor is still saved once, after the whole cycle.
    """

    def __init__(  # noqa: PLR0913  (keyword-only collaborators and test clocks, each with a safe default)
        self,
        poller: Poller,
        process: Callable[[Entry], object],
        *,
        interval_s: float,
        jitter_s: float = 0.0,
        retry: RetryPolicy | None = None,
        ledger: ProcessingLedger | None = None,
        ledger_key: Callable[[Entry], str] | None = None,
        on_failure: Callable[[Entry, BaseException], None] | None = None,
        workers: int = 1,
        listener: PollListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
        seed: int | None = None,
    ) -> None:
        """``clock`` and ``wait`` (sleep up to n seconds, True if stopped) are injectable for tests.

        ``ledger`` (any object with ``claim``/``complete``/``fail``/``release``, see
        ``pollers.ledger``) is asked before each file: one already completed is skipped, so a
        restarted poller repeats no effect. ``ledger_key`` maps an entry to the ledger's key
        (default ``source/key#version``).
        """
        retry = retry or RetryPolicy()
        if workers < 1:
            raise PollerConfigError("workers must be >= 1")
        check_interval(interval_s)
        self.poller = poller
        self.process = process
        self.interval_s = interval_s
        self.jitter_s = jitter_s
        self.retry = retry
        self.backoff = retry.listing_backoff(seed)
        self.ledger = ledger
        self._ledger_key = ledger_key or (lambda entry: default_ledger_key(poller.source, entry))
        self.on_failure = on_failure
        self.workers = workers
        self._lock = threading.Lock()
        self._file_backoff = retry.file_backoff(seed)
        self.listener = listener or PollListener()
        self.stats = LoopStats()
        self._clock = clock
        self._wall = wall_clock
        self._seed = seed
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None
        self._ever_succeeded = False
        #: Set when a loop started with ``start()`` gave up (see ``RetryPolicy.give_up_after``).
        self.failure: PersistentFailureError | None = None

    # -- one cycle, no waiting -------------------------------------------------------------
    def run_once(self) -> CycleResult:
        """Poll, process what is new, save the cursor. Listing errors propagate to the caller."""
        result = CycleResult(started_at=self._wall())
        entries = self.poller.poll_once()
        for entry, exc in self.poller.take_refused():  # could not be claimed: failed, once
            self._record_stuck(entry, f"{type(exc).__name__}: {exc}")
            self._notify_failure(entry, exc)
            result.failed += 1
        result.found = len(entries)
        if entries:
            self.listener.files_detected(entries, self._wall())
        if self.workers > 1 and len(entries) > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="poll-worker") as pool:
                outcomes = list(pool.map(self._process_one, entries))
        else:
            outcomes = [self._process_one(entry) for entry in entries]
        for entry, ok in zip(entries, outcomes, strict=True):
            result.processed += ok is True
            result.failed += ok is False
            result.skipped += ok is None
            result.bytes_processed += entry.size if ok else 0
        self.poller.commit()
        result.finished_at = self._wall()
        self.stats.cycles += 1
        self.stats.processed += result.processed
        self.stats.failed += result.failed
        self.stats.bytes_read += result.bytes_processed
        self.listener.cycle_finished(result)
        return result

    def _process_one(self, entry: Entry) -> bool | None:
        """Process one file: True done, False failed, None skipped (the ledger says done already
        or claimed elsewhere). Nothing raised by process, ledger, move or hooks leaves here."""
        key = self._ledger_key(entry)
        if self.ledger is not None:
            try:
                answer = answer_of(self.ledger.claim(key))
            except Exception as exc:  # a ledger failure fails this file, not the cycle
                return self._failed(entry, exc, 1, release=False)
            if answer is not Answer.ACQUIRED:
                with self._lock:
                    self.stats.duplicates_skipped += answer.closed
                    self.stats.claimed_elsewhere += not answer.closed
                if answer.closed:  # handled before a crash: finish the bookkeeping, repeat no effect
                    self._acknowledge(entry, succeeded=answer is Answer.COMPLETED)
                else:  # someone holds it now; if they never finish, the claim expires: ask again
                    self.poller.defer(entry)
                return None
        attempt = 0
        while True:
            attempt += 1
            try:
                self.process(entry)
            except Exception as exc:
                if attempt < self.retry.max_attempts and self._retryable(exc):
                    with self._lock:
                        self.stats.file_retries += 1
                    self._wait(self._file_backoff.delay(attempt))
                    continue
                return self._failed(entry, exc, attempt, release=self.ledger is not None)
            if self.ledger is not None:
                try:
                    self.ledger.complete(key)
                except Exception as exc:
                    log.warning("ledger could not record %s as complete: %s", entry.key, exc)
            self._acknowledge(entry, succeeded=True)
            return True

    def _retryable(self, exc: BaseException) -> bool:
        try:
            return bool(self.retry.retryable(exc))
        except Exception:
            log.exception("retryable() raised; treating the failure as permanent")
            return False

    def _failed(self, entry: Entry, exc: BaseException, attempt: int, *, release: bool) -> bool:
        log.warning("processing %s failed after %d attempt(s): %s", entry.key, attempt, exc)
        reason = f"{type(exc).__name__}: {exc}"
        if release and self.ledger is not None:
            try:  # transient: let a later cycle (or the event side) try again; permanent: recorded
                if self._retryable(exc):
                    self.ledger.release(self._ledger_key(entry))
                else:
                    self.ledger.fail(self._ledger_key(entry), reason)
            except Exception as ledger_exc:
                log.warning("ledger could not record the failure of %s: %s", entry.key, ledger_exc)
        self._notify_failure(entry, exc)
        with self._lock:
            self.stats.failures.append((entry.key, reason))
        self._acknowledge(entry, succeeded=False)
        return False

    def _notify_failure(self, entry: Entry, exc: BaseException) -> None:
        if self.on_failure is not None:
            try:
                self.on_failure(entry, exc)
            except Exception:
                log.exception("on_failure raised for %s", entry.key)

    def _record_stuck(self, entry: Entry, reason: str) -> None:
        """An inbox file left in place (not claimable or not movable): one failure, with its reason."""
        with self._lock:
            self.stats.stuck += 1
            self.stats.failures.append((entry.key, f"left in the inbox: {reason}"))

    def _acknowledge(self, entry: Entry, *, succeeded: bool) -> None:
        try:
            outcome = self.poller.acknowledge(entry, succeeded=succeeded)
        except Exception:
            log.exception("acknowledging %s failed", entry.key)
            return
        if outcome is Outcome.GONE:
            with self._lock:
                self.stats.gone += 1
        elif outcome is Outcome.STUCK:
            self._record_stuck(entry, self.poller.stuck.get(entry.key, "could not be moved out"))

    # -- the schedule ------------------------------------------------------------------------
    def run(self, *, max_cycles: int | None = None, phase_s: float = 0.0) -> LoopStats:
        """Poll on a fixed-rate schedule until ``stop()`` (or ``max_cycles``), then return stats.

        The first cycle starts ``phase_s`` after the call: where a poller's ticks fall relative to
        the arrivals is arbitrary in practice, and a benchmark should not pick a lucky one.
        """
        schedule = FixedRateSchedule(self.interval_s, self._clock() + phase_s, self.jitter_s, self._seed)
        due = schedule.first_due()
        consecutive_failures = 0
        cycles = 0
        while not self._stop.is_set():
            if self._wait_until(due):
                break
            lateness = self._clock() - due
            if lateness > 0.5 * self.interval_s:
                self.stats.late_cycles += 1
            self.stats.max_lateness_s = max(self.stats.max_lateness_s, lateness)
            try:
                self.run_once()
            except Exception as exc:  # a failed listing: back off, keep the cursor, try again
                consecutive_failures += 1
                self.stats.listing.consecutive_failures = consecutive_failures
                self.stats.listing.last_error = f"{type(exc).__name__}: {exc}"
                throttled = is_throttling(exc)
                self.stats.listing.throttles += throttled
                self.stats.listing.errors += not throttled
                self._give_up_if_hopeless(exc, consecutive_failures)
                delay = self.backoff.delay(consecutive_failures)
                self.stats.listing.backoff_s += delay
                log.warning(
                    "poll failed (%s), retrying in %.2fs: %s",
                    "throttled" if throttled else "error",
                    delay,
                    exc,
                )
                due = self._clock() + delay
                continue
            consecutive_failures = 0
            self.stats.listing.consecutive_failures = 0
            self._ever_succeeded = True
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            due = schedule.next_due(self._clock())
        return self.stats

    def _give_up_if_hopeless(self, exc: Exception, failures: int) -> None:
        """``give_up_after`` failed cycles in a row (the first cycle included) end ``run``; without
        it, a source that could never be listed (missing folder or bucket) ends it at once."""
        limit = self.retry.give_up_after
        if limit is not None:  # counted from the first cycle: a source never listed gets as many tries
            hopeless = failures >= limit
        else:
            hopeless = isinstance(exc, SourceUnavailableError) and not self._ever_succeeded
        if hopeless:
            log.error("poll loop gives up after %d consecutive failure(s): %s", failures, exc)
            raise PersistentFailureError(
                f"polling {self.poller.source} failed {failures} time(s) in a row; last error: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _wait_until(self, due: float) -> bool:
        """Sleep until ``due``; True if ``stop()`` was called meanwhile."""
        remaining = due - self._clock()
        if remaining > 0:
            return self._wait(remaining) or self._stop.is_set()
        return self._stop.is_set()

    def start(self, *, phase_s: float = 0.0) -> threading.Thread:
        """Run the loop in a background thread (daemon, so a crashed caller does not hang)."""
        if self._thread is not None:
            raise RuntimeError("this loop was already started")
        self._thread = threading.Thread(
            target=self._run_in_thread, kwargs={"phase_s": phase_s}, name="poll-loop", daemon=True
        )
        self._thread.start()
        return self._thread

    def _run_in_thread(self, phase_s: float) -> None:
        try:
            self.run(phase_s=phase_s)
        except PersistentFailureError as exc:  # logged by run; kept for the caller of stop()
            self.failure = exc

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to finish its current cycle and return; wait for it if it runs in a thread.

        A loop started with ``start()`` that gave up raises its ``PersistentFailureError`` here.
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.failure is not None:
            raise self.failure
