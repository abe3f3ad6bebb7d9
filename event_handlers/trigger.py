"""Wire a bucket's notifications to Lambda, SQS, SNS or EventBridge; works on moto and on AWS.

Fixes from the seed: the permission's ``SourceArn`` is ``arn:aws:s3:::bucket`` (the seed's
f-string ``f'arn:aws:s3:::${bucket_name}'`` put a literal ``$`` in it, so the condition never
matched), and ``SourceAccount`` is added because bucket ARNs carry no account id: without it a
bucket of the same name in another account could invoke the function. Rules whose filters
overlap for the same event type are refused here, with both rules named, before S3 refuses them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from event_handlers.errors import ConfigError
from event_handlers.filters import KeyFilter

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_lambda.client import LambdaClient
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.type_defs import (
        LambdaFunctionConfigurationOutputTypeDef,
        NotificationConfigurationTypeDef,
        QueueConfigurationOutputTypeDef,
        TopicConfigurationOutputTypeDef,
    )
    from types_boto3_sns.client import SNSClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sts.client import STSClient

CREATED = "s3:ObjectCreated:*"


class OverlappingRulesError(ConfigError):
    """Two notification rules could match the same key for the same event type."""


@dataclass(frozen=True)
class NotificationRule:
    """Send ``events`` for keys matching ``filter`` to ``target_arn`` (Lambda, SQS or SNS)."""

    target_arn: str
    events: tuple[str, ...] = (CREATED,)
    filter: KeyFilter = field(default_factory=KeyFilter)
    rule_id: str | None = None

    @property
    def service(self) -> str:
        parts = self.target_arn.split(":")
        if len(parts) < 6 or parts[0] != "arn":
            raise ConfigError(f"not an ARN: {self.target_arn!r}")
        return parts[2]

    def to_aws(self) -> tuple[str, dict[str, Any]]:
        """(configuration list name, entry) as ``PutBucketNotificationConfiguration`` wants them."""
        kinds = {
            "lambda": ("LambdaFunctionConfigurations", "LambdaFunctionArn"),
            "sqs": ("QueueConfigurations", "QueueArn"),
            "sns": ("TopicConfigurations", "TopicArn"),
        }
        if self.service not in kinds:
            raise ConfigError(f"S3 notifications go to Lambda, SQS or SNS, not {self.service!r}")
        list_name, arn_field = kinds[self.service]
        entry: dict[str, Any] = {arn_field: self.target_arn, "Events": list(self.events)}
        if self.rule_id:
            entry["Id"] = self.rule_id
        rules = [
            {"Name": n, "Value": v}
            for n, v in (("prefix", self.filter.prefix), ("suffix", self.filter.suffix))
            if v
        ]
        if rules:
            entry["Filter"] = {"Key": {"FilterRules": rules}}
        return list_name, entry


def _events_overlap(a: str, b: str) -> bool:
    """``s3:ObjectCreated:*`` overlaps ``s3:ObjectCreated:Put``; ``Put`` does not overlap ``Copy``."""
    if a == b:
        return True
    a_family, b_family = a.rsplit(":", 1)[0], b.rsplit(":", 1)[0]
    return a_family == b_family and (a.endswith(":*") or b.endswith(":*"))


def check_no_overlap(rules: Sequence[NotificationRule]) -> None:
    """Raise ``OverlappingRulesError`` if two rules could fire for the same key and event type."""
    for i, first in enumerate(rules):
        for second in rules[i + 1 :]:
            shared = [a for a in first.events for b in second.events if _events_overlap(a, b)]
            if shared and first.filter.overlaps(second.filter):
                raise OverlappingRulesError(
                    f"rules for {first.target_arn} ({first.filter.describe()}) and "
                    f"{second.target_arn} ({second.filter.describe()}) overlap on {shared[0]}: "
                    "S3 rejects overlapping filters for the same event type"
                )


def build_notification_configuration(
    rules: Sequence[NotificationRule], *, eventbridge: bool = False
) -> dict[str, Any]:
    """The ``NotificationConfiguration`` document for ``rules`` (validated for overlaps)."""
    check_no_overlap(rules)
    config: dict[str, Any] = {}
    for rule in rules:
        list_name, entry = rule.to_aws()
        config.setdefault(list_name, []).append(entry)
    if eventbridge:
        config["EventBridgeConfiguration"] = {}
    return config


def configure_notifications(
    bucket_name: str,
    rules: Sequence[NotificationRule],
    *,
    eventbridge: bool = False,
    s3_client: S3Client | None = None,
) -> dict[str, Any]:
    """Replace the bucket's notification configuration with ``rules``; returns what was sent."""
    config = build_notification_configuration(rules, eventbridge=eventbridge)
    # the document is built from validated rules; its event names are plain strings where the stub
    # wants its Literal names, and S3 itself rejects an unknown event name
    document = cast("NotificationConfigurationTypeDef", config)
    _client("s3", s3_client).put_bucket_notification_configuration(
        Bucket=bucket_name, NotificationConfiguration=document
    )
    return config


