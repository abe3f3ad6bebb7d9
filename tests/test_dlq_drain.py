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
