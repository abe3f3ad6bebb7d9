"""The plan as a CloudFormation template, for those who deploy with infrastructure as code. Pure.

The same resources, names, policies and tags as ``pve run --backend aws`` creates. Account and
region become ``${AWS::AccountId}`` and ``${AWS::Region}``; the function's code is a zip in S3
named by two parameters (``pve aws template`` writes the zip next to the template). Circular
references are avoided as AWS's own examples do: permissions and queue policies name the bucket's
ARN as a string, and the bucket depends on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.aws.deploy import REGION_TAG
from bench.aws.plan import CFN_ACCOUNT as ACCOUNT
from bench.aws.plan import TAG_KEY, Plan, Resource, ResourceKind, build_plan

STATEFUL = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Logs::LogGroup"}

# CloudFormation's machine-readable Context metadata (the ``Metadata`` attribute's "Context schema",
# AWS CloudFormation Template Reference, read 2026-11-27; cfn-lint checks it as I4010/W4011/W4012):
# why each resource exists, so a reviewer of the stack need not reverse-engineer it.
CONTEXT_KEY = "com.aws.cloudformation.Context"
ARCHITECTURE = (
    "One bucket per strategy of a poll-vs-events benchmark run. Event routes: S3 notification -> "
    "Lambda, S3 -> SQS (+DLQ) -> Lambda, S3 -> SNS -> SQS -> Lambda (fan-out), S3 -> EventBridge rule "
    "-> Lambda; scheduled poll: "
    "EventBridge schedule -> Lambda that lists the bucket. Every function records each file once "
    "in a shared DynamoDB idempotency ledger and writes its output under the run's output prefix."
)
WHY: dict[ResourceKind, str] = {
    ResourceKind.LEDGER_TABLE: (
        "idempotency ledger: a file redelivered by S3, SQS or EventBridge is processed once"
    ),
    ResourceKind.BUCKET: "the watched bucket of strategy {strategy}: the workload writes its files here",
    ResourceKind.DLQ: (
        "dead-letter queue of strategy {strategy}: events that fail every retry are kept, not lost"
    ),
    ResourceKind.QUEUE: (
        "buffers strategy {strategy}'s S3 notifications so the function reads them in batches"
    ),
    ResourceKind.QUEUE_POLICY: (
        "lets only this bucket (or, for a fan-out, its topic) send strategy {strategy}'s notifications "
        "to its queue"
    ),
    ResourceKind.TOPIC: (
        "strategy {strategy}'s SNS topic: S3 publishes each object event once, every subscribed "
        "queue (one per consumer) gets a copy"
    ),
    ResourceKind.TOPIC_POLICY: "lets only this bucket publish strategy {strategy}'s notifications",
    ResourceKind.SUBSCRIPTION: "subscribes strategy {strategy}'s queue to its topic (SNS's envelope kept)",
    ResourceKind.ROLE: "least-privilege execution role of strategy {strategy}'s function",
    ResourceKind.LOG_GROUP: (
        "strategy {strategy}'s function logs, with a retention so a run leaves no log forever"
    ),
    ResourceKind.FUNCTION: "strategy {strategy}'s handler: reads each new file and writes its output",
    ResourceKind.INVOKE_CONFIG: (
        "strategy {strategy}'s asynchronous retries and on-failure destination (its DLQ)"
    ),
    ResourceKind.PERMISSION: "lets only this run's bucket or rule invoke strategy {strategy}'s function",
    ResourceKind.EVENT_SOURCE_MAPPING: (
        "polls strategy {strategy}'s queue and invokes the function with batches"
    ),
    ResourceKind.RULE: (
        "strategy {strategy}'s EventBridge rule: routes object events or fires the poll schedule"
    ),
}


def resource_context(resource: Resource) -> dict[str, Any]:
    """The resource's Context metadata: why it exists, written by this project (trust: authored)."""
    why = WHY[resource.kind].format(strategy=resource.strategy or "all")
    return {CONTEXT_KEY: {"why": why, "trust": {"src": "authored", "conf": "high"}}}


