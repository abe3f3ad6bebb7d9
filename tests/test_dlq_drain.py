"""Reading a dead-letter queue to the end: a message SQS cannot show yet is waited for, not lost."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from event_handlers.dlq import drain_queue


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def _queue_with(sqs: Any, bodies: list[str]) -> str:
    url: str = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return url


def test_reads_every_message_once_and_leaves_the_queue_empty(sqs: Any) -> None:
    url = _queue_with(sqs, [f"m{i}" for i in range(23)])
    bodies = [m["Body"] for m in drain_queue(sqs, url, patience_s=0.0)]
    assert sorted(bodies) == sorted(f"m{i}" for i in range(23))
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_waits_for_a_message_still_invisible_when_reading_starts(sqs: Any) -> None:
    url = _queue_with(sqs, ["early", "held"])
    held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=1)["Messages"]
    assert len(held) == 1  # as when moto redrives a message another receive has just taken
    bodies = [m["Body"] for m in drain_queue(sqs, url, patience_s=5.0)]
    assert sorted(bodies) == ["early", "held"]


def test_a_message_that_stays_invisible_is_named_in_a_warning(
    sqs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    url = _queue_with(sqs, ["held"])
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=30)
    with caplog.at_level(logging.WARNING, logger="event_handlers.dlq"):
        assert list(drain_queue(sqs, url, patience_s=0.3)) == []
    assert "1 message(s) not visible after 0.3 s" in caplog.text


class _BetweenTheCounts:
    """A queue whose one message is invisible at the first receive and whose first count read
    falls just as its visibility ends: the "visible" count is taken before, the "not visible"
    count after, so that read says 0 although the message is there (moto counts in that order)."""

    def __init__(self) -> None:
        self.receives = 0
        self.count_reads = 0
        self.deleted: list[str] = []

    def receive_message(self, **_: Any) -> dict[str, Any]:
        self.receives += 1
        if self.receives == 1 or self.deleted:
            return {"Messages": []}
        return {"Messages": [{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "late"}]}

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        self.count_reads += 1
        held = "0" if self.count_reads == 1 or self.deleted else "1"
        return {"Attributes": {"ApproximateNumberOfMessages": held}}

    def delete_message(self, **kwargs: Any) -> None:
        self.deleted.append(kwargs["ReceiptHandle"])


def test_a_count_read_between_two_counts_does_not_end_the_reading() -> None:
    queue = _BetweenTheCounts()
    got = [m["Body"] for m in drain_queue(queue, "q", patience_s=1.0)]  # type: ignore[arg-type]
    assert got == ["late"]
    assert queue.deleted == ["r1"]


def test_settled_empty_reads_the_counts_twice() -> None:
    from event_handlers.dlq import settled_empty

    racing = _BetweenTheCounts()
    assert not settled_empty(racing, "q", pause_s=0)  # type: ignore[arg-type]
    assert racing.count_reads == 2
    empty = _BetweenTheCounts()
    empty.deleted.append("gone")
    assert settled_empty(empty, "q", pause_s=0)  # type: ignore[arg-type]
