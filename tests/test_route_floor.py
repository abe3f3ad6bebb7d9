"""A route's own floor: the least work the route needs per file, played without the runtime."""

from __future__ import annotations

import pytest

from bench.live import route_floor
from bench.live.backends import fresh_backend
from bench.live.route_floor import RouteFloor, route_floors


def _summaries(env: route_floor.BackendEnv) -> int:
    s3 = env.client("s3", "setup")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=env.bucket, Prefix="summaries/")
    return sum(page.get("KeyCount", 0) for page in pages)


@pytest.mark.parametrize("play", [route_floor._s3_lambda, route_floor._s3_lambda_two_threads])
def test_the_s3_lambda_floor_processes_every_notified_file(play: route_floor.Play) -> None:
    with fresh_backend("moto", bucket="pve-route-floor") as env:
        assert play(env, 15, 1) > 0
        assert _summaries(env) == 15 + 10  # and the ten warm-up files


@pytest.mark.parametrize(
    "play", [route_floor._s3_eventbridge_lambda, route_floor._s3_eventbridge_lambda_two_threads]
)
def test_the_eventbridge_floor_processes_every_file_its_rule_matched(play: route_floor.Play) -> None:
    with fresh_backend("moto", bucket="pve-route-floor") as env:
        assert play(env, 15, 1) > 0
        assert _summaries(env) == 15 + 10  # and the ten warm-up files
        rules = env.client("events", "setup").list_rules()["Rules"]
        assert [r["Name"] for r in rules] == ["pve-route-floor"]  # delivered through the rule


@pytest.mark.parametrize("batch", [1, 4])
def test_the_sqs_floor_receives_processes_and_deletes_every_message(batch: int) -> None:
    with fresh_backend("moto", bucket="pve-route-floor") as env:
        assert route_floor._s3_sqs_lambda(env, 12, batch) > 0
        assert _summaries(env) == 12 + batch  # and one warm-up batch
        sqs = env.client("sqs", "setup")
        url = sqs.get_queue_url(QueueName="pve-route-floor")["QueueUrl"]
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert left["ApproximateNumberOfMessages"] == "0"
        assert left["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_the_fan_out_floor_goes_through_the_topic_and_unwraps_its_envelope() -> None:
    with fresh_backend("moto", bucket="pve-route-floor") as env:
        assert route_floor._s3_sns_sqs_lambda(env, 6, 3) > 0
        assert _summaries(env) == 6 + 3  # and one warm-up batch
        [topic] = env.client("sns", "setup").list_topics()["Topics"]
        assert topic["TopicArn"].endswith(":pve-route-floor")
    floors = route_floors("s3-sns-sqs-lambda", files=10)
    assert [f.batch_size for f in floors] == [1, 10]
    assert all("the topic, which delivers to the queue" in f.steps for f in floors)


def test_each_event_route_has_its_floors_and_other_kinds_none() -> None:
    floors = route_floors("s3-sqs-lambda", files=20)
    assert [(f.label, f.batch_size, f.files) for f in floors] == [
        ("one thread, batch 1", 1, 20),
        ("one thread, batch 10", 10, 20),
    ]
    assert all(f.files_per_s > 0 and "ReceiveMessage" in f.steps for f in floors)
    assert [f.label for f in route_floors("s3-lambda", files=5)] == ["one thread", "two threads"]
    eventbridge = route_floors("s3-eventbridge-lambda", files=5)
    assert [f.label for f in eventbridge] == ["one thread", "two threads"]
    assert all("EventBridge" in f.steps for f in eventbridge)
    assert route_floors("poll") == []


def test_a_route_floor_is_ratioed_to_the_in_process_floor() -> None:
    floor = RouteFloor("s3-sqs-lambda", "one thread, batch 1", "moto", files=60, seconds=2.0)
    assert floor.files_per_s == 30.0
    entry = floor.as_dict(floor_files_per_s=40.0)
    assert entry["vs_floor"] == 0.75
    assert entry["per_file_s"] == pytest.approx(1 / 30, abs=1e-6)
    assert "vs_floor" not in floor.as_dict()


def test_a_failing_function_thread_raises_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise ValueError("no such key")

    monkeypatch.setattr(route_floor, "_process", broken)
    with fresh_backend("moto", bucket="pve-route-floor") as env, pytest.raises(RuntimeError) as caught:
        route_floor._s3_lambda_two_threads(env, 5, 1)
    assert isinstance(caught.value.__cause__, ValueError)


def test_notifications_that_never_arrive_raise_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(route_floor, "PATIENCE_S", 0.3)
    monkeypatch.setattr(route_floor, "configure_notifications", lambda *a, **k: None)
    with (
        fresh_backend("moto", bucket="pve-route-floor") as env,
        pytest.raises(RuntimeError, match="never reached"),
    ):
        route_floor._s3_sqs_lambda(env, 4, 2)
