"""Lambda's asynchronous invocation (S3 -> Lambda, EventBridge -> Lambda), run locally.

What AWS does, and so does this:

* the event goes into an internal queue and the caller (S3) returns at once;
* on a function error the event is retried up to ``max_retries`` times (0-2, default 2), about
  one then two minutes apart (``retry_delays_s``; scale them down for quick runs);
* when concurrency is exhausted the event is *throttled* and goes back to the queue with a
  backoff, for up to ``max_event_age_s`` (6 hours by default);
* an event that runs out of retries or of age goes to the on-failure destination (a DLQ, an SQS
  queue in moto) with the reason, or is dropped and counted when none is configured.

Concurrency grows with the queue, as Lambda's does: with ``max_workers`` set, a worker thread is
added whenever an event is due and every thread is busy, up to ``max_workers`` (what this machine
runs; Lambda's own limit is the function's, enforced by ``LocalFunction``, which throttles beyond
it). Without ``max_workers`` the ``workers`` threads are fixed.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from event_handlers.errors import ConfigError
from event_handlers.runtime.function import FunctionError, LocalFunction, ThrottledError

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsyncConfig:
    """Lambda's async invocation settings (``PutFunctionEventInvokeConfig``) plus local knobs."""

    max_retries: int = 2
    retry_delays_s: tuple[float, ...] = (60.0, 120.0)
    max_event_age_s: float = 6 * 3600.0
    throttle_backoff_s: float = 1.0
    throttle_backoff_cap_s: float = 300.0
    workers: int = 4
    max_workers: int | None = None  # grow up to this many threads while events wait; None: fixed

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= 2:
            raise ConfigError(f"max_retries must be 0, 1 or 2 (Lambda's range), got {self.max_retries}")
        if len(self.retry_delays_s) < self.max_retries:
            raise ConfigError("give one retry delay per retry")
        if not 0 < self.max_event_age_s <= 21600:
            # AWS allows 60 s - 6 h; shorter ages are accepted for time-compressed runs
            raise ConfigError(f"max_event_age_s must be in (0, 21600], got {self.max_event_age_s}")
        if self.workers < 1:
            raise ConfigError("workers must be >= 1")
        if self.max_workers is not None and self.max_workers < self.workers:
            raise ConfigError("max_workers must be >= workers")


@dataclass(order=True)
class _Queued:
    due: float
    seq: int
    event: Any = field(compare=False)
    enqueued_at: float = field(compare=False)
    attempt: int = field(compare=False, default=0)  # function errors so far
    throttles: int = field(compare=False, default=0)
    request_id: str = field(compare=False, default_factory=lambda: str(uuid.uuid4()))


IDLE_WAIT_S = 5.0  # an idle worker's backstop wait; pushes and stop() wake workers, never a timer
FailureSink = Callable[[dict[str, Any]], None]


