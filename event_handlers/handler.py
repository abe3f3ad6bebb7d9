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

import enum
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from event_handlers.dlq import DeadLetter, DeadLetterSink, MemoryDeadLetters, SqsDeadLetterQueue
from event_handlers.errors import (
    DeadLetterError,
    EventHandlersError,
    InProgressElsewhereError,
    InvocationTimedOutError,
    LedgerError,
)
from event_handlers.events import (
    Delivery,
    EventParseError,
    S3ObjectEvent,
    parse_delivery_records,
    split_deliveries,
)
from event_handlers.failures import Failure, classify
from event_handlers.filters import KeyFilter
from event_handlers.idempotency import NoIdentityError, ObjectVersion
from event_handlers.keys import check_key
from event_handlers.ledger import Claim, Ledger, MemoryLedger, SQLiteLedger, hold_for
from event_handlers.storage import DeadlineStore, ObjectStore, S3ObjectStore
from event_handlers.tasks import Task, TaskResult, make_task

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

log = logging.getLogger(__name__)


class RetryableBatchError(EventHandlersError, RuntimeError):
    """Raised from a direct (async) invocation so that Lambda retries the event."""


class RecordStatus(enum.StrEnum):
    """What happened to one record; the values are the keys of the response's ``counts``."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    FAILED = "failed"  # for good: dead-lettered with the reason
    RETRY = "retry"  # handed back: Lambda's retries or SQS's redelivery will try again


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

    status: RecordStatus
    where: str
    event: S3ObjectEvent | None = None
    message_id: str | None = None
    reason: str = ""


class S3EventHandler:
    """A Lambda handler for S3 object events in any envelope; call it like ``lambda_handler``.

    ``store_for(bucket)`` gives the store a record's object is read from (S3 by default; the
    local-folder route passes a folder). ``context.get_remaining_time_in_millis()`` is checked
    before each record: records that would start with less than ``reserve_ms`` left are handed
    back for retry instead of being cut off by the timeout; a claim in the ledger lasts the
    invocation's remaining time; reads and writes after the deadline are refused, and a record
    that finishes after it is not counted as processed.

    Every record is isolated: a task error, a ledger error or a dead-letter error on one record
    never stops the next. Failures are classed by ``event_handlers.failures.classify``.
    """

    def __init__(
        self,
        task: Task,
        *,
        s3_client: S3Client | None = None,
        store_for: Callable[[str], ObjectStore] | None = None,
        ledger: Ledger | None = None,
        dead_letters: DeadLetterSink | None = None,
        listener: HandlerListener | None = None,
        reserve_ms: int = 500,
    ) -> None:
        self.task = task
        self._s3_client = s3_client
        self._store_for = store_for or self._s3_store
        self.ledger: Ledger = ledger if ledger is not None else MemoryLedger()
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
        retry = [o for o in outcomes if o.status is RecordStatus.RETRY]
        counts = {s.value: sum(o.status is s for o in outcomes) for s in RecordStatus}
        if any(o.message_id for o in outcomes) or _is_sqs_batch(event):
            reasons: dict[str, str] = {}
            for o in retry:
                if o.message_id:
                    reasons.setdefault(o.message_id, o.reason)
            return {
                "batchItemFailures": [{"itemIdentifier": m} for m in sorted(reasons)],
                "counts": counts,
                "failureReasons": reasons,  # Lambda reads only batchItemFailures; the runtime keeps these
            }
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
            return [self._unparseable(Delivery("event", event, "s3"), exc)]
        outcomes: list[RecordOutcome] = []
        for delivery in deliveries:
            outcomes.extend(self._handle_delivery(delivery, context))
        return outcomes

    def _handle_delivery(self, delivery: Delivery, context: Any) -> list[RecordOutcome]:
        try:
            items = parse_delivery_records(delivery)
        except EventParseError as exc:
            return [self._unparseable(delivery, exc)]
        return [
            self._unparseable(delivery, item)
            if isinstance(item, EventParseError)
            else self._handle_record(delivery, item, context)
            for item in items
        ]

    def _unparseable(self, delivery: Delivery, exc: EventParseError) -> RecordOutcome:
        """A malformed record fails for good, alone; unless its dead letter cannot be sent."""
        where, mid = exc.where or delivery.where, delivery.message_id
        reason = f"{type(exc).__name__}: {exc}"
        try:
            self._dead_letter(delivery, None, reason, type(exc).__name__, where)
        except DeadLetterError as dlq_exc:
            self.listener.failed(None, str(dlq_exc), permanent=False)
            return RecordOutcome(RecordStatus.RETRY, where, None, mid, str(dlq_exc))
        self.listener.failed(None, reason, permanent=True)
        return RecordOutcome(RecordStatus.FAILED, where, None, mid, reason)

    def _handle_record(self, delivery: Delivery, event: S3ObjectEvent, context: Any) -> RecordOutcome:
        where, mid = delivery.where, delivery.message_id
        if not event.is_created:
            return RecordOutcome(
                RecordStatus.IGNORED, where, event, mid, f"{event.event_name} is not a creation"
            )
        self.listener.received(event)
        ledger_key: str | None = None
        try:
            if _time_left_ms(context) < self.reserve_ms:
                raise InvocationTimedOutError(
                    "too little time left in this invocation; handed back for retry"
                )
            check_key(event.key)
            store = self._store(event.bucket, context)
            ledger_key = self._identity(event, store).ledger_key
            claim = self._claim(ledger_key, context)
            if claim in (Claim.COMPLETED, Claim.FAILED):
                self.listener.duplicate(event, claim)
                return RecordOutcome(RecordStatus.DUPLICATE, where, event, mid, f"already {claim.value}")
            if claim is Claim.IN_PROGRESS:
                ledger_key = None  # not ours to release
                raise InProgressElsewhereError(f"{event.key} is being processed by another invocation")
            self.listener.started(event)
            result = self.task(store, event.key)
            if _time_left_ms(context) <= 0:
                raise InvocationTimedOutError(
                    "finished after the invocation timed out; not counted as processed"
                )
            self._ledger("complete", ledger_key, result.output_key or "")
        except Exception as exc:  # every failure stays with its record
            return self._failed(delivery, event, classify(exc), ledger_key)
        self.listener.succeeded(event, result)
        return RecordOutcome(RecordStatus.PROCESSED, where, event, mid)

    def _failed(
        self, delivery: Delivery, event: S3ObjectEvent, failure: Failure, ledger_key: str | None
    ) -> RecordOutcome:
        where, mid = delivery.where, delivery.message_id
        if failure.permanent:
            try:  # dead-letter first: a failure the DLQ did not take must not be closed
                self._dead_letter(delivery, event, failure.reason, failure.cause, where)
                if ledger_key is not None:
                    self._ledger("fail", ledger_key, failure.reason)
            except (DeadLetterError, LedgerError) as exc:
                failure = Failure(failure.kind, failure.cause, f"{failure.reason}; {exc}")
            else:
                self.listener.failed(event, failure.reason, permanent=True)
                return RecordOutcome(RecordStatus.FAILED, where, event, mid, failure.reason)
        if ledger_key is not None:
            try:
                self._ledger("release", ledger_key)
            except LedgerError as exc:  # the claim expires with the invocation anyway
                log.warning("could not release %s: %s", ledger_key, exc)
        log.warning("record %s failed, will be retried: %s", event.key, failure.reason)
        self.listener.failed(event, failure.reason, permanent=False)
        return RecordOutcome(RecordStatus.RETRY, where, event, mid, failure.reason)

    # -- collaborators, each failure named -----------------------------------------------------
    def _store(self, bucket: str, context: Any) -> ObjectStore:
        store = self._store_for(bucket)
        if context is not None and callable(getattr(context, "get_remaining_time_in_millis", None)):
            return DeadlineStore(store, context.get_remaining_time_in_millis)
        return store

    def _identity(self, event: S3ObjectEvent, store: ObjectStore) -> ObjectVersion:
        """The event's identity; a record naming none is identified by describing the object."""
        if event.version.has_identity:
            return event.version
        describe = getattr(store, "describe", None)
        if describe is None:
            raise NoIdentityError(
                f"{event.key}: no version id, ETag or sequencer, and {store.name} cannot describe objects"
            )
        found: ObjectVersion = describe(event.key)
        return ObjectVersion(event.bucket, event.key, found.version_id, found.etag, found.size)

    def _claim(self, key: str, context: Any) -> Claim:
        try:
            return self.ledger.claim(key, hold_for(_time_left_ms(context)))
        except LedgerError:
            raise
        except Exception as exc:
            raise LedgerError(f"ledger claim of {key} failed: {type(exc).__name__}: {exc}") from exc

    def _ledger(self, action: str, key: str, *args: str) -> None:
        try:
            getattr(self.ledger, action)(key, *args)
        except LedgerError:
            raise
        except Exception as exc:
            raise LedgerError(f"ledger {action} of {key} failed: {type(exc).__name__}: {exc}") from exc

    def _dead_letter(
        self, delivery: Delivery, event: S3ObjectEvent | None, reason: str, error_type: str, where: str
    ) -> None:
        letter = DeadLetter(
            reason=reason,
            error_type=error_type,
            where=where,
            route=delivery.route,
            bucket=event.bucket if event else None,
            key=event.key if event else None,
            etag=event.etag if event else None,
            message_id=delivery.message_id,
            payload=delivery.payload,
        )
        try:
            self.dead_letters.send(letter)
        except Exception as exc:  # not acknowledged: the platform retries and, in the end, dead-letters
            log.exception("could not send a dead letter for %s", where)
            raise DeadLetterError(
                f"dead letter not sent ({type(exc).__name__}: {exc}); handed back so it is not lost"
            ) from exc


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

    ``PVE_TASK`` (csv-summary | thumbnail | noop), ``PVE_OUTPUT_PREFIX``, ``PVE_LEDGER_TABLE``
    (a DynamoDB table: one ledger for every execution environment) or else ``PVE_LEDGER_PATH``
    (SQLite file; default ``/tmp/pve-ledger.sqlite``, per execution environment only),
    ``PVE_DLQ_URL`` (an SQS queue for dead letters), ``PVE_TRIGGER_FILTERS`` (``prefix|suffix``
    pairs separated by commas: the filters of the rules that invoke this function, for every
    task's loop guard).
    """
    env = dict(os.environ if env is None else env)
    import boto3

    options: dict[str, Any] = {"trigger_filters": parse_filters(env.get("PVE_TRIGGER_FILTERS", ""))}
    if "PVE_OUTPUT_PREFIX" in env:
        options["output_prefix"] = env["PVE_OUTPUT_PREFIX"]
    task_name = env.get("PVE_TASK", "csv-summary")
    dlq: DeadLetterSink | None = None
    if env.get("PVE_DLQ_URL"):
        dlq = SqsDeadLetterQueue(boto3.client("sqs"), env["PVE_DLQ_URL"])
    ledger: Ledger
    if env.get("PVE_LEDGER_TABLE"):
        from event_handlers.dynamodb_ledger import DynamoDBLedger

        ledger = DynamoDBLedger(boto3.client("dynamodb"), env["PVE_LEDGER_TABLE"])
    else:
        ledger = SQLiteLedger(env.get("PVE_LEDGER_PATH", "/tmp/pve-ledger.sqlite"))
    return S3EventHandler(
        make_task(task_name, **options),
        s3_client=boto3.client("s3"),
        ledger=ledger,
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
