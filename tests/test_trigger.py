"""Trigger wiring against moto: read the configuration and the policy back."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest

from event_handlers.filters import KeyFilter
from event_handlers.trigger import (
    NotificationRule,
    OverlappingRulesError,
    allow_s3_to_invoke_lambda,
    bucket_arn,
    build_notification_configuration,
    check_no_overlap,
    configure_notifications,
    configure_s3_eventbridge_route,
    configure_s3_lambda_trigger,
    read_notification_rules,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"


@pytest.fixture
def lam(aws: None) -> Any:
    iam = boto3.client("iam", region_name="us-east-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = boto3.client("lambda", region_name="us-east-1")
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("h.py", "def lambda_handler(event, context):\n    return None\n")
    client.create_function(
        FunctionName="f",
        Runtime="python3.11",
        Role=role,
        Handler="h.lambda_handler",
        Code={"ZipFile": package.getvalue()},
    )
    return client


def test_permission_has_a_clean_source_arn_and_the_source_account(lam: Any) -> None:
    statement = allow_s3_to_invoke_lambda(
        "f", "my-bucket", lambda_client=lam, sts_client=boto3.client("sts", region_name="us-east-1")
    )
    policy = json.loads(lam.get_policy(FunctionName="f")["Policy"])
    [stored] = policy["Statement"]
    assert stored["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:s3:::my-bucket"  # no '$'
    assert stored["Condition"]["StringEquals"]["AWS:SourceAccount"] == "123456789012"
    assert stored["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Sid"] == "AllowS3Invoke"


def test_bucket_arn_refuses_template_leftovers() -> None:
    assert bucket_arn("b-1") == "arn:aws:s3:::b-1"
    with pytest.raises(ValueError, match="not a bucket name"):
        bucket_arn("${bucket_name}")


def test_seed_trigger_keeps_other_rules_and_reads_back(s3: Any, lam: Any) -> None:
    configure_notifications("bucket", [NotificationRule(QUEUE, filter=KeyFilter("raw/"))], s3_client=s3)
    configure_s3_lambda_trigger("bucket", "f", s3_client=s3, lambda_client=lam)
    rules = {r.target_arn: r for r in read_notification_rules("bucket", s3_client=s3)}
    assert rules[FN].filter == KeyFilter("uploads/", ".csv")
    assert rules[FN].events == ("s3:ObjectCreated:*",)
    assert rules[FN].rule_id == "ProcessNewObjects"
    assert rules[QUEUE].filter == KeyFilter("raw/")


def test_overlapping_rules_are_refused_naming_both() -> None:
    with pytest.raises(OverlappingRulesError, match="overlap on s3:ObjectCreated"):
        check_no_overlap(
            [
                NotificationRule(FN, filter=KeyFilter("uploads/")),
                NotificationRule(QUEUE, ("s3:ObjectCreated:Put",), KeyFilter("uploads/images/")),
            ]
        )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ((("s3:ObjectCreated:*",), KeyFilter("a/")), (("s3:ObjectCreated:*",), KeyFilter("b/"))),
        ((("s3:ObjectCreated:*",), KeyFilter("", ".csv")), (("s3:ObjectCreated:*",), KeyFilter("", ".png"))),
        ((("s3:ObjectCreated:Put",), KeyFilter()), (("s3:ObjectCreated:Copy",), KeyFilter())),
        ((("s3:ObjectCreated:*",), KeyFilter()), (("s3:ObjectRemoved:*",), KeyFilter())),
    ],
)
def test_disjoint_rules_are_accepted(a: Any, b: Any) -> None:
    check_no_overlap([NotificationRule(FN, *a), NotificationRule(QUEUE, *b)])


def test_configuration_document_has_the_aws_shape() -> None:
    config = build_notification_configuration(
        [
            NotificationRule(FN, filter=KeyFilter("in/", ".csv"), rule_id="x"),
            NotificationRule("arn:aws:sns:us-east-1:1:t", filter=KeyFilter("other/")),
        ],
        eventbridge=True,
    )
    assert config["LambdaFunctionConfigurations"][0] == {
        "LambdaFunctionArn": FN,
        "Events": ["s3:ObjectCreated:*"],
        "Id": "x",
        "Filter": {
            "Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}, {"Name": "suffix", "Value": ".csv"}]}
        },
    }
    assert config["TopicConfigurations"][0]["TopicArn"].endswith(":t")
    assert config["EventBridgeConfiguration"] == {}


def test_targets_other_than_lambda_sqs_sns_are_refused() -> None:
    with pytest.raises(ValueError, match="Lambda, SQS or SNS"):
        build_notification_configuration([NotificationRule("arn:aws:states:us-east-1:1:stateMachine:x")])


def test_eventbridge_route_reads_back(s3: Any, lam: Any) -> None:
    events = boto3.client("events", region_name="us-east-1")
    rule_arn = configure_s3_eventbridge_route(
        "bucket", FN, rule_name="pve", prefix="in/", events_client=events, s3_client=s3, lambda_client=lam
    )
    # moto 5.2 stores EventBridgeConfiguration but leaves it out of GetBucketNotificationConfiguration
    from moto.s3.models import s3_backends

    stored = s3_backends["123456789012"]["aws"].buckets["bucket"].notification_configuration
    assert stored is not None
    assert stored.event_bridge == {}
    pattern = json.loads(events.describe_rule(Name="pve")["EventPattern"])
    assert pattern["detail"] == {"bucket": {"name": ["bucket"]}, "object": {"key": [{"prefix": "in/"}]}}
    assert pattern["detail-type"] == ["Object Created"]
    assert events.list_targets_by_rule(Rule="pve")["Targets"][0]["Arn"] == FN
    [statement] = json.loads(lam.get_policy(FunctionName="f")["Policy"])["Statement"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule_arn


def test_filters_for_a_target_are_read_back(s3: Any) -> None:
    from event_handlers.trigger import filters_for_target

    configure_notifications(
        "bucket",
        [
            NotificationRule(FN, filter=KeyFilter("uploads/", ".png")),
            NotificationRule(QUEUE, filter=KeyFilter("raw/")),
        ],
        s3_client=s3,
    )
    assert filters_for_target("bucket", FN, s3_client=s3) == [KeyFilter("uploads/", ".png")]


# -- least privilege ------------------------------------------------------------------------------
def _grants(**overrides: Any) -> Any:
    from event_handlers.permissions import FunctionGrants

    fields: dict[str, Any] = {
        "function_name": "f",
        "bucket": "my-bucket",
        "watched_prefix": "incoming/",
        "output_prefix": "summaries/",
        "region": "us-east-1",
        "account_id": "123456789012",
        "queue_arn": QUEUE,
        "dlq_arn": "arn:aws:sqs:us-east-1:123456789012:dlq",
        "ledger_table_arn": "arn:aws:dynamodb:us-east-1:123456789012:table/ledger",
    }
    return FunctionGrants(**{**fields, **overrides})


def test_the_execution_role_gets_exactly_what_the_function_needs(aws: None) -> None:
    from event_handlers.permissions import POLICY_NAME, attach_function_policy

    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="f-role", AssumeRolePolicyDocument="{}")
    attach_function_policy(iam, "f-role", _grants())
    stored = iam.get_role_policy(RoleName="f-role", PolicyName=POLICY_NAME)["PolicyDocument"]
    document = json.loads(stored) if isinstance(stored, str) else stored
    granted = {
        (action, resource)
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
        for resource in statement["Resource"]
    }
    logs = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/f:*"
    assert granted == {
        ("s3:GetObject", "arn:aws:s3:::my-bucket/incoming/*"),
        ("s3:PutObject", "arn:aws:s3:::my-bucket/summaries/*"),
        ("sqs:ReceiveMessage", QUEUE),
        ("sqs:DeleteMessage", QUEUE),
        ("sqs:GetQueueAttributes", QUEUE),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:dlq"),
        *(
            (f"dynamodb:{a}", "arn:aws:dynamodb:us-east-1:123456789012:table/ledger")
            for a in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
        ),
        ("logs:CreateLogGroup", logs),
        ("logs:CreateLogStream", logs),
        ("logs:PutLogEvents", logs),
    }
    assert iam.list_attached_role_policies(RoleName="f-role")["AttachedPolicies"] == []


def test_a_route_without_queue_ledger_or_output_gets_no_such_grants() -> None:
    from event_handlers.permissions import function_policy

    document = function_policy(_grants(queue_arn=None, ledger_table_arn=None, output_prefix=None))
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not any(a.startswith(("dynamodb:", "sqs:Receive", "s3:Put")) for a in actions)
    assert "sqs:SendMessage" in actions  # the dead-letter queue stays
