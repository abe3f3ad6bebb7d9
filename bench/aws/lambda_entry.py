"""The deployed function's entry point, packaged as ``pve_aws_handler.py`` next to ``event_handlers``.

It runs ``event_handlers``' handler unchanged and adds what the benchmark needs from inside AWS:
one timing record per file, written as JSON under the records prefix of the file's bucket
(``received_at``, ``started_at``, ``finished_at`` on AWS's clock, the S3 ``eventTime``, and the
outcome). The harness reads them back and joins them with the writer's records.

It builds the same handler as ``event_handlers.handler.handler_from_environment`` (same
environment variables, the DynamoDB ledger), plus the timing records. This module imports only
``event_handlers``, boto3 and the standard library: it is all a Lambda function has. On moto,
the local runtime calls ``build_handler`` with the harness's clients, so the code that runs is
the same and only the endpoint differs.

Inside AWS nothing else sees the function's own requests (its GET and PUTs, the ledger's writes,
the dead-letter sends), so it counts them with the hook the harness counts its own with
(``event_handlers.request_count``) and writes each file's counts in its timing record
(``requests``, the record's own PUT included), with the invocation's ``request_id`` so that the
harness can tell when every invocation's REPORT line has arrived.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol, overload

from event_handlers.dlq import DeadLetterSink, SqsDeadLetterQueue
from event_handlers.dynamodb_ledger import DynamoDBLedger
from event_handlers.events import S3ObjectEvent
from event_handlers.handler import HandlerListener, S3EventHandler, parse_filters
from event_handlers.ledger import Claim
from event_handlers.request_count import count_requests
from event_handlers.tasks import TaskResult, make_task

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_s3.client import S3Client
    from types_boto3_sqs.client import SQSClient

log = logging.getLogger(__name__)


class ClientMaker(Protocol):
    """Makes the boto3 client of a service: ``boto3.client`` on Lambda, counted clients on moto."""

    @overload
    def __call__(self, service: Literal["dynamodb"], /) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["s3"], /) -> S3Client: ...
    @overload
    def __call__(self, service: Literal["sqs"], /) -> SQSClient: ...


class TimingRecords(HandlerListener):
    """Writes one JSON record per file this environment finished, processed or failed for good."""

    def __init__(
        self, s3: S3Client, prefix: str, strategy: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.s3, self.prefix, self.strategy, self.clock = s3, prefix, strategy, clock
        self._stamps: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._cold = True  # the first record of an environment came after its INIT
        self._local = threading.local()  # this thread's invocation: request id, requests since

    def begin_invocation(self, request_id: str) -> None:
        self._local.request_id = request_id
        self._local.requests = {}

    def count(self, operation: str) -> None:
        """One request this thread made (the shared counting hook calls it)."""
        requests = getattr(self._local, "requests", None)
        if requests is None:
            requests = self._local.requests = {}
        requests[operation] = requests.get(operation, 0) + 1

    def _take_requests(self) -> dict[str, int]:
        """The requests made since this thread's last record, plus the PUT of the record itself."""
        requests = dict(getattr(self._local, "requests", None) or {})
        requests["s3.PutObject"] = requests.get("s3.PutObject", 0) + 1
        return requests

    def _stamp(self, event: S3ObjectEvent, name: str) -> None:
        with self._lock:
            self._stamps.setdefault(event.idempotency_key, {}).setdefault(name, self.clock())

    def received(self, event: S3ObjectEvent) -> None:
        self._stamp(event, "received_at")

    def started(self, event: S3ObjectEvent) -> None:
        self._stamp(event, "started_at")

    def succeeded(self, event: S3ObjectEvent, result: TaskResult) -> None:
        self._write(event, "processed", "")

    def failed(self, event: S3ObjectEvent | None, reason: str, *, permanent: bool) -> None:
        if event is not None and permanent:
            self._write(event, "failed", reason)

    def duplicate(self, event: S3ObjectEvent, claim: Claim) -> None:
        self._write(event, "duplicate", f"already {claim.value}")

    def _write(self, event: S3ObjectEvent, outcome: str, error: str) -> None:
        finished = self.clock()
        with self._lock:
            stamps = self._stamps.pop(event.idempotency_key, {})
            cold, self._cold = self._cold, False
        body = {
            "strategy": self.strategy,
            "key": event.key,
            "etag": event.etag,
            "route": event.route,
            "event_time": event.event_time.timestamp(),
            "received_at": stamps.get("received_at", finished),
            "started_at": stamps.get("started_at", finished),
            "finished_at": finished,
            "outcome": outcome,
            "error": error[:500],
            "first_in_environment": cold,
            "request_id": getattr(self._local, "request_id", ""),
            "requests": self._take_requests(),
        }
        digest = hashlib.sha256(event.key.encode("utf-8")).hexdigest()[:16]
        name = f"{self.prefix}{self.strategy}/{digest}-{uuid.uuid4().hex[:8]}.json"
        try:
            self.s3.put_object(Bucket=event.bucket, Key=name, Body=json.dumps(body).encode("utf-8"))
        except Exception:  # a lost timing record shows as a missed file; it must not fail the file
            log.exception("could not write the timing record of %s", event.key)
        self._local.requests = {}  # the record's PUT (and its retries) is in the record already


class EntryPoint:
    """One execution environment's handler: marks each invocation, then runs the file handler."""

    def __init__(self, handler: S3EventHandler, records: TimingRecords) -> None:
        self.handler, self.records = handler, records

    def __call__(self, event: Any, context: Any = None) -> dict[str, Any]:
        self.records.begin_invocation(str(getattr(context, "aws_request_id", "") or ""))
        return self.handler(event, context)


def build_handler(env: Mapping[str, str], client: ClientMaker) -> EntryPoint:
    """The handler of one execution environment, configured from the function's environment;
    every client it makes counts its requests into the timing records."""
    task_name = env.get("PVE_TASK", "csv-summary")
    options: dict[str, Any] = {"trigger_filters": parse_filters(env.get("PVE_TRIGGER_FILTERS", ""))}
    if "PVE_OUTPUT_PREFIX" in env:
        options["output_prefix"] = env["PVE_OUTPUT_PREFIX"]
    s3 = client("s3")
    records = TimingRecords(s3, env["PVE_RECORDS_PREFIX"], env.get("PVE_STRATEGY", ""))
    count_requests(s3, records.count)
    dead_letters: DeadLetterSink | None = None
    if env.get("PVE_DLQ_URL"):
        dead_letters = SqsDeadLetterQueue(count_requests(client("sqs"), records.count), env["PVE_DLQ_URL"])
    handler = S3EventHandler(
        make_task(task_name, **options),
        s3_client=s3,
        ledger=DynamoDBLedger(count_requests(client("dynamodb"), records.count), env["PVE_LEDGER_TABLE"]),
        dead_letters=dead_letters,
        listener=records,
    )
    return EntryPoint(handler, records)


_handler: EntryPoint | None = None
_lock = threading.Lock()


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda's entry point: ``pve_aws_handler.lambda_handler``."""
    global _handler
    with _lock:
        if _handler is None:
            import boto3

            _handler = build_handler(os.environ, boto3.client)
    return _handler(event, context)
