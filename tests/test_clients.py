"""Every request is counted once per attempt, by role, and the writer's are kept apart."""

from __future__ import annotations

from typing import Any

from bench.live.backends import FAKE_CREDENTIALS
from bench.live.clients import ApiCallCounter, ClientFactory


def test_requests_are_counted_per_role_and_operation(aws: None) -> None:
    counter = ApiCallCounter()
    clients = ClientFactory(counter, credentials=FAKE_CREDENTIALS)
    writer, poller = clients.client("s3", "writer"), clients.client("s3", "poller")
    writer.create_bucket(Bucket="bkt")
    for i in range(3):
        writer.put_object(Bucket="bkt", Key=f"k{i}", Body=b"x")
    poller.list_objects_v2(Bucket="bkt")
    poller.get_object(Bucket="bkt", Key="k0")
    assert counter.by_role() == {
        "writer": {"s3.CreateBucket": 1, "s3.PutObject": 3},
        "poller": {"s3.GetObject": 1, "s3.ListObjectsV2": 1},
    }
    assert counter.for_roles() == {"s3.GetObject": 1, "s3.ListObjectsV2": 1}  # the writer excluded
    assert counter.total() == 2
    assert clients.client("s3", "poller") is poller


def test_each_retry_attempt_is_a_counted_request(aws: None) -> None:
    counter = ApiCallCounter()
    client = ClientFactory(counter, credentials=FAKE_CREDENTIALS, max_attempts=3).client("s3", "poller")
    client.create_bucket(Bucket="bkt")
    fails = {"left": 2}

    def throttle(**kwargs: Any) -> Any:
        if fails["left"]:
            fails["left"] -= 1
            from botocore.awsrequest import AWSResponse

            response = AWSResponse("https://s3", 503, {}, None)
            response._content = b"<Error><Code>SlowDown</Code></Error>"  # type: ignore[attr-defined]
            return response
        return None

    client.meta.events.register_first("before-send.s3.ListObjectsV2", throttle)
    client.list_objects_v2(Bucket="bkt")
    assert counter.for_roles()["s3.ListObjectsV2"] == 3  # two throttled attempts and the success
