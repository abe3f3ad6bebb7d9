"""The fan-out route (S3 -> SNS -> SQS -> Lambda) on AWS: planned, templated, deployed on moto's
server over HTTP, run end to end with the local runtime standing in for Lambda, and torn down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.aws.deploy import Clients, Deployer
from bench.aws.inventory import find_resources, teardown
from bench.aws.plan import Plan, Resource, ResourceKind, build_plan
from bench.aws.run import RunOptions, run_on_aws
from bench.aws.template import build_template, template_plan
from event_handlers.events import parse_s3_event
from tests.aws_moto import REGION, aws_fixture, everything, moto_endpoint_fixture  # noqa: F401 - fixtures
from tests.test_aws_deploy import package, tiny
from tests.test_aws_run import check

ACCOUNT = "123456789012"
FAN = {"name": "fan", "kind": "s3-sns-sqs-lambda", "wait_time_s": 1}


def one(plan: Plan, kind: ResourceKind) -> Resource:
    [resource] = [r for r in plan.resources if r.kind is kind and r.strategy == "fan"]
    return resource


def test_the_plan_wires_topic_queue_subscription_and_notification() -> None:
    plan = build_plan(tiny([FAN]), region=REGION, account_id=ACCOUNT)
    topic, queue = one(plan, ResourceKind.TOPIC), one(plan, ResourceKind.QUEUE)
    assert topic.arn == f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic.name}"
    [publish] = one(plan, ResourceKind.TOPIC_POLICY).spec["policy"]["Statement"]
    assert (publish["Principal"], publish["Action"]) == ({"Service": "s3.amazonaws.com"}, "sns:Publish")
    bucket = one(plan, ResourceKind.BUCKET)
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"] == bucket.arn
    [send] = one(plan, ResourceKind.QUEUE_POLICY).spec["policy"]["Statement"]
    assert send["Principal"] == {"Service": "sns.amazonaws.com"}  # the topic sends, not the bucket
    assert send["Condition"]["ArnLike"]["aws:SourceArn"] == topic.arn
    subscription = one(plan, ResourceKind.SUBSCRIPTION).spec
    assert subscription == {
        "topic_arn": topic.arn,
        "protocol": "sqs",
        "endpoint": queue.arn,
        "raw_message_delivery": False,
    }
    [rule] = one(plan, ResourceKind.NOTIFICATION).spec["configuration"]["TopicConfigurations"]
    assert rule["TopicArn"] == topic.arn
    assert one(plan, ResourceKind.EVENT_SOURCE_MAPPING).spec["queue_arn"] == queue.arn
    order = [r.kind for r in plan.resources if r.strategy == "fan"]
    assert order.index(ResourceKind.SUBSCRIPTION) > order.index(ResourceKind.QUEUE)
    assert order.index(ResourceKind.NOTIFICATION) > order.index(ResourceKind.TOPIC_POLICY)
    counts = plan.estimate.counts["fan"]
    assert counts["sns.publishes"] == 3
    assert plan.estimate.per_strategy["fan"].components["sns.publishes"] > 0


def test_the_template_has_the_topic_its_policy_and_subscription_and_passes_cfn_lint() -> None:
    from cfnlint.api import lint_all

    scenario = tiny([FAN])
    plan = build_plan(scenario, region=REGION)
    template = build_template(template_plan(plan, scenario))
    by_type = {r["Type"]: (name, r) for name, r in template["Resources"].items()}
    topic_id = by_type["AWS::SNS::Topic"][0]
    subscription = by_type["AWS::SNS::Subscription"][1]["Properties"]
    assert subscription["TopicArn"] == {"Ref": topic_id}
    assert subscription["RawMessageDelivery"] is False
    assert by_type["AWS::SNS::TopicPolicy"][1]["Properties"]["Topics"] == [{"Ref": topic_id}]
    bucket = by_type["AWS::S3::Bucket"][1]
    [rule] = bucket["Properties"]["NotificationConfiguration"]["TopicConfigurations"]
    assert rule["Topic"] == {"Ref": topic_id}
    assert by_type["AWS::SNS::TopicPolicy"][0] in bucket["DependsOn"]  # S3 checks it may publish
    assert list(lint_all(json.dumps(template))) == []


def _topics(aws: Clients) -> list[str]:
    return [t["TopicArn"] for t in aws("sns").list_topics().get("Topics", [])]


def test_deploy_wires_the_route_on_moto_and_teardown_removes_the_topic_too(aws: Clients) -> None:
    before, topics_before = everything(aws), _topics(aws)
    plan = build_plan(tiny([FAN]), region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    journal = Deployer(plan, aws, package=package).deploy()
    topic = one(plan, ResourceKind.TOPIC)
    sns, sqs, s3 = aws("sns"), aws("sqs"), aws("s3")
    found = {(f.kind, f.name) for f in find_resources(aws, REGION, plan.run_id)}
    assert (ResourceKind.TOPIC, topic.name) in found
    [subscription] = sns.list_subscriptions_by_topic(TopicArn=topic.arn)["Subscriptions"]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    assert attributes["RawMessageDelivery"] == "false"
    policy = json.loads(sns.get_topic_attributes(TopicArn=topic.arn)["Attributes"]["Policy"])
    assert policy == one(plan, ResourceKind.TOPIC_POLICY).spec["policy"]
    # an object written to the bucket reaches the queue as SNS's envelope around the S3 event
    url = journal.queue_urls[one(plan, ResourceKind.QUEUE).name]
    sqs.purge_queue(QueueUrl=url)  # S3's s3:TestEvent
    bucket = one(plan, ResourceKind.BUCKET).name
    s3.put_object(Bucket=bucket, Key="incoming/a.csv", Body=b"a,b\n1,2\n")
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    body: dict[str, Any] = json.loads(message["Body"])
    assert body["Type"] == "Notification"
    assert [e.key for e in parse_s3_event(body)] == ["incoming/a.csv"]
    report = teardown(aws, REGION, plan.run_id, journal, wait_s=5.0)
    assert report.clean, (report.errors, report.left)
    assert everything(aws) == before
    assert _topics(aws) == topics_before
    assert sns.list_subscriptions()["Subscriptions"] == []


def test_the_route_runs_end_to_end_on_moto_and_leaves_nothing(aws: Clients, tmp_path: Path) -> None:
    before, topics_before = everything(aws), _topics(aws)
    scenario = tiny([FAN])
    plan = build_plan(scenario, region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    summary = run_on_aws(
        scenario, plan, aws.factory, tmp_path, RunOptions(local_lambda=True, package=package)
    )
    check(summary, tmp_path, files=3)
    fan = summary.strategies["fan"]
    assert fan.cost is not None
    assert fan.cost.run_usd["sns.publishes"] == pytest.approx(3 * 0.50 / 1e6)  # one per file
    assert everything(aws) == before
    assert _topics(aws) == topics_before


def test_every_resource_kind_is_described_and_templated() -> None:
    """A resource kind added for a route (the fan-out's three) needs a line in pve aws plan and a
    CloudFormation builder (a notification is its bucket's property)."""
    from bench.aws.render import DESCRIBE
    from bench.aws.template import BUILDERS

    assert set(DESCRIBE) == set(ResourceKind)
    assert set(BUILDERS) == set(ResourceKind) - {ResourceKind.NOTIFICATION}


def test_pve_aws_plan_names_the_fan_outs_resources(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    assert main(["aws", "plan", "fanout", "--region", REGION]) == 0
    out = capsys.readouterr().out
    assert "sns.amazonaws.com may SendMessage, only from this topic and account" in out
    assert "s3.amazonaws.com may Publish, only from this bucket and account" in out
    assert "raw message delivery off (SNS's envelope)" in out
