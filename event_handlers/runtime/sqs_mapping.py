"""Lambda's SQS event source mapping (S3 -> SQS -> Lambda), run locally against SQS or moto.

Like AWS's pollers, each poller thread long-polls the queue (every ``ReceiveMessage`` is a billed
request, empty or not), gathers up to ``batch_size`` messages or until the batching window
closes, and invokes the function with the batch shaped as Lambda's SQS event. Then:

* success: the messages are deleted, except those named in ``batchItemFailures``;
* a function error or timeout: nothing is deleted; the messages reappear after the queue's
  visibility timeout and, after ``maxReceiveCount`` receives, SQS's redrive policy moves them
  to the dead-letter queue (SQS does that itself, on AWS and in moto). A redriven message keeps
  its message id but not why it failed, so the mapping keeps the last failure reason per message
  id (``failure_reason``): a dead letter found later still carries its cause.

Scaling, as AWS documents it for standard queues (``event_handlers.runtime.scaling``): five
concurrent batches (one poller thread and one invoking thread each) when messages are available,
up to 300 more each ``scale_interval_s`` (a minute on AWS) while messages remain, capped by
1,000, the mapping's maximum concurrency, the function's reserved concurrency and the account
limit; back to what is in use (never below five) when the queue keeps up. This machine runs at
most ``local_max_pollers`` threads of each kind (32 by default): beyond that the local run is
harness-bound, not AWS-like. "Messages remain" is read from the receives themselves, at no extra
API call: a receive that came back full means more were waiting. ``pollers`` pins the count.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from event_handlers.runtime.function import FunctionError, LocalFunction, ThrottledError
from event_handlers.runtime.scaling import (
    SqsScalingState,
    function_concurrency_limit,
    sqs_mapping_cap,
    sqs_start,
    sqs_step,
)

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

IDLE_WAIT_S = 5.0  # a dispatch thread's backstop wait when no batch is queued


@dataclass(frozen=True)
class SqsMappingConfig:
    """``CreateEventSourceMapping`` settings that matter here."""

    batch_size: int = 10
    batching_window_s: float = 0.0
    wait_time_s: int = 20
    pollers: int | None = None  # a fixed number of concurrent batches; None: AWS's scaling
    report_batch_item_failures: bool = True
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency (2-1,000)
    scale_interval_s: float = 60.0  # AWS decides once a minute; shorten for time-compressed runs
    local_max_pollers: int = 32  # what this machine can run, whatever AWS would

    def __post_init__(self) -> None:
        if not 1 <= self.batch_size <= 10000:
            raise ValueError(f"batch_size must be 1-10000, got {self.batch_size}")
        if self.batch_size > 10 and self.batching_window_s <= 0:
            raise ValueError("a batch_size above 10 needs a batching window (as on AWS)")
        if not 0 <= self.batching_window_s <= 300:
            raise ValueError(f"batching_window_s must be 0-300, got {self.batching_window_s}")
        if not 0 <= self.wait_time_s <= 20:
            raise ValueError(f"wait_time_s must be 0-20 (SQS long polling), got {self.wait_time_s}")
        if self.pollers is not None and self.pollers < 1:
            raise ValueError("pollers must be >= 1")
        if self.maximum_concurrency is not None and not 2 <= self.maximum_concurrency <= 1000:
            raise ValueError(f"maximum_concurrency must be 2-1000, got {self.maximum_concurrency}")
        if self.scale_interval_s <= 0 or self.local_max_pollers < 1:
            raise ValueError("scale_interval_s must be > 0 and local_max_pollers >= 1")


@dataclass
class _Window:
    """What the pollers saw since the last scaling decision."""

    messages: int = 0
    full_receives: int = 0  # receives that came back full: more messages were waiting
    busy_s: float = 0.0  # invocation time, summed (its mean over the window is the batches in use)


def _base64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def lambda_sqs_record(message: MessageTypeDef, queue_arn: str, region: str) -> dict[str, Any]:
    """One ``ReceiveMessage`` message as Lambda's SQS event record shows it."""
    attributes = {k: str(v) for k, v in message.get("Attributes", {}).items()}
    message_attributes: dict[str, dict[str, Any]] = {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": _base64(value.get("BinaryValue")),  # Lambda sends binary as base64 text
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType"),
        }
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsEventSourceMapping:
    """Poll ``queue_url`` and invoke ``function`` with batches, as Lambda's mapping does."""

    def __init__(
        self,
        function: LocalFunction,
        sqs_client: SQSClient,
        queue_url: str,
        config: SqsMappingConfig | None = None,
        *,
        delivery_delay: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.function = function
        self.client = sqs_client
        self.queue_url = queue_url
        self.config = config or SqsMappingConfig()
        self.delivery_delay = delivery_delay
        self.counters = function.counters
        attrs = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn: str = attrs["Attributes"]["QueueArn"]
        self.region = self.queue_arn.split(":")[3]
        self.receives = 0
        self.empty_receives = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._due: list[tuple[float, int, list[MessageTypeDef]]] = []  # delayed batches, by due time
        self._due_changed = threading.Condition(self._lock)
        self._seq = itertools.count()
        cfg = self.config
        reserved = function.config.reserved_concurrency
        if cfg.pollers is not None:
            self.cap = min(cfg.pollers, function_concurrency_limit(reserved))
        else:
            self.cap = sqs_mapping_cap(cfg.maximum_concurrency, reserved)
        self.scaling = SqsScalingState(self.cap) if cfg.pollers is not None else sqs_start(self.cap)
        self.peak_batches = self.scaling.batches
        self.local_cap_reached = False
        self._level_changed = threading.Condition(self._lock)
        self._slots = 0
        self._window = _Window()
        self._reasons: dict[str, str] = {}  # message id -> why its last attempt failed

    @property
    def level(self) -> int:
        """Concurrent batches running here now: AWS's level, within this machine's thread cap."""
        return min(self.scaling.batches, self.config.local_max_pollers)

    def failure_reason(self, message_id: str) -> str | None:
        """Why this message's last attempt failed (None if it never failed or later succeeded)."""
        with self._lock:
            return self._reasons.get(message_id)

    def _note_failures(self, reasons: dict[str, str]) -> None:
        with self._lock:
            self._reasons.update(reasons)

    def start(self) -> SqsEventSourceMapping:
        self._grow()
        if self.config.pollers is None:
            thread = threading.Thread(target=self._scale, name="sqs-mapping-scaler", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _grow(self) -> None:
        """Start poller and invoker threads up to the current level (kept, paused, when it drops)."""
        with self._level_changed:
            first, self._slots = self._slots, max(self._slots, self.level)
            self._level_changed.notify_all()
        for i in range(first, self._slots):
            for target, name in ((self._poll, "sqs-mapping"), (self._dispatch, "sqs-dispatch")):
                thread = threading.Thread(target=target, args=(i,), name=f"{name}-{i}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self, timeout: float = 1.0) -> None:
        """Stop polling. A long poll in flight is left to finish on its own (daemon thread)."""
        self._stop.set()
        with self._due_changed:
            self._due_changed.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    # -- scaling -----------------------------------------------------------------------------------
    def _scale(self) -> None:
        interval = self.config.scale_interval_s
        while not self._stop.wait(interval):
            with self._lock:
                window, self._window = self._window, _Window()
                self.scaling = sqs_step(
                    self.scaling,
                    messages_remain=window.full_receives > 0,
                    in_use=window.busy_s / interval,
                    received=window.messages > 0,
                    elapsed_s=60.0,  # one of AWS's minutes, however compressed here
                    cap=self.cap,
                )
                self.peak_batches = max(self.peak_batches, self.scaling.batches)
                self.local_cap_reached |= self.scaling.batches > self.config.local_max_pollers
            self._grow()

    def _paused(self, slot: int) -> bool:
        """Wait while this slot is above the current level; True when stopping."""
        with self._level_changed:
            while slot >= self.level and not self._stop.is_set():
                self._level_changed.wait(0.5)
        return self._stop.is_set()

    # -- the poller ------------------------------------------------------------------------------
    def _poll(self, slot: int = 0) -> None:
        while not self._paused(slot):
            try:
                batch = self._gather()
                if batch and not self._stop.is_set():
                    self._invoke(batch)
            except Exception:
                if self._stop.is_set():
                    return
                log.exception("SQS mapping poll failed; backing off")
                self._stop.wait(1.0)

    def _receive(self, max_messages: int, wait_s: int) -> list[MessageTypeDef]:
        response = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],  # AttributeNames is deprecated for this
            MessageAttributeNames=["All"],
        )
        messages: list[MessageTypeDef] = response.get("Messages", [])
        with self._lock:
            self.receives += 1
            self.empty_receives += not messages
            self._window.messages += len(messages)
            self._window.full_receives += len(messages) >= max_messages
        return messages

    def _gather(self) -> list[MessageTypeDef]:
        cfg = self.config
        batch = self._receive(min(10, cfg.batch_size), cfg.wait_time_s)
        if not batch or cfg.batching_window_s <= 0:
            return batch
        window_ends = time.monotonic() + cfg.batching_window_s
        while len(batch) < cfg.batch_size and not self._stop.is_set():
            remaining = window_ends - time.monotonic()
            if remaining <= 0:
                break
            # a long poll returns as soon as a message is there; rounding the wait up to whole
            # seconds (SQS's unit) can only overshoot the window when no message comes
            wait = min(20, max(1, math.ceil(remaining)))
            batch.extend(self._receive(min(10, cfg.batch_size - len(batch)), wait))
        return batch

    def _invoke(self, messages: list[MessageTypeDef]) -> None:
        """Invoke now, or, with a modelled delivery delay, when the delay is over - without holding
        up the poller, which goes on receiving (the delay is S3's and SQS's, not the consumer's)."""
        delay = self.delivery_delay()
        if delay <= 0:
            self._invoke_now(messages)
            return
        with self._due_changed:
            heapq.heappush(self._due, (time.monotonic() + delay, next(self._seq), messages))
            self._due_changed.notify()

    def _dispatch(self, slot: int = 0) -> None:
        while not self._paused(slot):
            with self._due_changed:
                while not self._stop.is_set() and (not self._due or self._due[0][0] > time.monotonic()):
                    # a batch queued (or stop) wakes it: an empty heap needs no timer; without a
                    # modelled delay these threads have nothing to do and should cost nothing
                    wait = self._due[0][0] - time.monotonic() if self._due else IDLE_WAIT_S
                    self._due_changed.wait(max(0.001, min(wait, IDLE_WAIT_S)))
                if self._stop.is_set():
                    return
                _, _, messages = heapq.heappop(self._due)
            try:
                self._invoke_now(messages)
            except Exception:
                log.exception("SQS mapping invoke failed")

    def _invoke_now(self, messages: list[MessageTypeDef]) -> None:
        event = {"Records": [lambda_sqs_record(m, self.queue_arn, self.region) for m in messages]}
        self.counters.add(batches=1, records=len(messages))
        began = time.monotonic()
        while True:
            try:
                response = self.function.invoke(event)
                with self._lock:
                    self._window.busy_s += time.monotonic() - began
                break
            except ThrottledError:  # the mapping scales down and tries again; messages stay invisible
                if self._stop.wait(0.05):
                    return
            except FunctionError as exc:
                log.warning(
                    "batch of %d failed; messages return after the visibility timeout: %s", len(messages), exc
                )
                self._note_failures({m["MessageId"]: f"function error: {exc}" for m in messages})
                return
        failed = self._failed_ids(response, messages)
        reported = response.get("failureReasons") if isinstance(response, dict) else None
        given = reported if isinstance(reported, dict) else {}
        self._note_failures({mid: str(given.get(mid) or "reported in batchItemFailures") for mid in failed})
        done = [m for m in messages if m["MessageId"] not in failed]
        with self._lock:
            for m in done:
                self._reasons.pop(m["MessageId"], None)
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.client.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )

    def _failed_ids(self, response: Any, messages: list[MessageTypeDef]) -> set[str]:
        if not self.config.report_batch_item_failures or not isinstance(response, dict):
            return set()
        items = response.get("batchItemFailures") or []
        known = {m["MessageId"] for m in messages}
        ids = {str(i.get("itemIdentifier")) for i in items if isinstance(i, dict)}
        if not ids <= known:  # AWS treats an unknown or empty identifier as a failure of the batch
            return known
        return ids
