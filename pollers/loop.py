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
from pollers.schedule import Backoff, FixedRateSchedule

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
    bytes_processed: int = 0
    started_at: float = 0.0
    finished_at: float = 0.0


@dataclass
class LoopStats:
    """Counters across the loop's life, next to the poller's own ``PollStats``."""

    cycles: int = 0
    processed: int = 0
    failed: int = 0
    bytes_read: int = 0
    errors: int = 0
    throttles: int = 0
    file_retries: int = 0
    backoff_s: float = 0.0
    late_cycles: int = 0
    max_lateness_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)


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

    def __init__(  # noqa: PLR0913  (keyword-only settings, each with a safe default)
        self,
        poller: Poller,
        process: Callable[[Entry], object],
        *,
        interval_s: float,
        jitter_s: float = 0.0,
        backoff: Backoff | None = None,
        on_failure: Callable[[Entry, BaseException], None] | None = None,
        max_attempts: int = 1,
        retryable: Callable[[BaseException], bool] = lambda exc: True,
        workers: int = 1,
        listener: PollListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        wait: Callable[[float], bool] | None = None,
        seed: int | None = None,
    ) -> None:
        """``clock`` and ``wait`` (sleep up to n seconds, True if stopped) are injectable for tests."""
        self.poller = poller
        self.process = process
        self.interval_s = interval_s
        self.jitter_s = jitter_s
        self.backoff = backoff or Backoff(seed=seed)
        self.on_failure = on_failure
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self._lock = threading.Lock()
        self.max_attempts = max_attempts
        self.retryable = retryable
        self._file_backoff = Backoff(base_s=0.05, cap_s=2.0, seed=seed)
        self.listener = listener or PollListener()
        self.stats = LoopStats()
        self._clock = clock
        self._wall = wall_clock
        self._seed = seed
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self._thread: threading.Thread | None = None

    # -- one cycle, no waiting -------------------------------------------------------------
    def run_once(self) -> CycleResult:
        """Poll, process what is new, save the cursor. Listing errors propagate to the caller."""
        result = CycleResult(started_at=self._wall())
        entries = self.poller.poll_once()
        result.found = len(entries)
        if entries:
            self.listener.files_detected(entries, self._wall())
        if self.workers > 1 and len(entries) > 1:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="poll-worker") as pool:
                outcomes = list(pool.map(self._process_one, entries))
        else:
            outcomes = [self._process_one(entry) for entry in entries]
        for entry, ok in zip(entries, outcomes, strict=True):
            result.processed += ok
            result.failed += not ok
            result.bytes_processed += entry.size if ok else 0
        self.poller.commit()
        result.finished_at = self._wall()
        self.stats.cycles += 1
        self.stats.processed += result.processed
        self.stats.failed += result.failed
        self.stats.bytes_read += result.bytes_processed
        self.listener.cycle_finished(result)
        return result

    def _process_one(self, entry: Entry) -> bool:
        attempt = 0
        while True:
            attempt += 1
            try:
                self.process(entry)
            except Exception as exc:
                if attempt < self.max_attempts and self.retryable(exc):
                    with self._lock:
                        self.stats.file_retries += 1
                    self._wait(self._file_backoff.delay(attempt))
                    continue
                log.warning("processing %s failed after %d attempt(s): %s", entry.key, attempt, exc)
                if self.on_failure is not None:
                    self.on_failure(entry, exc)
                with self._lock:
                    self.stats.failures.append((entry.key, f"{type(exc).__name__}: {exc}"))
                self.poller.acknowledge(entry, succeeded=False)
                return False
            self.poller.acknowledge(entry, succeeded=True)
            return True

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
                throttled = is_throttling(exc)
                self.stats.throttles += throttled
                self.stats.errors += not throttled
                delay = self.backoff.delay(consecutive_failures)
                self.stats.backoff_s += delay
                log.warning(
                    "poll failed (%s), retrying in %.2fs: %s",
                    "throttled" if throttled else "error",
                    delay,
                    exc,
                )
                due = self._clock() + delay
                continue
            consecutive_failures = 0
            cycles += 1
            if max_cycles is not None and cycles >= max_cycles:
                break
            due = schedule.next_due(self._clock())
        return self.stats

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
            target=self.run, kwargs={"phase_s": phase_s}, name="poll-loop", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to finish its current cycle and return; wait for it if it runs in a thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