def read_notification_rules(bucket_name: str, *, s3_client: S3Client | None = None) -> list[NotificationRule]:
    """The bucket's current rules, read back (to check them, or to guard against loops)."""
    config = _client("s3", s3_client).get_bucket_notification_configuration(Bucket=bucket_name)
    targets: list[
        tuple[
            str,
            LambdaFunctionConfigurationOutputTypeDef
            | QueueConfigurationOutputTypeDef
            | TopicConfigurationOutputTypeDef,
        ]
    ] = [
        *((c["LambdaFunctionArn"], c) for c in config.get("LambdaFunctionConfigurations", [])),
        *((c["QueueArn"], c) for c in config.get("QueueConfigurations", [])),
        *((c["TopicArn"], c) for c in config.get("TopicConfigurations", [])),
    ]
    rules = []
    for target_arn, entry in targets:
        values = {
            r["Name"].lower(): r["Value"]
            for r in entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
        }
        rules.append(
            NotificationRule(
                target_arn=target_arn,
                events=tuple(entry["Events"]),
                filter=KeyFilter(values.get("prefix", ""), values.get("suffix", "")),
                rule_id=entry.get("Id"),
            )
        )
    return rules


def filters_for_target(
    bucket_name: str, target_arn: str, *, s3_client: S3Client | None = None
) -> list[KeyFilter]:
    """The filters of the rules that send this bucket's events to ``target_arn``."""
    return [
        r.filter
        for r in read_notification_rules(bucket_name, s3_client=s3_client)
        if r.target_arn == target_arn
    ]


def bucket_arn(bucket_name: str, partition: str = "aws") -> str:
    """``arn:aws:s3:::bucket``: no region, no account, and certainly no ``$``."""
    if not bucket_name or "$" in bucket_name or "{" in bucket_name:
        raise ConfigError(f"not a bucket name: {bucket_name!r}")
    return f"arn:{partition}:s3:::{bucket_name}"


def allow_s3_to_invoke_lambda(
    function_name: str,
    bucket_name: str,
    *,
    account_id: str | None = None,
    statement_id: str = "AllowS3Invoke",
    partition: str = "aws",
    lambda_client: LambdaClient | None = None,
    sts_client: STSClient | None = None,
) -> dict[str, Any]:
    """Let this bucket, in this account, invoke the function. Returns the statement added."""
    if account_id is None:
        account_id = _client("sts", sts_client).get_caller_identity()["Account"]
    response = _client("lambda", lambda_client).add_permission(
        FunctionName=function_name,
        StatementId=statement_id,
        Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com",
        SourceArn=bucket_arn(bucket_name, partition),
        SourceAccount=account_id,
    )
    statement: dict[str, Any] = json.loads(response["Statement"])
    return statement