def logical_id(resource: Resource) -> str:
    """A CloudFormation logical id: alphanumeric, from the kind and the physical name."""
    text = f"{resource.kind.name.title()} {resource.name}"
    return "".join(part.capitalize() for part in "".join(c if c.isalnum() else " " for c in text).split())


def _sub(value: Any, region: str) -> Any:
    """Strings naming the account or region become ``Fn::Sub`` (recursively)."""
    if isinstance(value, dict):
        return {k: _sub(v, region) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub(v, region) for v in value]
    if isinstance(value, str) and (
        ACCOUNT in value or value.startswith("arn:aws:") or f".{region}." in value
    ):
        text = value.replace(f":{region}:", ":${AWS::Region}:").replace(f".{region}.", ".${AWS::Region}.")
        return {"Fn::Sub": text.replace("arn:aws:", "arn:${AWS::Partition}:")}
    return value


@dataclass(frozen=True)
class _Context:
    plan: Plan
    ids: dict[tuple[ResourceKind, str], str]  # (kind, name) -> logical id
    by_arn: dict[str, str]  # ARN of a function or queue -> logical id
    tags: list[dict[str, Any]]

    def get_att(self, arn: str) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.by_arn[arn], "Arn"]}


def _table(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {
            "TableName": r.name,
            "BillingMode": s["billing_mode"],
            "KeySchema": [{"AttributeName": s["key"], "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": s["key"], "AttributeType": "S"}],
            "TimeToLiveSpecification": {"AttributeName": s["ttl_attribute"], "Enabled": True},
            "Tags": c.tags,
        },
    }