class AsyncInvoker:
    """An internal event queue in front of a ``LocalFunction``; ``submit`` never blocks."""

    def __init__(
        self,
        function: LocalFunction,
        config: AsyncConfig | None = None,
        *,
        on_failure: FailureSink | None = None,
        delivery_delay: Callable[[], float] = lambda: 0.0,
        drop_probability: float = 0.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function = function
        self.config = config or AsyncConfig()
        self.on_failure = on_failure
        self.delivery_delay = delivery_delay
        self.drop_probability = drop_probability
        self.counters = function.counters
        self._rng = random.Random(seed)
        self._clock = clock
        self._heap: list[_Queued] = []
        self._seq = itertools.count()
        # one lock, two conditions: workers wait for work, ``wait_idle`` for the queue to drain, so
        # a finished event wakes no idle worker and a new event wakes one (no thundering herd: on
        # one core every needless wake-up is a thread that takes the GIL for nothing)
        lock = threading.Lock()
        self._cond = threading.Condition(lock)  # an event was queued (or stop)
        self._drained = threading.Condition(lock)  # nothing queued or running any more (or stop)
        self._in_flight = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._idle = 0  # worker threads waiting for an event
        self.peak_workers = 0
        self.lost: list[Any] = []  # events dropped on purpose (to exercise reconciliation)
        self.undelivered: list[dict[str, Any]] = []  # failure records no destination took

    # -- producer side -----------------------------------------------------------------------
    def submit(self, event: Any) -> None:
        """Accept an event as S3 (or EventBridge) hands it over; delivery happens later."""
        if self.drop_probability and self._rng.random() < self.drop_probability:
            self.lost.append(event)  # lost on purpose, before delivery: not a "dropped" failure
            return
        now = self._clock()
        self._push(_Queued(now + max(0.0, self.delivery_delay()), next(self._seq), event, now))

    def _push(self, item: _Queued) -> None:
        with self._cond:
            heapq.heappush(self._heap, item)
            self._cond.notify()

    # -- workers -------------------------------------------------------------------------------
    def start(self) -> AsyncInvoker:
        for _ in range(self.config.workers):
            self._spawn()
        return self

    def _spawn(self) -> None:
        thread = threading.Thread(target=self._work, name=f"async-invoke-{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        self.peak_workers = len(self._threads)
        thread.start()

    def _next(self) -> _Queued | None:
        with self._cond:
            self._idle += 1
            try:
                while True:
                    if self._stopping:
                        return None
                    if self._heap:
                        now = self._clock()
                        wait = self._heap[0].due - now
                        if wait <= 0:
                            self._in_flight += 1
                            item = heapq.heappop(self._heap)
                            self._grow_if_waiting(now)
                            return item
                        self._cond.wait(min(wait, IDLE_WAIT_S))
                    else:
                        self._cond.wait(IDLE_WAIT_S)  # a push or stop() wakes it; the timeout is a backstop
            finally:
                self._idle -= 1

    def _grow_if_waiting(self, now: float) -> None:
        """Another event is due and no thread is free: add one (Lambda adds an environment)."""
        limit = self.config.max_workers
        due = bool(self._heap) and self._heap[0].due <= now
        if limit is not None and due and self._idle <= 1 and len(self._threads) < limit:
            self._spawn()

    def _work(self) -> None:
        while (item := self._next()) is not None:
            try:
                self._attempt(item)
            except Exception:  # never let one event kill a worker
                log.exception("async invoke of %s failed unexpectedly", item.request_id)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    if not self._in_flight and not self._heap:
                        self._drained.notify_all()

    def _attempt(self, item: _Queued) -> None:
        age = self._clock() - item.enqueued_at
        if age > self.config.max_event_age_s:
            self._fail(item, "EventAgeExceeded", f"event older than {self.config.max_event_age_s:g}s")
            return
        try:
            self.function.invoke(item.event)
        except ThrottledError:
            item.throttles += 1
            backoff = min(
                self.config.throttle_backoff_cap_s,
                self.config.throttle_backoff_s * 2 ** min(item.throttles - 1, 16),
            )
            item.due = self._clock() + self._rng.uniform(0.5, 1.0) * backoff
            self._push(item)
        except FunctionError as exc:
            if item.attempt < self.config.max_retries:
                item.due = self._clock() + self.config.retry_delays_s[item.attempt]
                item.attempt += 1
                self.counters.add(retries=1)
                self._push(item)
            else:
                self._fail(item, "RetriesExhausted", str(exc))

    def _fail(self, item: _Queued, condition: str, reason: str) -> None:
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {
                "requestId": item.request_id,
                "functionArn": f"{self.function.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": item.attempt + 1,
            },
            "requestPayload": item.event,
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "responsePayload": {"errorMessage": reason},
        }
        if self.on_failure is None:
            self._undelivered(record, f"dropped ({condition}): {reason}")
            return
        try:
            self.on_failure(record)
        except Exception as exc:  # as Lambda's DeadLetterErrors: counted and kept, never silent
            self._undelivered(record, f"on-failure destination refused it ({type(exc).__name__}: {exc})")
            return
        self.counters.add(dlq_sends=1)

    def _undelivered(self, record: dict[str, Any], why: str) -> None:
        record["undelivered"] = why
        with self._cond:
            self.undelivered.append(record)
        self.counters.add(dropped=1)
        log.warning("async event %s %s", record["requestContext"]["requestId"], why)

    # -- lifecycle -------------------------------------------------------------------------------
    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or running; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._drained:
            while self._heap or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._drained.wait(min(remaining, 0.5))  # a queued retry falling due is polled
        return True

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            self._drained.notify_all()
        for thread in self._threads:
            thread.join(timeout)


def sqs_failure_sink(sqs_client: SQSClient, queue_url: str) -> FailureSink:
    """An on-failure destination that sends the invocation record to an SQS queue."""

    def send(record: dict[str, Any]) -> None:
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(record, default=str))

    return send
