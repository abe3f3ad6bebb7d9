"""The vocabulary of an AWS plan: resource kinds, a resource, ARNs, and the settings every
function shares. Pure; ``bench.aws.plan`` and the route builders (``bench.aws.routes``) build on it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.errors import InputError
from bench.live.strategies.base import OUTPUT_PREFIXES
from bench.scenario.spec import QueueLambdaStrategy, Scenario

ROLE_PATH = "/pve/"
RECORDS_PREFIX = "pve-records/"
LOG_RETENTION_DAYS = 1
HANDLER = "pve_aws_handler.lambda_handler"
PACKAGE = ("pve_aws_handler.py", "event_handlers/", "PIL/", "pillow.libs/")


class ResourceKind(enum.StrEnum):
    """Resource kinds, in the order they are created (teardown runs in reverse)."""

    LEDGER_TABLE = "dynamodb.table"
    BUCKET = "s3.bucket"
    DLQ = "sqs.dead-letter-queue"
    QUEUE = "sqs.queue"
    QUEUE_POLICY = "sqs.queue-policy"
    TOPIC = "sns.topic"
    TOPIC_POLICY = "sns.topic-policy"
    SUBSCRIPTION = "sns.subscription"  # deleted with its topic ("DeleteTopic": "and all its subscriptions")
    ROLE = "iam.role"
    LOG_GROUP = "logs.log-group"
    FUNCTION = "lambda.function"
    INVOKE_CONFIG = "lambda.async-invoke-config"
    PERMISSION = "lambda.permission"
    EVENT_SOURCE_MAPPING = "lambda.event-source-mapping"
    RULE = "events.rule"
    NOTIFICATION = "s3.notification"


KIND_ORDER = {kind: i for i, kind in enumerate(ResourceKind)}
TAGGABLE = {
    ResourceKind.LEDGER_TABLE,
    ResourceKind.BUCKET,
    ResourceKind.DLQ,
    ResourceKind.QUEUE,
    ResourceKind.TOPIC,
    ResourceKind.ROLE,
    ResourceKind.LOG_GROUP,
    ResourceKind.FUNCTION,
    ResourceKind.EVENT_SOURCE_MAPPING,
    ResourceKind.RULE,
}


@dataclass(frozen=True)
class Resource:
    """One resource: its kind, physical name, ARN, owning strategy ("" if shared) and settings."""

    kind: ResourceKind
    name: str
    arn: str
    strategy: str
    spec: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "name": self.name,
            "arn": self.arn,
            "strategy": self.strategy,
            "tagged": self.kind in TAGGABLE,
            "spec": dict(self.spec),
        }


# python3.11 (this project's floor) can no longer be created on Lambda (blocked 2026-07-31);
# python3.13 is supported until 2029-06-30 (cfn-lint 1.51.0 LmbdRuntimeLifecycle.json, read 2026-11-27).
LAMBDA_RUNTIME = "python3.13"


def lambda_runtime() -> str:
    """The Lambda runtime every function is deployed with (its Pillow must be built for it)."""
    return LAMBDA_RUNTIME


def output_prefix(scenario: Scenario) -> str:
    return OUTPUT_PREFIXES[scenario.task]


def batching_window(spec: QueueLambdaStrategy) -> int:
    """The mapping's MaximumBatchingWindowInSeconds, as AWS takes it: whole seconds, 0-300, and at
    least 1 when BatchSize is over 10 (AWS Lambda API Reference, "CreateEventSourceMapping", read
    2026-12-07). Refused, never rounded: a window of 0.5 s truncated to 0 with batch 100 was
    rejected by AWS half-way through a deploy."""
    window = spec.batching_window_s
    where = f"strategies.{spec.name}.batching_window_s"
    if window != int(window):
        raise InputError(f"{where} = {window:g}: AWS takes the batching window in whole seconds (0-300)")
    if spec.batch_size > 10 and window < 1:
        raise InputError(
            f"{where} = {window:g}: with batch_size {spec.batch_size} (over 10) AWS requires a batching "
            "window of at least 1 s"
        )
    return int(window)


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    def queue(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def topic(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{name}"

    def function(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role{ROLE_PATH}{name}"

    def log_group(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def rule(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"

    def table(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"


def permission(
    function: str, strategy: str, arns: Arns, sid: str, principal: str, source_arn: str
) -> Resource:
    return Resource(
        ResourceKind.PERMISSION,
        f"{function}:{sid}",
        arns.function(function),
        strategy,
        {
            "function": function,
            "statement_id": sid,
            "action": "lambda:InvokeFunction",
            "principal": principal,
            "source_arn": source_arn,
            "source_account": arns.account,
        },
    )


def notification(bucket: str, strategy: str, configuration: dict[str, Any]) -> Resource:
    return Resource(
        ResourceKind.NOTIFICATION,
        f"{bucket}:notification",
        f"arn:aws:s3:::{bucket}",
        strategy,
        {"configuration": configuration},
    )