def _bucket(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    notifications = [
        n for n in c.plan.of_kind(ResourceKind.NOTIFICATION) if n.name == f"{r.name}:notification"
    ]
    properties: dict[str, Any] = {"BucketName": r.name, "Tags": c.tags}
    out: dict[str, Any] = {"Type": "AWS::S3::Bucket", "Properties": properties}
    if notifications:
        properties["NotificationConfiguration"] = _notification(
            notifications[0].spec["configuration"], c.by_arn
        )
        out["DependsOn"] = [  # S3 checks it may deliver when the configuration is saved
            c.ids[(x.kind, x.name)]
            for x in c.plan.resources
            if x.strategy == r.strategy
            and x.kind in (ResourceKind.PERMISSION, ResourceKind.QUEUE_POLICY, ResourceKind.TOPIC_POLICY)
        ]
    return out


def _queue(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    attributes = s["attributes"]
    properties: dict[str, Any] = {
        "QueueName": r.name,
        "MessageRetentionPeriod": int(attributes["MessageRetentionPeriod"]),
        "Tags": c.tags,
    }
    if "VisibilityTimeout" in attributes:
        properties["VisibilityTimeout"] = int(attributes["VisibilityTimeout"])
        properties["ReceiveMessageWaitTimeSeconds"] = int(attributes["ReceiveMessageWaitTimeSeconds"])
        redrive = attributes["RedrivePolicy"]
        properties["RedrivePolicy"] = {
            "deadLetterTargetArn": c.get_att(redrive["deadLetterTargetArn"]),
            "maxReceiveCount": redrive["maxReceiveCount"],
        }
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


def _queue_policy(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"Queues": [{"Ref": c.by_arn[r.arn]}], "PolicyDocument": s["policy"]},
    }


def _topic(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": r.name, "Tags": c.tags}}


def _topic_policy(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::TopicPolicy",
        "Properties": {"Topics": [{"Ref": c.by_arn[r.arn]}], "PolicyDocument": s["policy"]},
    }


def _subscription(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::SNS::Subscription",
        "Properties": {
            "TopicArn": {"Ref": c.by_arn[s["topic_arn"]]},
            "Protocol": s["protocol"],
            "Endpoint": c.get_att(s["endpoint"]),
            "RawMessageDelivery": s["raw_message_delivery"],
        },
    }


def _role(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": r.name,
            "Path": s["path"],
            "PermissionsBoundary": s["permissions_boundary"],
            "AssumeRolePolicyDocument": s["assume_role_policy"],
            "Policies": [{"PolicyName": s["policy_name"], "PolicyDocument": s["policy"]}],
            "Tags": c.tags,
        },
    }


def _log_group(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": r.name, "RetentionInDays": s["retention_days"], "Tags": c.tags},
    }


def _function(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    role = next(x for x in c.plan.of_kind(ResourceKind.ROLE) if x.arn == s["role"])
    properties: dict[str, Any] = {
        "FunctionName": r.name,
        "Runtime": s["runtime"],
        "Handler": s["handler"],
        "Role": {"Fn::GetAtt": [c.ids[(ResourceKind.ROLE, role.name)], "Arn"]},
        "Code": {"S3Bucket": {"Ref": "PackageBucket"}, "S3Key": {"Ref": "PackageKey"}},
        "MemorySize": s["memory_mb"],
        "Timeout": s["timeout_s"],
        "Architectures": [s["architecture"]],
        "Environment": {"Variables": s["environment"]},
        "Tags": c.tags,
    }
    if s.get("reserved_concurrency") is not None:
        properties["ReservedConcurrentExecutions"] = s["reserved_concurrency"]
    log_group = c.ids[(ResourceKind.LOG_GROUP, f"/aws/lambda/{r.name}")]
    return {"Type": "AWS::Lambda::Function", "DependsOn": [log_group], "Properties": properties}


def _invoke_config(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::EventInvokeConfig",
        "Properties": {
            "FunctionName": {"Ref": c.by_arn[r.arn]},
            "Qualifier": "$LATEST",
            "MaximumRetryAttempts": s["maximum_retry_attempts"],
            "MaximumEventAgeInSeconds": s["maximum_event_age_s"],
            "DestinationConfig": {"OnFailure": {"Destination": s["on_failure"]}},
        },
    }


def _permission(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "FunctionName": {"Ref": c.by_arn[r.arn]},
            "Action": s["action"],
            "Principal": s["principal"],
            "SourceArn": s["source_arn"],
            "SourceAccount": {"Ref": "AWS::AccountId"},
        },
    }


def _mapping(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "EventSourceArn": c.get_att(s["queue_arn"]),
        "FunctionName": {"Ref": c.ids[(ResourceKind.FUNCTION, s["function"])]},
        "BatchSize": s["batch_size"],
        "MaximumBatchingWindowInSeconds": s["batching_window_s"],
        "FunctionResponseTypes": s["function_response_types"],
        "Tags": c.tags,
    }
    if s.get("maximum_concurrency") is not None:
        properties["ScalingConfig"] = {"MaximumConcurrency": s["maximum_concurrency"]}
    return {"Type": "AWS::Lambda::EventSourceMapping", "Properties": properties}


def _rule(r: Resource, s: dict[str, Any], c: _Context) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Name": r.name,
        "State": "ENABLED",
        "Targets": [{"Id": f"t{i}", "Arn": c.get_att(arn)} for i, arn in enumerate(s["targets"])],
    }
    if "event_pattern" in s:
        properties["EventPattern"] = s["event_pattern"]
    else:
        properties["ScheduleExpression"] = s["schedule_expression"]
    return {"Type": "AWS::Events::Rule", "Properties": properties}


BUILDERS: dict[ResourceKind, Callable[[Resource, dict[str, Any], _Context], dict[str, Any]]] = {
    ResourceKind.LEDGER_TABLE: _table,
    ResourceKind.BUCKET: _bucket,
    ResourceKind.DLQ: _queue,
    ResourceKind.QUEUE: _queue,
    ResourceKind.QUEUE_POLICY: _queue_policy,
    ResourceKind.TOPIC: _topic,
    ResourceKind.TOPIC_POLICY: _topic_policy,
    ResourceKind.SUBSCRIPTION: _subscription,
    ResourceKind.ROLE: _role,
    ResourceKind.LOG_GROUP: _log_group,
    ResourceKind.FUNCTION: _function,
    ResourceKind.INVOKE_CONFIG: _invoke_config,
    ResourceKind.PERMISSION: _permission,
    ResourceKind.EVENT_SOURCE_MAPPING: _mapping,
    ResourceKind.RULE: _rule,
    # ResourceKind.NOTIFICATION: a property of its bucket in CloudFormation (see _bucket)
}