def configure_s3_lambda_trigger(
    bucket_name: str,
    function_name: str,
    *,
    prefix: str = "uploads/",
    suffix: str = ".csv",
    events: Sequence[str] = (CREATED,),
    rule_id: str = "ProcessNewObjects",
    s3_client: S3Client | None = None,
    lambda_client: LambdaClient | None = None,
) -> dict[str, Any]:
    """The seed's function: S3 -> Lambda for new objects matching ``prefix``/``suffix``.

    Unlike the seed it keeps the bucket's other rules (refusing overlaps with them) instead of
    silently replacing the whole configuration.
    """
    function_arn = _client("lambda", lambda_client).get_function(FunctionName=function_name)["Configuration"][
        "FunctionArn"
    ]
    s3 = _client("s3", s3_client)
    existing = [r for r in read_notification_rules(bucket_name, s3_client=s3) if r.rule_id != rule_id]
    rule = NotificationRule(function_arn, tuple(events), KeyFilter(prefix, suffix), rule_id)
    eventbridge = "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket_name)
    return configure_notifications(bucket_name, [*existing, rule], eventbridge=eventbridge, s3_client=s3)


def _service_may(
    sid: str, service: str, action: str, resource: str, source_arn: str, account_id: str | None
) -> dict[str, Any]:
    """A resource policy letting one AWS service, on behalf of one source (in one account, when the
    source's ARN does not name its account, as a bucket's does not), do one action."""
    condition: dict[str, Any] = {"ArnLike": {"aws:SourceArn": source_arn}}
    if account_id is not None:
        condition["StringEquals"] = {"aws:SourceAccount": account_id}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": action,
                "Resource": resource,
                "Condition": condition,
            }
        ],
    }


def queue_policy(queue_arn: str, source_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """The queue policy letting one bucket, in one account, send its notifications (and nothing else)."""
    return _service_may(
        "AllowS3Notifications",
        "s3.amazonaws.com",
        "sqs:SendMessage",
        queue_arn,
        source_bucket_arn,
        account_id,
    )


def topic_policy(topic_arn: str, source_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """The topic policy letting one bucket, in one account, publish its notifications (S3 User
    Guide, "Granting permissions to publish event notification messages to a destination")."""
    return _service_may(
        "AllowS3Publish", "s3.amazonaws.com", "sns:Publish", topic_arn, source_bucket_arn, account_id
    )


def topic_queue_policy(queue_arn: str, topic_arn: str) -> dict[str, Any]:
    """The queue policy letting one SNS topic deliver to the queue (SNS Developer Guide, "Fanout
    to Amazon SQS queues": the queue must allow ``sqs:SendMessage`` from the topic). The topic's
    ARN names its account, so ``aws:SourceArn`` alone pins it, as AWS's examples do; a
    ``aws:SourceAccount`` condition is left out (no AWS page says SNS sets it on a delivery)."""
    return _service_may(
        "AllowTopicDelivery", "sns.amazonaws.com", "sqs:SendMessage", queue_arn, topic_arn, None
    )


def allow_s3_to_send_to_queue(
    queue_url: str, queue_arn: str, bucket_name: str, account_id: str, *, sqs_client: SQSClient | None = None
) -> None:
    """Set ``queue_policy`` on the queue: this bucket (in this account) may send its notifications."""
    policy = queue_policy(queue_arn, bucket_arn(bucket_name), account_id)
    _client("sqs", sqs_client).set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(policy)}
    )


@dataclass(frozen=True)
class FanoutRoute:
    """What ``configure_s3_sns_sqs_route`` created: the topic and the queue's subscription."""

    topic_arn: str
    subscription_arn: str


