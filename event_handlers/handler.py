"""The seed's ``lambda_handler``, corrected.

What changed from the seed, and why:

* keys are decoded with ``unquote_plus`` (``+`` is a space, ``%2B`` a plus), via ``parse_s3_event``;
* the ``s3:TestEvent`` sent when a configuration is saved is skipped instead of crashing;
* objects are streamed by the task, never read whole into memory;
* each record is processed on its own: one bad record never fails the others;
* for SQS batches, failures are reported with ``batchItemFailures`` so only those messages are
  retried; for direct invocations a transient failure raises, so Lambda's async retries apply;
* records that fail for good (corrupt or missing objects, malformed events) go to a dead-letter
  queue with the reason, and are not retried;
* deliveries are at least once, so each object version is processed once through a ledger.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from event_handlers.dlq import DeadLetter, DeadLetterSink, MemoryDeadLetters, SqsDeadLetterQueue
from event_handlers.errors import InProgressElsewhereError, PermanentError
from event_handlers.events import (
    Delivery,
    EventParseError,
    S3ObjectEvent,
    parse_delivery,
    split_deliveries,
)
from event_handlers.filters import KeyFilter
from event_handlers.ledger import Claim, Ledger, MemoryLedger, SQLiteLedger
from event_handlers.storage import ObjectStore, S3ObjectStore
from event_handlers.tasks import Task, TaskResult, make_task

log = logging.getLogger(__name__)


class RetryableBatchError(RuntimeError):
    """Raised from a direct (async) invocation so that Lambda retries the event."""


class HandlerListener:
    """Hooks for watching each record; the benchmark stamps its clocks here. All optional."""

    def received(self, event: S3ObjectEvent) -> None:
        """A record was parsed and is about to be claimed."""

    def started(self, event: S3ObjectEvent) -> None:
        """The task started on a record this invocation claimed."""

    def succeeded(self, event: S3ObjectEvent, result: TaskResult) -> None:
        """The task finished."""

    def failed(self, event: S3ObjectEvent | None, reason: str, *, permanent: bool) -> None:
        """A record failed; ``permanent`` ones went to the dead-letter queue."""

    def duplicate(self, event: S3ObjectEvent, claim: Claim) -> None:
        """A record was already processed (or failed for good) by an earlier delivery."""


@dataclass(frozen=True)
class RecordOutcome:
    """What happened to one record (or to an unparseable delivery, with ``event=None``)."""

    status: str  # processed | duplicate | ignored | failed | retry
    where: str
    event: S3ObjectEvent | None = None
    message_id: str | None = None
    reason: str = ""


class S3EventHandler:
    """A Lambda handler for S3 object events in any envelope; call it like ``lambda_handler``.

    ``store_for(bucket)`` gives the store a record's object is read from (S3 by default; the
    local-folder route passes a folder). ``context.get_remaining_time_in_millis()`` is checked
    before each record: records that would start with less than ``reserve_ms`` left are handed
    back for retry instead of being cut off by the timeout.
    """

    def __init__(
        self,
        task: Task,
        *,
        s3_client: Any = None,
        store_for: Callable[[str], ObjectStore] | None = None,
        ledger: Ledger | None = None,
        dead_letters: DeadLetterSink | None = None,
        listener: HandlerListener | None = None,
        reserve_ms: int = 500,
    ) -> None:
        self.task = task
        self._s3_client = s3_client
        self._store_for = store_for or self._s3_store
        self.ledger = ledger if ledger is not None else MemoryLedger()
        self.dead_letters = dead_letters if dead_letters is not None else MemoryDeadLetters()
        self.listener = listener or HandlerListener()
        self.reserve_ms = reserve_ms

    def _s3_store(self, bucket: str) -> ObjectStore:
        if self._s3_client is None:
            import boto3

            self._s3_client = boto3.client("s3")
        return S3ObjectStore(self._s3_client, bucket)

    # -- the Lambda entry point ---------------------------------------------------------------
    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        outcomes = self.handle(event, context)
        retry = [o for o in outcomes if o.status == "retry"]
        counts = {
            s: sum(o.status == s for o in outcomes)
            for s in ("processed", "duplicate", "ignored", "failed", "retry")
        }
        if any(o.message_id for o in outcomes) or _is_sqs_batch(event):
            failures = sorted({o.message_id for o in retry if o.message_id})
            return {"batchItemFailures": [{"itemIdentifier": m} for m in failures], "counts": counts}
        if retry:
            raise RetryableBatchError(
                f"{len(retry)} record(s) failed and will be retried: "
                + "; ".join(f"{o.where}: {o.reason}" for o in retry[:3])
            )
        return {"counts": counts}

    def handle(self, event: Any, context: Any = None) -> list[RecordOutcome]:
        """Process every record of ``event`` in isolation and say what happened to each."""
        try:
            deliveries = split_deliveries(event)
        except EventParseError as exc:
            self._dead_letter(Delivery("event", event, "s3"), None, exc)
            return [RecordOutcome("failed", exc.where, reason=str(exc))]
        outcomes: list[RecordOutcome] = []
        for delivery in deliveries:
            outcomes.extend(self._handle_delivery(delivery, context))
        return outcomes

    def _handle_delivery(self, delivery: Delivery, context: Any) -> list[RecordOutcome]:
        try:
            events = parse_delivery(delivery)
        except EventParseError as exc:
            self._dead_letter(delivery, None, exc)
            self.listener.failed(None, str(exc), permanent=True)
            return [RecordOutcome("failed", delivery.where, message_id=delivery.message_id, reason=str(exc))]
        return [self._handle_record(delivery, e, context) for e in events]

    def _handle_record(self, delivery: Delivery, event: S3ObjectEvent, context: Any) -> RecordOutcome:
        where, mid = delivery.where, delivery.message_id
        if not event.is_created:
            return RecordOutcome("ignored", where, event, mid, f"{event.event_name} is not a creation")
        self.listener.received(event)
        if _time_left_ms(context) < self.reserve_ms:
            reason = "too little time left in this invocation; handed back for retry"
            self.listener.failed(event, reason, permanent=False)
            return RecordOutcome("retry", where, event, mid, reason)
        claim = self.ledger.begin(event.idempotency_key)
        if claim in (Claim.COMPLETED, Claim.FAILED):
            self.listener.duplicate(event, claim)
            return RecordOutcome("duplicate", where, event, mid, f"already {claim.value}")
        if claim is Claim.IN_PROGRESS:
            reason = str(InProgressElsewhereError(f"{event.idempotency_key} is being processed"))
            self.listener.failed(event, reason, permanent=False)
            return RecordOutcome("retry", where, event, mid, reason)
        self.listener.started(event)
        try:
            result = self.task(self._store_for(event.bucket), event.key)
        except PermanentError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self.ledger.fail(event.idempotency_key, reason)
            self._dead_letter(delivery, event, exc)
            self.listener.failed(event, reason, permanent=True)
            return RecordOutcome("failed", where, event, mid, reason)
        except Exception as exc:  # transient or unknown: give it back for a retry
            reason = f"{type(exc).__name__}: {exc}"
            self.ledger.release(event.idempotency_key)
            log.warning("record %s failed, will be retried: %s", event.key, reason)
            self.listener.failed(event, reason, permanent=False)
            return RecordOutcome("retry", where, event, mid, reason)
        self.ledger.complete(event.idempotency_key, result.output_key or "")
        self.listener.succeeded(event, result)
        return RecordOutcome("processed", where, event, mid)

    def _dead_letter(self, delivery: Delivery, event: S3ObjectEvent | None, exc: BaseException) -> None:
        letter = DeadLetter(
            reason=str(exc),
            error_type=type(exc).__name__,
            where=delivery.where,
            route=delivery.route,
            bucket=event.bucket if event else None,
            key=event.key if event else None,
            etag=event.etag if event else None,
            message_id=delivery.message_id,
            payload=delivery.payload,
        )
        try:
            self.dead_letters.send(letter)
        except Exception:  # the DLQ itself failing must be loud, but must not lose the others
            log.exception("could not send a dead letter for %s", delivery.where)


def _time_left_ms(context: Any) -> float:
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return float(getter()) if callable(getter) else float("inf")


def _is_sqs_batch(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return (
        bool(records)
        and isinstance(records, list)
        and any(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    )


# -- the deployable entry point ------------------------------------------------------------------
_default: S3EventHandler | None = None
_default_lock = threading.Lock()


def handler_from_environment(env: dict[str, str] | None = None) -> S3EventHandler:
    """Build the handler a deployed function uses, from its environment variables.

    ``PVE_TASK`` (csv-summary | thumbnail | noop), ``PVE_OUTPUT_PREFIX``, ``PVE_LEDGER_PATH``
    (SQLite file; default ``/tmp/pve-ledger.sqlite``, per execution environment), ``PVE_DLQ_URL``
    (an SQS queue for dead letters), ``PVE_TRIGGER_FILTERS`` (``prefix|suffix`` pairs separated by
    commas: the filters of the rules that invoke this function, for the thumbnail loop guard).
    """
    env = dict(os.environ if env is None else env)
    import boto3

    options: dict[str, Any] = {}
    if "PVE_OUTPUT_PREFIX" in env:
        options["output_prefix"] = env["PVE_OUTPUT_PREFIX"]
    task_name = env.get("PVE_TASK", "csv-summary")
    if task_name == "thumbnail":
        options["trigger_filters"] = parse_filters(env.get("PVE_TRIGGER_FILTERS", ""))
    dlq: DeadLetterSink | None = None
    if env.get("PVE_DLQ_URL"):
        dlq = SqsDeadLetterQueue(boto3.client("sqs"), env["PVE_DLQ_URL"])
    return S3EventHandler(
        make_task(task_name, **options),
        s3_client=boto3.client("s3"),
        ledger=SQLiteLedger(env.get("PVE_LEDGER_PATH", "/tmp/pve-ledger.sqlite")),
        dead_letters=dlq,
    )


def parse_filters(text: str) -> list[KeyFilter]:
    """``"uploads/|.jpg,raw/|"`` -> two ``KeyFilter``s."""
    filters = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        prefix, _, suffix = item.partition("|")
        filters.append(KeyFilter(prefix, suffix))
    return filters


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """The function to deploy: ``event_handlers.handler.lambda_handler``."""
    global _default
    with _default_lock:
        if _default is None:
            started = time.perf_counter()
            _default = handler_from_environment()
            log.info("handler initialised in %.1f ms", (time.perf_counter() - started) * 1000)
    return _default(event, context)
