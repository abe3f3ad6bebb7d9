"""parse_s3_event against real samples (Powertools' fixtures) and events moto really produces."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from event_handlers.errors import UnsupportedEventError
from event_handlers.events import (
    EventParseError,
    S3ObjectEvent,
    compare_sequencers,
    latest_per_key,
    parse_s3_event,
)
from event_handlers.trigger import NotificationRule, configure_notifications
from tests.conftest import FIXTURES, load_fixture

ODD_KEYS = [
    "in/plain.csv",
    "in/with space.csv",
    "in/a+b.csv",
    "in/100%.csv",
    "in/sub/dir/deep file.csv",
    "in/ünïcødé.csv",
    "in/emoji 😀.csv",
    "in/tricky %2B+%20.csv",
]


def test_direct_notification_fixture() -> None:
    [event] = parse_s3_event(load_fixture("s3Event.json"))
    assert event.bucket == "lambda-artifacts-deafc19498e3f2df"
    assert event.key == "b21b84d653bb07b05b1e6b33684dc11b"
    assert (event.size, event.etag) == (1305107, "b21b84d653bb07b05b1e6b33684dc11b")
    assert event.event_name == "ObjectCreated:Put"
    assert event.event_time == datetime(2019, 9, 3, 19, 37, 27, 192000, tzinfo=UTC)
    assert event.sequencer == "0C0F6F405D6ED209E1"
    assert event.version_id is None
    assert event.route == "s3"


def test_encoded_key_fixture_is_decoded() -> None:
    [event] = parse_s3_event(load_fixture("s3EventDecodedKey.json"))
    assert event.key == "Happy Face.jpg"
    assert event.raw_key == "Happy%20Face.jpg"
    assert event.version_id == "version"


def test_delete_fixture_has_no_size_or_etag() -> None:
    [event] = parse_s3_event(load_fixture("s3EventDeleteObject.json"))
    assert event.is_removed
    assert not event.is_created
    assert (event.size, event.etag) == (None, None)


def test_glacier_fixture_parses_like_a_put() -> None:
    [event] = parse_s3_event(load_fixture("s3EventGlacier.json"))
    assert event.is_created


def test_sqs_wrapped_fixture_carries_the_message_id() -> None:
    [event] = parse_s3_event(load_fixture("s3SqsEvent.json"))
    assert event.route == "sqs"
    assert event.message_id == "ca3e7a89-c358-40e5-8aa0-5da01403c267"
    assert (event.bucket, event.key) == ("xxx", "test.pdf")
    assert event.version_id == "yd3d4HaWOT2zguDLvIQLU6ptDTwKBnQV"


def test_eventbridge_created_fixture() -> None:
    [event] = parse_s3_event(load_fixture("s3EventBridgeNotificationObjectCreatedEvent.json"))
    assert event.route == "eventbridge"
    assert (event.bucket, event.key, event.size) == ("example-bucket", "IMG_m7fzo3.jpg", 184662)
    assert event.event_name == "ObjectCreated:Put"
    assert event.etag == "4e68adba0abe2dc8653dc3354e14c01d"


def test_eventbridge_deleted_fixture() -> None:
    [event] = parse_s3_event(load_fixture("s3EventBridgeNotificationObjectDeletedEvent.json"))
    assert event.event_name == "ObjectRemoved:DeleteMarkerCreated"
    assert event.is_removed


def test_eventbridge_keys_are_not_decoded() -> None:
    event = load_fixture("s3EventBridgeNotificationObjectCreatedEvent.json")
    event["detail"]["object"]["key"] = "a+b %2B.jpg"
    assert parse_s3_event(event)[0].key == "a+b %2B.jpg"


def test_plus_sign_in_key_is_decoded_as_space_and_percent_2b_as_plus() -> None:
    event = load_fixture("s3Event.json")
    event["Records"][0]["s3"]["object"]["key"] = "my+file%2B1.csv"
    assert (
        parse_s3_event(event)[0].key == "my file+1.csv"
    )  # the seed's replace('+', ' ') gives 'my file%2B1.csv'


@pytest.mark.parametrize("wrapped", [True, False])
def test_test_event_yields_nothing(wrapped: bool) -> None:
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2024-01-01T00:00:00Z",
        "Bucket": "b",
    }
    event: Any = test_event
    if wrapped:
        event = {"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": json.dumps(test_event)}]}
    assert parse_s3_event(event) == []


def test_sns_lambda_event_and_sns_envelope_in_sqs() -> None:
    inner = json.dumps(load_fixture("s3Event.json"))
    sns_event = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": inner, "Type": "Notification"}}]}
    [a] = parse_s3_event(sns_event)
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:1:t", "Message": inner}
    sqs_event = {"Records": [{"eventSource": "aws:sqs", "messageId": "m1", "body": json.dumps(envelope)}]}
    [b] = parse_s3_event(sqs_event)
    assert (a.route, b.route, b.message_id) == ("sns", "sqs", "m1")
    assert a.key == b.key == "b21b84d653bb07b05b1e6b33684dc11b"


@pytest.mark.parametrize(
    ("event", "where", "problem"),
    [
        ("not a dict", "event", "expected a JSON object"),
        ({"Records": "x"}, "Records", "expected a list"),
        (
            {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}}}]},
            "Records[0].s3",
            "missing field 'object'",
        ),
        (
            {"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": "{not json"}]},
            "Records[0].body",
            "not valid JSON",
        ),
        ({"Records": [{"eventSource": "aws:sqs", "messageId": "m"}]}, "Records[0]", "missing field 'body'"),
        ({"hello": "world"}, "event", "not an S3 event"),
    ],
)
def test_malformed_events_raise_one_error_type_naming_the_field(event: Any, where: str, problem: str) -> None:
    with pytest.raises(EventParseError) as info:
        parse_s3_event(event)
    assert info.value.where == where
    assert problem in info.value.problem


def test_wrong_types_are_parse_errors_not_type_errors() -> None:
    event = load_fixture("s3Event.json")
    event["Records"][0]["s3"]["object"]["size"] = "big"
    with pytest.raises(EventParseError, match=r"s3\.object\.size"):
        parse_s3_event(event)
    event["Records"][0]["s3"]["object"]["size"] = 5
    event["Records"][0]["eventTime"] = "yesterday"
    with pytest.raises(EventParseError, match="eventTime"):
        parse_s3_event(event)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6", -1),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E5", 0),
        ("FF", "0100", 1),  # right-padded: "FF00" > "0100" (left-padding would say "00FF" < "0100")
        ("00FF", "100", -1),  # "00FF" < "1000"
        ("0055AED6DCD90281E5", "0055AED6DCD90281E5FF", -1),  # "...E500" < "...E5FF"
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5FF", 1),  # unequal lengths, the shorter is later
        ("ab", "AB", 0),  # hexadecimal: case does not matter
    ],
)
def test_sequencers_compare_after_right_padding_with_zeros(a: str, b: str, expected: int) -> None:
    """The current S3 User Guide: pad the shorter on the right with zeros, compare as strings."""
    assert compare_sequencers(a, b) == expected
    assert compare_sequencers(b, a) == -expected


def test_latest_per_key_orders_by_sequencer_not_arrival() -> None:
    def event(seq: str, name: str) -> S3ObjectEvent:
        return S3ObjectEvent("b", "k", 1, "e", name, datetime.now(UTC), seq, None, "k")

    delete, put = event("0A", "ObjectRemoved:Delete"), event("09", "ObjectCreated:Put")
    assert latest_per_key([delete, put])[("b", "k")] is delete  # the PUT arrived late but came first


# -- what moto really sends ----------------------------------------------------------------------
def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


def _as_lambda_sqs_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {"eventSource": "aws:sqs", "messageId": m["MessageId"], "body": m["Body"]} for m in messages
        ]
    }


def test_odd_keys_survive_moto_s3_to_sqs(s3: Any, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configure_notifications("bucket", [NotificationRule(arn)], s3_client=s3)
    _receive_all(sqs, url)  # the s3:TestEvent sent on configuration
    for key in ODD_KEYS:
        s3.put_object(Bucket="bucket", Key=key, Body=b"x")
    messages = _receive_all(sqs, url)
    raw = [json.loads(m["Body"])["Records"][0]["s3"]["object"]["key"] for m in messages]
    assert "in%2Fa%2Bb.csv" in raw  # moto quotes '/' too, and '+' as %2B
    events = parse_s3_event(_as_lambda_sqs_event(messages))
    assert sorted(e.key for e in events) == sorted(ODD_KEYS)
    for event in events:  # and the decoded key really names the object
        s3.head_object(Bucket=event.bucket, Key=event.key)


@pytest.mark.parametrize("raw_delivery", [False, True])
def test_odd_keys_survive_moto_s3_to_sns_to_sqs(s3: Any, sqs: Any, raw_delivery: bool) -> None:
    import boto3

    sns = boto3.client("sns", region_name="us-east-1")
    topic = sns.create_topic(Name="t")["TopicArn"]
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true" if raw_delivery else "false"},
    )
    configure_notifications("bucket", [NotificationRule(topic)], s3_client=s3)
    _receive_all(sqs, url)
    for key in ODD_KEYS:
        s3.put_object(Bucket="bucket", Key=key, Body=b"x")
    events = parse_s3_event(_as_lambda_sqs_event(_receive_all(sqs, url)))
    assert sorted(e.key for e in events) == sorted(ODD_KEYS)


def test_odd_keys_survive_moto_s3_to_eventbridge_to_sqs(s3: Any, sqs: Any) -> None:
    import boto3

    events_client = boto3.client("events", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    configure_notifications("bucket", [], eventbridge=True, s3_client=s3)
    events_client.put_rule(Name="r", EventPattern=json.dumps({"source": ["aws.s3"]}))
    events_client.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": arn}])
    for key in ODD_KEYS:
        s3.put_object(Bucket="bucket", Key=key, Body=b"x")
    events = parse_s3_event(_as_lambda_sqs_event(_receive_all(sqs, url)))
    created = [e for e in events if e.is_created]  # moto also sends "Object Tags Added" per PUT
    assert sorted(e.key for e in created) == sorted(ODD_KEYS)
    assert {e.route for e in events} == {"sqs"}
    assert all(e.etag and e.version_id is None for e in created)  # moto's "eTag" and "null" version


# -- issue 12: one vocabulary, unsupported shapes, every sample ------------------------------------
@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_powertools_sample_parses(path: Path) -> None:
    events = parse_s3_event(json.loads(path.read_text(encoding="utf-8")))
    assert events
    for event in events:
        assert event.bucket
        assert event.key
        assert ":" in event.event_name


def _eventbridge(detail_type: str, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "detail-type": detail_type,
        "source": "aws.s3",
        "time": "2026-11-27T00:00:00Z",
        "region": "us-east-1",
        "detail": {"bucket": {"name": "b"}, "object": {"key": "k", "etag": "e"}, **detail},
    }


@pytest.mark.parametrize(
    ("detail_type", "detail", "name"),
    [  # the S3 User Guide's "Amazon EventBridge mapping and troubleshooting" table
        ("Object Created", {"reason": "PutObject"}, "ObjectCreated:Put"),
        ("Object Created", {"reason": "POST Object"}, "ObjectCreated:Post"),
        ("Object Created", {"reason": "CopyObject"}, "ObjectCreated:Copy"),
        ("Object Created", {"reason": "CompleteMultipartUpload"}, "ObjectCreated:CompleteMultipartUpload"),
        (
            "Object Deleted",
            {"reason": "DeleteObject", "deletion-type": "Permanently Deleted"},
            "ObjectRemoved:Delete",
        ),
        (
            "Object Deleted",
            {"reason": "DeleteObject", "deletion-type": "Delete Marker Created"},
            "ObjectRemoved:DeleteMarkerCreated",
        ),
        (
            "Object Deleted",
            {"reason": "Lifecycle Expiration", "deletion-type": "Permanently Deleted"},
            "LifecycleExpiration:Delete",
        ),
        (
            "Object Deleted",
            {"reason": "Lifecycle Expiration", "deletion-type": "Delete Marker Created"},
            "LifecycleExpiration:DeleteMarkerCreated",
        ),
        ("Object Restore Initiated", {}, "ObjectRestore:Post"),
        ("Object Restore Completed", {}, "ObjectRestore:Completed"),
        ("Object Restore Expired", {}, "ObjectRestore:Delete"),
        ("Object Storage Class Changed", {}, "LifecycleTransition"),
        ("Object Access Tier Changed", {}, "IntelligentTiering"),
        ("Object Tags Added", {}, "ObjectTagging:Put"),
        ("Object Tags Deleted", {}, "ObjectTagging:Delete"),
        ("Object ACL Updated", {}, "ObjectAcl:Put"),
    ],
)
def test_eventbridge_detail_types_map_to_s3_event_names(
    detail_type: str, detail: dict[str, Any], name: str
) -> None:
    [event] = parse_s3_event(_eventbridge(detail_type, **detail))
    assert event.event_name == name
    assert event.is_created is name.startswith("ObjectCreated:")


@pytest.mark.parametrize("version", ["1.0", "2.0"])
def test_s3_batch_operations_events_are_refused_as_unsupported(version: str) -> None:
    event = {
        "invocationSchemaVersion": version,
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
        "job": {"id": "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"},
        "tasks": [
            {
                "taskId": "dGFza2lkZ29lc2hlcmUK",
                "s3Key": "k",
                "s3VersionId": "1",
                "s3BucketArn": "arn:aws:s3:::b",
            }
        ],
    }
    with pytest.raises(UnsupportedEventError, match="S3 Batch Operations"):
        parse_s3_event(event)
    assert issubclass(UnsupportedEventError, EventParseError)


def test_envelopes_nested_absurdly_deep_are_a_parse_error_not_a_recursion_error() -> None:
    event: dict[str, Any] = {"Records": []}
    for _ in range(2000):
        event = {"Records": [event]}
    with pytest.raises(EventParseError, match="nested more than 16 deep"):
        parse_s3_event(event)