def build_template(plan: Plan) -> dict[str, Any]:
    """The CloudFormation document (a dict) for ``plan``, built with ``${AWS::AccountId}`` ARNs."""
    ids = {(r.kind, r.name): logical_id(r) for r in plan.resources}
    by_arn = {
        r.arn: ids[(r.kind, r.name)]
        for r in plan.resources
        if r.kind in (ResourceKind.FUNCTION, ResourceKind.QUEUE, ResourceKind.DLQ, ResourceKind.TOPIC)
    }
    tags: list[dict[str, Any]] = [
        {"Key": TAG_KEY, "Value": plan.run_id},
        {"Key": REGION_TAG, "Value": {"Ref": "AWS::Region"}},
    ]
    context = _Context(plan, ids, by_arn, tags)
    resources: dict[str, Any] = {}
    for r in plan.resources:
        if r.kind in BUILDERS:
            resource = BUILDERS[r.kind](r, dict(r.spec), context)
            resource["Metadata"] = resource_context(r)
            if resource["Type"] in STATEFUL:
                resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = (
                    "Delete"  # a run leaves nothing
                )
            resources[ids[(r.kind, r.name)]] = resource
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"poll-vs-events: scenario {plan.scenario}, run {plan.run_id} (pve aws template)",
        "Metadata": {CONTEXT_KEY: {"arch": ARCHITECTURE}},
    }
    if any(r.kind is ResourceKind.FUNCTION for r in plan.resources):  # only functions need the zip's location
        template["Parameters"] = {
            "PackageBucket": {"Type": "String", "Description": "S3 bucket holding the function zip"},
            "PackageKey": {"Type": "String", "Description": "S3 key of the function zip"},
        }
    template["Resources"] = _sub(resources, plan.region)
    if plan.of_kind(ResourceKind.BUCKET):
        template["Outputs"] = {"Teardown": {"Description": TEARDOWN_NOTE, "Value": cleanup_command(plan)}}
    return template


# CloudFormation deletes a bucket with DeleteBucket, which fails while the bucket holds objects
# ("The bucket you tried to delete is not empty": Amazon S3 API Reference, "DeleteBucket", read
# 2026-12-07); a run's buckets hold its files, outputs and records. The template does not empty them
# (that would take a custom resource with a function of its own): it says how to tear down instead.
TEARDOWN_NOTE = (
    "Deleting this stack fails while its buckets hold objects (a run leaves its files, outputs and "
    "records in them): run this command, which empties and deletes everything tagged with the run "
    "(the stack's resources included); or empty the buckets, then delete the stack"
)


def cleanup_command(plan: Plan) -> str:
    return f"pve aws cleanup --region {plan.region} --run-id {plan.run_id}"


def _notification(config: dict[str, Any], by_arn: dict[str, str]) -> dict[str, Any]:
    """S3's API notification document in CloudFormation's spelling."""
    out: dict[str, Any] = {}
    if "EventBridgeConfiguration" in config:
        out["EventBridgeConfiguration"] = {"EventBridgeEnabled": True}
    for api, cfn, arn_field, cfn_field in (
        ("LambdaFunctionConfigurations", "LambdaConfigurations", "LambdaFunctionArn", "Function"),
        ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
        ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
    ):
        for entry in config.get(api, []):
            for event in entry["Events"]:
                target = by_arn[entry[arn_field]]  # a topic's Ref is its ARN (it has no "Arn" attribute)
                arn = {"Ref": target} if cfn_field == "Topic" else {"Fn::GetAtt": [target, "Arn"]}
                item: dict[str, Any] = {"Event": event, cfn_field: arn}
                rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                if rules:
                    item["Filter"] = {"S3Key": {"Rules": rules}}
                out.setdefault(cfn, []).append(item)
    return out


def template_plan(plan: Plan, scenario: Any) -> Plan:
    """The same plan with the account as ``${AWS::AccountId}`` (for ``Fn::Sub``)."""
    return build_plan(scenario, region=plan.region, account_id=ACCOUNT, run_id=plan.run_id)
