"""The event side's fault matrix: every fault, every route it applies to, nothing lost or doubled.

Each case writes N files, delivers their S3 notifications through a route (the handler called
directly, Lambda's async invoke, or SQS -> Lambda on moto) with one fault injected, and then
accounts for every file: processed (ledger completed and output written), failed with a reason
(a dead letter, an on-failure record or an SQS redrive, each with its cause), or lost. It
asserts written = processed + failed-with-reason, 0 lost, 0 duplicate effects (an output
written twice), and that no file is both completed and dead-lettered.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from event_handlers.dlq import DeadLetter, MemoryDeadLetters, drain_queue, settled_empty, unresolved
from event_handlers.events import parse_s3_event
from event_handlers.handler import S3EventHandler
from event_handlers.ledger import MemoryLedger
from event_handlers.runtime.async_invoke import AsyncConfig, AsyncInvoker
from event_handlers.runtime.function import FunctionConfig, LocalFunction
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig
from event_handlers.storage import LocalFolderStore
from event_handlers.tasks import CsvSummaryTask, TaskResult

N = 6
CORRUPT = {"in/f1.csv", "in/f4.csv"}


def _client_error(code: str, status: int) -> Callable[[], Exception]:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return lambda: ClientError(response, "Op")


@dataclass(frozen=True)
class Fault:
    name: str
    get_error: Callable[[], Exception] | None = None  # raised by each key's first GET
    put_error: Callable[[], Exception] | None = None  # raised by each key's first PUT
    slow_first_s: float = 0.0  # each key's first task run outlives the timeout
    ledger_error: bool = False  # each key's first claim fails
    corrupt: bool = False  # CORRUPT files are not CSV
    missing_dlq: bool = False  # the handler's dead-letter queue does not exist
    duplicate: bool = False  # every notification delivered twice
    reverse: bool = False  # delivered in reverse order
    concurrency: int | None = None
    routes: tuple[str, ...] = ("direct", "async", "sqs")
    sqs_batch_size: int = 10
    exact: bool = True  # False: how many fail for good depends on timing; the invariants still hold

    @property
    def expected_failed(self) -> int:
        if self.concurrency == 0:
            return N
        return len(CORRUPT) if self.corrupt else 0


FAULTS = [
    Fault("none"),
    Fault("duplicate delivery", duplicate=True),
    Fault("out-of-order + duplicate", duplicate=True, reverse=True),
    Fault("throttled GET (SlowDown)", get_error=_client_error("SlowDown", 503)),
    Fault("5xx on GET", get_error=_client_error("InternalError", 500)),
    Fault("5xx on PUT", put_error=_client_error("ServiceUnavailable", 503)),
    Fault("read timeout", get_error=lambda: TimeoutError("read timed out")),
    Fault("invocation timeout", slow_first_s=0.6, routes=("async", "sqs"), sqs_batch_size=1),
    # a batch that times out returns every message, so a slow first run per file can exhaust
    # maxReceiveCount (3) for some: they are redriven with the timeout as their reason
    Fault("invocation timeout, batches of 10", slow_first_s=0.6, routes=("sqs",), exact=False),
    Fault("ledger failure", ledger_error=True),
    Fault("corrupt input", corrupt=True),
    Fault("missing DLQ + corrupt input", corrupt=True, missing_dlq=True, routes=("async", "sqs")),
    Fault("concurrency 0", concurrency=0, routes=("async",)),
    Fault("concurrency 1", concurrency=1, duplicate=True, routes=("async", "sqs")),
]


class FaultyStore:
    """A folder store whose first GET/PUT per key can fail; counts every output written."""

    def __init__(self, inner: LocalFolderStore, fault: Fault) -> None:
        self.inner, self.fault, self.name = inner, fault, inner.name
        self.effects: Counter[str] = Counter()
        self._seen: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def _first(self, op: str, key: str) -> bool:
        with self._lock:
            self._seen[(op, key)] += 1
            return self._seen[(op, key)] == 1

    def open(self, key: str) -> Any:
        if self.fault.get_error and self._first("get", key):
            raise self.fault.get_error()
        return self.inner.open(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fault.put_error and self._first("put", key):
            raise self.fault.put_error()
        self.inner.put(key, data, content_type)
        with self._lock:
            self.effects[key] += 1

    def describe(self, key: str) -> Any:
        return self.inner.describe(key)


class FaultyLedger(MemoryLedger):
    def __init__(self, fail_first: bool) -> None:
        super().__init__()
        self.fail_first = fail_first
        self._tried: set[str] = set()

    def claim(self, key: str, hold_s: float | None = None) -> Any:
        if self.fail_first and key not in self._tried:
            self._tried.add(key)
            raise ConnectionError("ledger unreachable")
        return super().claim(key, hold_s)


class RefusingDeadLetters:
    def send(self, letter: DeadLetter) -> None:
        raise RuntimeError("AWS.SimpleQueueService.NonExistentQueue: the DLQ does not exist")


@dataclass
class Row:
    fault: str
    route: str
    written: int
    processed: int
    failed_with_reason: int
    lost: int
    duplicate_effects: int
    both: int = 0
    reasons: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"| {self.fault} | {self.route} | {self.written} | {self.processed} | "
            f"{self.failed_with_reason} | {self.lost} | {self.duplicate_effects} |"
        )


class Case:
    """One fault on one route: the files, the handler's collaborators, the accounting."""

    def __init__(self, fault: Fault, root: Path) -> None:
        self.fault = fault
        self.keys = [f"in/f{i}.csv" for i in range(N)]
        for key in self.keys:
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            corrupt = fault.corrupt and key in CORRUPT
            path.write_bytes(b"a,b\n\xff\xfe\n" if corrupt else b"a,b\n1,2\n")
        self.store = FaultyStore(LocalFolderStore(root), fault)
        self.ledger = FaultyLedger(fault.ledger_error)
        self.dead = MemoryDeadLetters()
        self.other_failures: dict[str, str] = {}  # key -> reason, from the platform's DLQ
        self.redriven_done = 0  # redriven by SQS after a batch timeout, yet completed
        self._slow_done: set[str] = set()
        self._task = CsvSummaryTask()

    def task(self, store: Any, key: str) -> TaskResult:
        if self.fault.slow_first_s and key not in self._slow_done:
            self._slow_done.add(key)
            time.sleep(self.fault.slow_first_s)
        return self._task(store, key)

    def handler(self) -> S3EventHandler:
        self.task.__func__.name = "csv-summary"  # type: ignore[attr-defined]
        sink = RefusingDeadLetters() if self.fault.missing_dlq else self.dead
        return S3EventHandler(
            self.task,  # type: ignore[arg-type]
            store_for=lambda bucket: self.store,
            ledger=self.ledger,
            dead_letters=sink,
            reserve_ms=50,
        )

    def notifications(self) -> list[dict[str, Any]]:
        keys = list(reversed(self.keys)) if self.fault.reverse else self.keys
        events = [_notification(key, i) for i, key in enumerate(keys)]
        return [e for e in events for _ in range(2 if self.fault.duplicate else 1)]

    def account(self, route: str) -> Row:
        failed = {d.key: d.reason for d in self.dead.letters if d.key and d.reason}
        failed.update({k: r for k, r in self.other_failures.items() if r})
        completed = {k for k in self.keys if self.ledger.status(_ledger_key(k)) == "completed"}
        processed = {k for k in completed if self.store.effects[_output(k)] >= 1}
        lost = [k for k in self.keys if k not in processed and k not in failed]
        duplicates = sum(1 for k in self.keys if self.store.effects[_output(k)] > 1)
        return Row(
            self.fault.name,
            route,
            len(self.keys),
            len(processed),
            len(set(failed) & set(self.keys)),
            len(lost),
            duplicates,
            both=len(processed & set(failed)),
            reasons=sorted(set(failed.values())),
        )


