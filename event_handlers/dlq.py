"""Dead letters: records that failed for good, kept with the reason instead of being dropped."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from event_handlers.errors import PermanentError
from event_handlers.events import S3ObjectEvent
from event_handlers.ledger import Status

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sqs.literals import QueueAttributeNameType
    from types_boto3_sqs.type_defs import MessageTypeDef

log = logging.getLogger(__name__)

_COUNTS: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
]


@dataclass(frozen=True)
class DeadLetter:
    """One record that will not be retried, with enough to find it and to replay it."""

    reason: str
    error_type: str
    where: str
    route: str
    bucket: str | None = None
    key: str | None = None
    etag: str | None = None
    message_id: str | None = None
    payload: Any = None
    failed_at: str = ""

    def to_json(self) -> str:
        document = asdict(self)
        document["failed_at"] = self.failed_at or datetime.now(UTC).isoformat()
        return json.dumps(document, default=str)


class DeadLetterSink(Protocol):
    def send(self, letter: DeadLetter) -> None: ...


class MemoryDeadLetters:
    """Keeps dead letters in a list (tests, local runs)."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []
        self._lock = threading.Lock()

    def send(self, letter: DeadLetter) -> None:
        with self._lock:
            self.letters.append(letter)


class SqsDeadLetterQueue:
    """Sends each dead letter as one SQS message, the reason also as a message attribute."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self.client, self.queue_url = client, queue_url

    def send(self, letter: DeadLetter) -> None:
        self.client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=letter.to_json(),
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": letter.reason[:256] or "unknown"},
                "error_type": {"DataType": "String", "StringValue": letter.error_type or "unknown"},
            },
        )


def unresolved(events: list[S3ObjectEvent], ledger: Any) -> list[S3ObjectEvent]:
    """The events of a dead-lettered message whose object version the ledger has not completed.

    A batch that times out returns every message to SQS, also those whose records finished
    before the timeout; after ``maxReceiveCount`` receives SQS redrives them all. A redriven
    record the ledger says is completed was processed: it is not a failure to count.
    """
    left = []
    for event in events:
        try:
            done = ledger.status(event.idempotency_key) == Status.COMPLETED
        except PermanentError:  # no identity: nothing to look up, so it stays a failure
            done = False
        if not done:
            left.append(event)
    return left


def drain_queue(
    client: SQSClient,
    queue_url: str,
    *,
    patience_s: float,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[MessageTypeDef]:
    """Every message the queue holds, each once; a message is deleted after its turn.

    An empty receive does not prove a dead-letter queue empty: a message redriven at the moment
    another receive took it arrives still invisible (moto in-process can do this; its receives
    share no lock), and it would be missed - a file lost from the accounting. So this reads until
    SQS counts nothing visible, in flight or delayed, waiting at most ``patience_s`` for messages
    it cannot see yet (pass the source queue's visibility timeout, after which they reappear).
    """
    deadline = clock() + patience_s
    seen: set[str] = set()
    while True:
        response = client.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=60,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        for message in messages:
            if message["MessageId"] not in seen:
                seen.add(message["MessageId"])
                yield message
            client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if messages:
            continue
        if settled_empty(client, queue_url):
            return
        if clock() >= deadline:
            left = _messages_held(client, queue_url)
            log.warning("%s: %d message(s) not visible after %.1f s; not read", queue_url, left, patience_s)
            return
        time.sleep(0.1)


def settled_empty(client: SQSClient, queue_url: str, pause_s: float = 0.05) -> bool:
    """SQS counts nothing visible, in flight or delayed, twice, ``pause_s`` apart.

    One read is not enough: the counts are computed one after the other, so a batch whose
    visibility timeout ends between the "visible" count and the "not visible" one is in neither
    (moto computes them that way, and SQS calls its counts approximate). A second read sees the
    batch visible. CI lost six files to that once: a fault-matrix test took the queue for empty
    one second into a retry and stopped the mapping.
    """
    if _messages_held(client, queue_url):
        return False
    time.sleep(pause_s)
    return _messages_held(client, queue_url) == 0


def _messages_held(client: SQSClient, queue_url: str) -> int:
    """Visible, in flight and delayed: every message SQS says the queue still holds."""
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=_COUNTS)["Attributes"]
    return sum(int(attributes.get(name, "0")) for name in _COUNTS)
