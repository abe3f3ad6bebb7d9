"""The plan as a CloudFormation template, for those who deploy with infrastructure as code. Pure
apart from ``write_template``.

The same resources, names, policies and tags as ``pve run --backend aws`` creates. Account and
region become ``${AWS::AccountId}`` and ``${AWS::Region}``; the function's code is a zip in S3
named by two parameters (``pve aws template`` writes the zip next to the template). Circular
references are avoided as AWS's own examples do: permissions and queue policies name the bucket's
ARN as a string, and the bucket depends on them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.aws.deploy import REGION_TAG
from bench.aws.plan import TAG_KEY, Kind, Plan, Resource, build_plan

ACCOUNT = "${AWS::AccountId}"
STATEFUL = {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::Logs::LogGroup"}


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


def build_template(plan: Plan) -> dict[str, Any]:
    """The CloudFormation document (a dict) for ``plan``, built with ``${AWS::AccountId}`` ARNs."""
    ids = {(r.kind, r.name): logical_id(r) for r in plan.resources}
    by_arn = {
        r.arn: ids[(r.kind, r.name)]
        for r in plan.resources
        if r.kind in (Kind.FUNCTION, Kind.QUEUE, Kind.DLQ)
    }
    tags = [{"Key": TAG_KEY, "Value": plan.run_id}, {"Key": REGION_TAG, "Value": {"Ref": "AWS::Region"}}]
    resources: dict[str, Any] = {}
    depends: dict[str, list[str]] = {}
    for r in plan.resources:
        s = dict(r.spec)
        rid = ids[(r.kind, r.name)]
        if r.kind is Kind.LEDGER_TABLE:
            resources[rid] = {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": r.name,
                    "BillingMode": s["billing_mode"],
                    "KeySchema": [{"AttributeName": s["key"], "KeyType": "HASH"}],
                    "AttributeDefinitions": [{"AttributeName": s["key"], "AttributeType": "S"}],
                    "TimeToLiveSpecification": {"AttributeName": s["ttl_attribute"], "Enabled": True},
                    "Tags": tags,
                },
            }
        elif r.kind is Kind.BUCKET:
            resources[rid] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": r.name, "Tags": tags}}
        elif r.kind in (Kind.QUEUE, Kind.DLQ):
            attributes = s["attributes"]
            properties: dict[str, Any] = {"QueueName": r.name, "Tags": tags}
            if "MessageRetentionPeriod" in attributes:
                properties["MessageRetentionPeriod"] = int(attributes["MessageRetentionPeriod"])
            if "VisibilityTimeout" in attributes:
                properties["VisibilityTimeout"] = int(attributes["VisibilityTimeout"])
                properties["ReceiveMessageWaitTimeSeconds"] = int(attributes["ReceiveMessageWaitTimeSeconds"])
                redrive = attributes["RedrivePolicy"]
                properties["RedrivePolicy"] = {
                    "deadLetterTargetArn": {"Fn::GetAtt": [by_arn[redrive["deadLetterTargetArn"]], "Arn"]},
                    "maxReceiveCount": redrive["maxReceiveCount"],
                }
            resources[rid] = {"Type": "AWS::SQS::Queue", "Properties": properties}
        elif r.kind is Kind.QUEUE_POLICY:
            queue = by_arn[r.arn]
            resources[rid] = {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {"Queues": [{"Ref": queue}], "PolicyDocument": s["policy"]},
            }
        elif r.kind is Kind.ROLE:
            resources[rid] = {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": r.name,
                    "Path": s["path"],
                    "AssumeRolePolicyDocument": s["assume_role_policy"],
                    "Policies": [{"PolicyName": s["policy_name"], "PolicyDocument": s["policy"]}],
                    "Tags": tags,
                },
            }
        elif r.kind is Kind.LOG_GROUP:
            resources[rid] = {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": r.name, "RetentionInDays": s["retention_days"], "Tags": tags},
            }
        elif r.kind is Kind.FUNCTION:
            role = next(x for x in plan.of_kind(Kind.ROLE) if x.arn == s["role"])
            properties = {
                "FunctionName": r.name,
                "Runtime": s["runtime"],
                "Handler": s["handler"],
                "Role": {"Fn::GetAtt": [ids[(Kind.ROLE, role.name)], "Arn"]},
                "Code": {"S3Bucket": {"Ref": "PackageBucket"}, "S3Key": {"Ref": "PackageKey"}},
                "MemorySize": s["memory_mb"],
                "Timeout": s["timeout_s"],
                "Architectures": [s["architecture"]],
                "Environment": {"Variables": s["environment"]},
                "Tags": tags,
            }
            if s.get("reserved_concurrency") is not None:
                properties["ReservedConcurrentExecutions"] = s["reserved_concurrency"]
            log_group = next(x for x in plan.of_kind(Kind.LOG_GROUP) if x.name == f"/aws/lambda/{r.name}")
            resources[rid] = {
                "Type": "AWS::Lambda::Function",
                "DependsOn": [ids[(Kind.LOG_GROUP, log_group.name)]],
                "Properties": properties,
            }
        elif r.kind is Kind.INVOKE_CONFIG:
            resources[rid] = {
                "Type": "AWS::Lambda::EventInvokeConfig",
                "Properties": {
                    "FunctionName": {"Ref": by_arn[r.arn]},
                    "Qualifier": "$LATEST",
                    "MaximumRetryAttempts": s["maximum_retry_attempts"],
                    "MaximumEventAgeInSeconds": s["maximum_event_age_s"],
                    "DestinationConfig": {"OnFailure": {"Destination": s["on_failure"]}},
                },
            }
        elif r.kind is Kind.PERMISSION:
            resources[rid] = {
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": {"Ref": by_arn[r.arn]},
                    "Action": s["action"],
                    "Principal": s["principal"],
                    "SourceArn": s["source_arn"],
                    "SourceAccount": {"Ref": "AWS::AccountId"},
                },
            }
        elif r.kind is Kind.EVENT_SOURCE_MAPPING:
            resources[rid] = {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": [by_arn[s["queue_arn"]], "Arn"]},
                    "FunctionName": {
                        "Ref": next(v for k, v in ids.items() if k == (Kind.FUNCTION, s["function"]))
                    },
                    "BatchSize": s["batch_size"],
                    "MaximumBatchingWindowInSeconds": s["batching_window_s"],
                    "FunctionResponseTypes": s["function_response_types"],
                    "Tags": tags,
                },
            }
        elif r.kind is Kind.RULE:
            properties = {
                "Name": r.name,
                "State": "ENABLED",
                "Targets": [
                    {"Id": f"t{i}", "Arn": {"Fn::GetAtt": [by_arn[arn], "Arn"]}}
                    for i, arn in enumerate(s["targets"])
                ],
            }
            if "event_pattern" in s:
                properties["EventPattern"] = s["event_pattern"]
            else:
                properties["ScheduleExpression"] = s["schedule_expression"]
            resources[rid] = {"Type": "AWS::Events::Rule", "Properties": properties}
        elif r.kind is Kind.NOTIFICATION:
            bucket = ids[(Kind.BUCKET, r.name.removesuffix(":notification"))]
            resources[bucket]["Properties"]["NotificationConfiguration"] = _notification(
                s["configuration"], by_arn
            )
            depends.setdefault(bucket, []).extend(
                ids[(x.kind, x.name)]
                for x in plan.resources
                if x.strategy == r.strategy and x.kind in (Kind.PERMISSION, Kind.QUEUE_POLICY)
            )
    for bucket, needs in depends.items():
        if needs:
            resources[bucket]["DependsOn"] = needs
    for resource in resources.values():
        if resource["Type"] in STATEFUL:
            resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = "Delete"  # a run leaves nothing
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"poll-vs-events: scenario {plan.scenario}, run {plan.run_id} (pve aws template)",
        "Parameters": {
            "PackageBucket": {"Type": "String", "Description": "S3 bucket holding the function zip"},
            "PackageKey": {"Type": "String", "Description": "S3 key of the function zip"},
        },
        "Resources": _sub(resources, plan.region),
    }


def _notification(config: dict[str, Any], by_arn: dict[str, str]) -> dict[str, Any]:
    """S3's API notification document in CloudFormation's spelling."""
    out: dict[str, Any] = {}
    if "EventBridgeConfiguration" in config:
        out["EventBridgeConfiguration"] = {"EventBridgeEnabled": True}
    for api, cfn, arn_field, cfn_field in (
        ("LambdaFunctionConfigurations", "LambdaConfigurations", "LambdaFunctionArn", "Function"),
        ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
    ):
        for entry in config.get(api, []):
            for event in entry["Events"]:
                item: dict[str, Any] = {
                    "Event": event,
                    cfn_field: {"Fn::GetAtt": [by_arn[entry[arn_field]], "Arn"]},
                }
                rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                if rules:
                    item["Filter"] = {"S3Key": {"Rules": rules}}
                out.setdefault(cfn, []).append(item)
    return out


def template_plan(plan: Plan, scenario: Any) -> Plan:
    """The same plan with the account as ``${AWS::AccountId}`` (for ``Fn::Sub``)."""
    return build_plan(scenario, region=plan.region, account_id=ACCOUNT, run_id=plan.run_id)


def write_template(plan: Plan, out: Path, scenario: Any, package: bytes | None) -> Path | None:
    """Write the template, and the function zip next to it if given; return the zip's path."""
    document = build_template(template_plan(plan, scenario))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if package is None:
        return None
    path = out.with_name(out.stem + "-function.zip")
    path.write_bytes(package)
    return path