def _notification(key: str, i: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-27T00:00:00.000Z",
                "s3": {
                    "bucket": {"name": "local"},
                    "object": {"key": key, "size": 8, "eTag": f"etag-{key}", "sequencer": f"{i:04X}"},
                },
            }
        ]
    }


def _ledger_key(key: str) -> str:
    return f"local/{key}#etag=etag-{key};size=8"


def _output(key: str) -> str:
    return f"summaries/{key}.summary.json"


# -- the routes ---------------------------------------------------------------------------------------
def run_direct(case: Case) -> None:
    """The handler called as Lambda would, each attempt until it stops asking for a retry."""
    handler = case.handler()
    for event in case.notifications():
        for _ in range(4):
            outcomes = handler.handle(event)
            if all(o.status != "retry" for o in outcomes):
                break


def _function(case: Case) -> LocalFunction:
    return LocalFunction(
        FunctionConfig(timeout_s=0.4, reserved_concurrency=case.fault.concurrency), case.handler
    )


def run_async(case: Case) -> None:
    def on_failure(record: dict[str, Any]) -> None:
        reason = f"{record['requestContext']['condition']}: {record['responsePayload']['errorMessage']}"
        for event in parse_s3_event(record["requestPayload"]):
            case.other_failures[event.key] = reason

    invoker = AsyncInvoker(
        _function(case),
        AsyncConfig(
            retry_delays_s=(0.02, 0.05),
            max_event_age_s=0.5 if case.fault.concurrency == 0 else 60.0,
            throttle_backoff_s=0.02,
            throttle_backoff_cap_s=0.05,
            workers=3,
        ),
        on_failure=on_failure,
    ).start()
    for event in case.notifications():
        invoker.submit(event)
    assert invoker.wait_idle(20)
    invoker.stop()


