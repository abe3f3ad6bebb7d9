"""Dead letters: records that failed for good, kept with the reason instead of being dropped."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from event_handlers.errors import PermanentError
from event_handlers.events import S3ObjectEvent

if TYPE_CHECKING:
    from types_boto3_sqs.client import SQSClient


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
            done = ledger.status(event.idempotency_key) == "completed"
        except PermanentError:  # no identity: nothing to look up, so it stays a failure
            done = False
        if not done:
            left.append(event)
    return left
