"""The fan-out route S3 -> SNS -> SQS -> Lambda (kind ``s3-sns-sqs-lambda``), stage by stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from bench.cost.model import (
    Deployment,
    load_pricing,
    monthly_cost,
    price_run,
    sns_cost,
)
from bench.kinds import REGISTRY, Kind
from bench.live.runner import run_scenario
from bench.results.files import read_results
from bench.results.model import StrategyResult
from bench.scenario.kinds import Family, family
from bench.scenario.spec import SnsSqsLambdaStrategy, SqsLambdaStrategy, parse_scenario
from bench.simulate.models import SimContext, SnsSqsModel, SqsModel
from event_handlers.events import parse_s3_event
from event_handlers.filters import KeyFilter
from event_handlers.runtime.latency import Distribution, LatencyProfile, load_profile, route_quantiles
from event_handlers.trigger import (
    FanoutClients,
    NotificationRule,
    OverlappingRulesError,
    configure_notifications,
    configure_s3_sns_sqs_route,
)

FILES = 10
ACCOUNT = "123456789012"


def scenario(backend: str, *strategies: dict[str, Any]) -> Any:
    return parse_scenario(
        {
            "name": f"fanout-{backend}",
            "seed": 5,
            "backend": backend,
            "drain_timeout_s": 20,
            "workload": {
                "key_style": "odd",
                "arrivals": {"process": "poisson", "rate_per_s": 30.0, "count": FILES},
                "content": {"kind": "csv", "rows": 5},
            },
            "strategies": list(strategies),
        },
        "test",
    )


FAN = {"name": "fan", "kind": "s3-sns-sqs-lambda", "wait_time_s": 1, "batch_size": 5}


# -- scenario ---------------------------------------------------------------------------------------
def test_the_kind_has_the_queue_knobs_and_raw_delivery_off_by_default() -> None:
    spec = scenario("moto", FAN).strategies[0]
    assert isinstance(spec, SnsSqsLambdaStrategy)
    assert not isinstance(spec, SqsLambdaStrategy)  # its own kind, not an SQS route in disguise
    assert spec.raw_message_delivery is False
    assert (spec.batch_size, spec.wait_time_s) == (5, 1)
    assert family("s3-sns-sqs-lambda") is family("s3-sqs-lambda") is Family.QUEUE
    assert REGISTRY[Kind.S3_SNS_SQS_LAMBDA].routes == ("s3_to_sns_to_sqs", "sqs_to_lambda")


def test_a_batch_above_ten_without_a_window_is_refused_as_for_sqs() -> None:
    with pytest.raises(ValueError, match="batching_window_s"):
        scenario("moto", {**FAN, "batch_size": 50})


# -- wiring -----------------------------------------------------------------------------------------
@pytest.fixture
def aws() -> Any:
    with mock_aws():
        clients = FanoutClients(
            s3=boto3.client("s3", region_name="us-east-1"),
            sns=boto3.client("sns", region_name="us-east-1"),
            sqs=boto3.client("sqs", region_name="us-east-1"),
        )
        clients.s3.create_bucket(Bucket="pve-fan")
        url = clients.sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        yield clients, url, arn


def _wire(aws: Any, raw: bool = False) -> Any:
    clients, url, arn = aws
    return configure_s3_sns_sqs_route(
        "pve-fan",
        url,
        arn,
        topic_name="t",
        account_id=ACCOUNT,
        prefix="in/",
        raw_message_delivery=raw,
        clients=clients,
    )


def _bodies(clients: FanoutClients, url: str) -> list[Any]:
    messages = clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_the_route_wires_topic_policy_queue_policy_subscription_and_rule(aws: Any) -> None:
    clients, url, arn = aws
    route = _wire(aws)
    topic = json.loads(clients.sns.get_topic_attributes(TopicArn=route.topic_arn)["Attributes"]["Policy"])
    [publish] = topic["Statement"]
    assert publish["Principal"] == {"Service": "s3.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:s3:::pve-fan"
    assert publish["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    queue = json.loads(
        clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]["Policy"]
    )
    [send] = queue["Statement"]
    assert send["Principal"] == {"Service": "sns.amazonaws.com"}
    assert send["Condition"] == {"ArnLike": {"aws:SourceArn": route.topic_arn}}  # the ARN names the account
    attributes = clients.sns.get_subscription_attributes(SubscriptionArn=route.subscription_arn)["Attributes"]
    assert attributes["Endpoint"] == arn
    assert attributes["RawMessageDelivery"] == "false"
    [rule] = clients.s3.get_bucket_notification_configuration(Bucket="pve-fan")["TopicConfigurations"]
    assert rule["TopicArn"] == route.topic_arn


def test_raw_delivery_off_puts_the_sns_envelope_in_the_queue_and_the_parser_unwraps_it(aws: Any) -> None:
    clients, url, _ = aws
    _wire(aws)
    clients.sqs.purge_queue(QueueUrl=url)  # S3's s3:TestEvent
    clients.s3.put_object(Bucket="pve-fan", Key="in/a b+c.csv", Body=b"x")
    [body] = _bodies(clients, url)
    assert body["Type"] == "Notification"
    assert json.loads(body["Message"])["Records"][0]["eventSource"] == "aws:s3"
    [event] = parse_s3_event(body)
    assert (event.key, event.route) == ("in/a b+c.csv", "sns")


def test_raw_delivery_on_puts_the_s3_event_itself_in_the_queue(aws: Any) -> None:
    clients, url, _ = aws
    _wire(aws, raw=True)
    clients.sqs.purge_queue(QueueUrl=url)
    clients.s3.put_object(Bucket="pve-fan", Key="in/x.csv", Body=b"x")
    [body] = _bodies(clients, url)
    assert "Type" not in body
    assert body["Records"][0]["eventSource"] == "aws:s3"


def test_the_bucket_keeps_its_other_rules_and_an_overlapping_one_is_refused(aws: Any) -> None:
    clients, url, arn = aws
    configure_notifications(
        "pve-fan", [NotificationRule(arn, filter=KeyFilter("other/"))], s3_client=clients.s3
    )
    _wire(aws)
    config = clients.s3.get_bucket_notification_configuration(Bucket="pve-fan")
    assert len(config["QueueConfigurations"]) == len(config["TopicConfigurations"]) == 1
    with pytest.raises(OverlappingRulesError, match="overlap"):
        configure_s3_sns_sqs_route(
            "pve-fan", url, arn, topic_name="t2", account_id=ACCOUNT, prefix="in/sub/", clients=clients
        )


# -- live ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["moto", "moto-server"])
def test_the_route_runs_live_and_processes_every_file_once(backend: str, tmp_path: Path) -> None:
    run = run_scenario(scenario(backend, FAN), tmp_path)
    s = run.strategies["fan"]
    assert (s.files, s.processed, s.failed, s.missed, s.duplicates) == (FILES, FILES, 0, 0, 0)
    assert s.api_calls["s3.GetObject"] == s.api_calls["s3.PutObject"] == FILES
    assert s.api_calls["sqs.DeleteMessageBatch"] == s.counters["batches"]
    setup = s.repetitions[0].api_calls_by_role["setup"]
    assert setup["sns.CreateTopic"] == setup["sns.Subscribe"] == setup["sns.SetTopicAttributes"] == 1
    assert s.counters["records"] == FILES + 1  # S3's s3:TestEvent through the topic too
    cost = price_run(s)
    assert cost.components["sns.publishes"] == pytest.approx((FILES + 1) * 0.50 / 1e6)


def test_a_live_run_waits_the_profiles_topic_hop_not_the_plain_queues(tmp_path: Path) -> None:
    profile = tmp_path / "hop.toml"
    profile.write_text(
        'name = "hop"\n'
        '[routes.s3_to_sns_to_sqs]\ndistribution = "constant"\nvalue_s = 0.4\n'
        '[routes.s3_to_sqs]\ndistribution = "constant"\nvalue_s = 0.0\n'
    )
    base = scenario("moto", FAN).model_dump()
    base["latency_profile"] = str(profile)
    run = run_scenario(parse_scenario(base, "test"), tmp_path / "out")
    s = run.strategies["fan"]
    assert s.processed == FILES
    records = read_results(tmp_path / "out").records
    delays = records["detected_at"] - records["written_at"]
    assert delays.min() >= 0.4  # the fan-out's own route, every file


# -- simulate -----------------------------------------------------------------------------------------
def _context(s3_to_sqs: float, via_topic: float) -> SimContext:
    routes = {
        "s3_to_sqs": Distribution("constant", {"value_s": s3_to_sqs}),
        "s3_to_sns_to_sqs": Distribution("constant", {"value_s": via_topic}),
    }
    profile = LatencyProfile("test", "", routes)
    return SimContext(profile, Distribution("constant", {"value_s": 0.01}), 0.0, 0.0, seed=1, horizon_s=600.0)


def test_the_simulator_adds_the_topic_hop_where_the_sqs_model_has_s3_to_sqs() -> None:
    spec = scenario("moto", FAN).strategies[0]
    arrivals = np.arange(20, dtype=float)
    fan = REGISTRY[Kind.S3_SNS_SQS_LAMBDA].sim_model(spec, _context(0.0, 5.0), 0.5)
    assert isinstance(fan, SnsSqsModel)
    result = fan.chunk(arrivals)
    fan.finish(60.0)
    assert (result.finished >= arrivals + 5.0).all()
    sqs = SqsModel(spec, _context(0.0, 5.0))  # the same spec through the plain queue model: no hop
    assert (sqs.chunk(arrivals).finished < arrivals + 1.0).all()
    assert fan.totals.counters["records"] == 21  # one publish each, and the s3:TestEvent


def test_the_aws_profile_puts_the_topic_hop_on_top_of_s3_to_sqs() -> None:
    profile = load_profile("aws")
    fan = route_quantiles(profile, "s3-sns-sqs-lambda", n=50_000)
    sqs = route_quantiles(profile, "s3-sqs-lambda", n=50_000)
    assert 0.02 < fan[0.5] - sqs[0.5] < 0.2  # the SNS -> SQS leg's median, 73 ms (an assumption)


# -- cost -----------------------------------------------------------------------------------------------
def test_a_month_costs_the_queue_route_plus_one_sns_publish_per_file() -> None:
    files = 3_000_000
    sqs = monthly_cost(Deployment("s3-sqs-lambda"), files)
    fan = monthly_cost(Deployment("s3-sns-sqs-lambda"), files)
    assert fan.components["sns.publishes"] == pytest.approx(files * 0.50 / 1e6)
    assert fan.total == pytest.approx(sqs.total + files * 0.50 / 1e6)
    free = monthly_cost(Deployment("s3-sns-sqs-lambda"), files, free_tier=True)
    assert free.components["sns.publishes"] == pytest.approx((files - 1e6) * 0.50 / 1e6)
    assert sns_cost(10, pricing=load_pricing()).total == pytest.approx(5e-6)


def test_a_run_is_charged_its_publishes_and_the_deliveries_to_the_queue() -> None:
    s = StrategyResult(
        kind="s3-sns-sqs-lambda",
        backend="moto",
        files=100,
        processed=100,
        api_calls={"sqs.ReceiveMessage": 10},
        counters={"records": 101},
    )
    plain = price_run(s.model_copy(update={"kind": "s3-sqs-lambda"}))
    fan = price_run(s)
    assert fan.components["sns.publishes"] == pytest.approx(101 * 0.5e-6)
    assert fan.total == pytest.approx(plain.total + 101 * 0.5e-6)


# -- decide ---------------------------------------------------------------------------------------------
def test_decide_ranks_the_fan_out_a_topic_publish_above_the_queue_at_the_same_configuration() -> None:
    from bench.decide.api import decide_workload

    decision = decide_workload(100_000, samples=4)
    by_kind = {o.kind: o for o in decision.options}
    fan, sqs = by_kind["s3-sns-sqs-lambda"], by_kind["s3-sqs-lambda"]
    assert fan.rank > 0
    assert fan.feasible
    assert fan.configuration == sqs.configuration  # the same search space, the same choice here
    publishes = 100_000 * load_pricing().month_s / 86400.0 * 0.50 / 1e6
    assert fan.components["sns.publishes"] == pytest.approx(publishes)
    assert fan.monthly_point == pytest.approx(sqs.monthly_point + publishes)
    assert fan.latency.p50 > sqs.latency.p50  # the topic's hop


def test_a_run_that_counts_no_notifications_is_charged_one_per_file() -> None:
    """A run on AWS reads no ``records`` count from the function's logs: S3 still sent a notification
    (to the queue, or to the topic) for every file."""
    for kind, lines in (
        ("s3-sqs-lambda", {"sqs.requests"}),
        ("s3-sns-sqs-lambda", {"sqs.requests", "sns.publishes"}),
    ):
        s = StrategyResult(kind=kind, backend="aws", files=40, processed=40, counters={"invocations": 4})
        cost = price_run(s)
        assert lines <= set(cost.components)
        assert cost.components["sqs.requests"] == pytest.approx(40 * 0.40 / 1e6)