def run_sqs(case: Case) -> None:
    from moto import mock_aws

    with mock_aws():
        sqs: Any = boto3.client("sqs", region_name="us-east-1")
        dlq = sqs.create_queue(QueueName="dlq")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": "3"})
        attributes = {"VisibilityTimeout": "1", "RedrivePolicy": redrive}
        url = sqs.create_queue(QueueName="q", Attributes=attributes)["QueueUrl"]
        for event in case.notifications():
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
        mapping = SqsEventSourceMapping(
            _function(case), sqs, url, SqsMappingConfig(batch_size=case.fault.sqs_batch_size, wait_time_s=1)
        ).start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # until SQS holds nothing: all deleted or redriven
            if settled_empty(sqs, url):  # read twice: one read can fall between two counts
                break
            time.sleep(0.1)
        mapping.stop()
        for message in drain_queue(sqs, dlq, patience_s=3.0):  # the visibility timeout and some
            last = mapping.failure_reason(message["MessageId"])
            reason = f"redriven after 3 receives; last failure: {last}"
            events = parse_s3_event(json.loads(message["Body"]))
            case.redriven_done += len(events) - len(unresolved(events, case.ledger))
            for still_failed in unresolved(events, case.ledger):
                case.other_failures[still_failed.key] = reason


ROUTES = {"direct": run_direct, "async": run_async, "sqs": run_sqs}
CASES = [(f, r) for f in FAULTS for r in f.routes]


@pytest.mark.parametrize(("fault", "route"), CASES, ids=[f"{f.name}-{r}" for f, r in CASES])
def test_fault_matrix(fault: Fault, route: str, tmp_path: Path) -> None:
    case = Case(fault, tmp_path)
    ROUTES[route](case)
    row = case.account(route)
    print(row.line())
    assert row.lost == 0, row
    assert row.duplicate_effects == 0, row
    assert row.both == 0, row  # never both completed and dead-lettered
    assert row.written == row.processed + row.failed_with_reason, row
    if fault.exact:
        assert row.failed_with_reason == fault.expected_failed, row
    assert all(row.reasons), row
    if fault.missing_dlq:  # the cause survives the handler's DLQ being gone
        assert all("CorruptInputError" in r for r in row.reasons), row