def configure_s3_sns_sqs_route(
    bucket_name: str,
    queue_url: str,
    queue_arn: str,
    *,
    topic_name: str,
    account_id: str,
    prefix: str = "",
    raw_message_delivery: bool = False,
    clients: FanoutClients,
) -> FanoutRoute:
    """S3 -> an SNS topic -> the queue: the topic and its policy (this bucket may publish), the
    queue's policy (this topic may send), the subscription, then the bucket's rule to the topic.

    The bucket's other rules are kept (an overlapping one is refused, as S3 would): the topic is
    how more consumers than one share the same object events.
    """
    sns = clients.sns
    topic_arn: str = sns.create_topic(Name=topic_name)["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic_arn,
        AttributeName="Policy",
        AttributeValue=json.dumps(topic_policy(topic_arn, bucket_arn(bucket_name), account_id)),
    )
    clients.sqs.set_queue_attributes(
        QueueUrl=queue_url,
        Attributes={"Policy": json.dumps(topic_queue_policy(queue_arn, topic_arn))},
    )
    subscription: str = sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true" if raw_message_delivery else "false"},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    s3 = clients.s3
    existing = read_notification_rules(bucket_name, s3_client=s3)
    eventbridge = "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket_name)
    rule = NotificationRule(topic_arn, filter=KeyFilter(prefix))
    configure_notifications(bucket_name, [*existing, rule], eventbridge=eventbridge, s3_client=s3)
    return FanoutRoute(topic_arn, subscription)


@dataclass(frozen=True)
class FanoutClients:
    """The three services the fan-out route is wired with (one role, usually the setup one)."""

    s3: S3Client
    sns: SNSClient
    sqs: SQSClient


def eventbridge_pattern(
    bucket_name: str, prefix: str = "", detail_types: Sequence[str] = ("Object Created",)
) -> dict[str, Any]:
    """An EventBridge pattern for this bucket's object events, optionally under ``prefix``."""
    detail: dict[str, Any] = {"bucket": {"name": [bucket_name]}}
    if prefix:
        detail["object"] = {"key": [{"prefix": prefix}]}
    return {"source": ["aws.s3"], "detail-type": list(detail_types), "detail": detail}


def configure_s3_eventbridge_route(
    bucket_name: str,
    function_arn: str,
    *,
    rule_name: str,
    prefix: str = "",
    events_client: EventBridgeClient | None = None,
    s3_client: S3Client | None = None,
    lambda_client: LambdaClient | None = None,
) -> str:
    """S3 -> EventBridge (default bus) -> a rule -> the function. Returns the rule's ARN.

    EventBridge delivery is all-or-nothing per bucket, so the bucket's other rules are kept.
    """
    s3 = _client("s3", s3_client)
    existing = read_notification_rules(bucket_name, s3_client=s3)
    configure_notifications(bucket_name, existing, eventbridge=True, s3_client=s3)
    events = _client("events", events_client)
    rule_arn: str = events.put_rule(
        Name=rule_name, EventPattern=json.dumps(eventbridge_pattern(bucket_name, prefix)), State="ENABLED"
    )["RuleArn"]
    events.put_targets(Rule=rule_name, Targets=[{"Id": "handler", "Arn": function_arn}])
    _client("lambda", lambda_client).add_permission(
        FunctionName=function_arn,
        StatementId=f"AllowEventBridge-{rule_name}",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    return rule_arn


@overload
def _client(service: Literal["s3"], client: S3Client | None) -> S3Client: ...
@overload
def _client(service: Literal["sqs"], client: SQSClient | None) -> SQSClient: ...
@overload
def _client(service: Literal["lambda"], client: LambdaClient | None) -> LambdaClient: ...
@overload
def _client(service: Literal["sts"], client: STSClient | None) -> STSClient: ...
@overload
def _client(service: Literal["events"], client: EventBridgeClient | None) -> EventBridgeClient: ...
def _client(service: str, client: Any) -> Any:
    """``client``, or a default boto3 client of ``service`` (boto3 imported only when needed)."""
    if client is not None:
        return client
    import boto3

    make: Any = boto3.client  # typed per service name by the stubs; here the name is a variable
    return make(service)
