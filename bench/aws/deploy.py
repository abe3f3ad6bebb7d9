"""Create a plan's resources with boto3, in order, tagging each as it is made.

One function per resource kind (a table, not a chain of ifs). Every created resource is written
to a journal before anything else happens, so that teardown can remove even one that failed
between its creation and its tagging (an S3 bucket is tagged by a second request).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast, overload

from botocore.exceptions import ClientError

from bench.aws.boundary import ensure_boundary
from bench.aws.package import build_package
from bench.aws.plan import TAG_KEY, Plan, Resource, ResourceKind

if TYPE_CHECKING:
    from types_boto3_dynamodb.client import DynamoDBClient
    from types_boto3_events.client import EventBridgeClient
    from types_boto3_events.type_defs import PutRuleRequestTypeDef
    from types_boto3_iam.client import IAMClient
    from types_boto3_lambda.client import LambdaClient
    from types_boto3_lambda.type_defs import (
        CreateEventSourceMappingRequestTypeDef,
        CreateFunctionRequestTypeDef,
    )
    from types_boto3_logs.client import CloudWatchLogsClient
    from types_boto3_s3.client import S3Client
    from types_boto3_s3.literals import BucketLocationConstraintType
    from types_boto3_s3.type_defs import CreateBucketRequestTypeDef
    from types_boto3_scheduler.client import EventBridgeSchedulerClient
    from types_boto3_sns.client import SNSClient
    from types_boto3_sqs.client import SQSClient
    from types_boto3_sts.client import STSClient

    from bench.live.clients import ClientFactory

T = TypeVar("T")
log = logging.getLogger(__name__)
REGION_TAG = "pve:region"
ROLE_PROPAGATION_S = 60.0  # a new IAM role can take seconds before Lambda may assume it
# "Changes to a queue's policy can take up to 60 seconds to take effect": until then S3's
# destination validation of a queue notification fails (Amazon SQS Developer Guide,
# "SetQueueAttributes", read 2026-12-07)
POLICY_PROPAGATION_S = 90.0
DESTINATION_UNVALIDATED = "Unable to validate the following destination configurations"


def _while_iam_propagates(call: Callable[[], T], symptom: str, wait_s: float | None = None) -> T:
    """Retry ``call`` while AWS reports ``symptom``: IAM and policy changes take seconds to reach
    the service that checks them (``wait_s``, default ``ROLE_PROPAGATION_S``)."""
    deadline = time.monotonic() + (ROLE_PROPAGATION_S if wait_s is None else wait_s)
    while True:
        try:
            return call()
        except ClientError as exc:
            if symptom not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(3)


class Clients:
    """boto3 clients for one region (and endpoint), from a ``ClientFactory``, counted as ``role``.

    Calling it with a service name gives that service's client, typed by the types-boto3 stubs.
    """

    def __init__(self, factory: ClientFactory, role: str = "setup") -> None:
        self.factory, self.role = factory, role

    @overload
    def __call__(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def __call__(self, service: Literal["events"]) -> EventBridgeClient: ...
    @overload
    def __call__(self, service: Literal["iam"]) -> IAMClient: ...
    @overload
    def __call__(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def __call__(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def __call__(self, service: Literal["s3"]) -> S3Client: ...
    @overload
    def __call__(self, service: Literal["scheduler"]) -> EventBridgeSchedulerClient: ...
    @overload
    def __call__(self, service: Literal["sns"]) -> SNSClient: ...
    @overload
    def __call__(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def __call__(self, service: Literal["sts"]) -> STSClient: ...
    def __call__(self, service: str) -> Any:
        return self.factory.client(service, self.role)


@dataclass
class Journal:
    """What this process created, in order: (kind, name, extra id such as a mapping UUID)."""

    created: list[tuple[ResourceKind, str, str]] = field(default_factory=list)
    queue_urls: dict[str, str] = field(default_factory=dict)
    mapping_ids: dict[str, str] = field(default_factory=dict)

    def add(self, kind: ResourceKind, name: str, extra: str = "") -> None:
        self.created.append((kind, name, extra))


class Deployer:
    """Creates a plan's resources; ``before_create`` lets a test inject a failure half-way."""

    def __init__(
        self,
        plan: Plan,
        clients: Clients,
        *,
        journal: Journal | None = None,
        before_create: Callable[[Resource], None] | None = None,
        package: Callable[[str, str], bytes] = build_package,
    ) -> None:
        self.plan, self.clients = plan, clients
        self.journal = journal if journal is not None else Journal()
        self.before_create = before_create or (lambda r: None)
        self.package = package
        self.tags = {TAG_KEY: plan.run_id, REGION_TAG: plan.region}
        self._boundary_checked = False

    def deploy(self) -> Journal:
        creators: dict[ResourceKind, Callable[[Resource], None]] = {
            ResourceKind.LEDGER_TABLE: self._table,
            ResourceKind.BUCKET: self._bucket,
            ResourceKind.DLQ: self._queue,
            ResourceKind.QUEUE: self._queue,
            ResourceKind.QUEUE_POLICY: self._queue_policy,
            ResourceKind.TOPIC: self._topic,
            ResourceKind.TOPIC_POLICY: self._topic_policy,
            ResourceKind.SUBSCRIPTION: self._subscription,
            ResourceKind.ROLE: self._role,
            ResourceKind.LOG_GROUP: self._log_group,
            ResourceKind.FUNCTION: self._function,
            ResourceKind.INVOKE_CONFIG: self._invoke_config,
            ResourceKind.PERMISSION: self._permission,
            ResourceKind.EVENT_SOURCE_MAPPING: self._mapping,
            ResourceKind.RULE: self._rule,
            ResourceKind.NOTIFICATION: self._notification,
        }
        for resource in self.plan.resources:
            self.before_create(resource)
            log.info("creating %s %s", resource.kind, resource.name)
            creators[resource.kind](resource)
        return self.journal

    # -- one creator per kind ------------------------------------------------------------------
    def _table(self, r: Resource) -> None:
        ddb = self.clients("dynamodb")
        ddb.create_table(
            TableName=r.name,
            KeySchema=[{"AttributeName": r.spec["key"], "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": r.spec["key"], "AttributeType": "S"}],
            BillingMode=r.spec["billing_mode"],
            Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
        )
        self.journal.add(r.kind, r.name)
        ddb.get_waiter("table_exists").wait(TableName=r.name, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
        ddb.update_time_to_live(
            TableName=r.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": r.spec["ttl_attribute"]},
        )

    def _bucket(self, r: Resource) -> None:
        s3 = self.clients("s3")
        args: CreateBucketRequestTypeDef = {"Bucket": r.name}
        if self.plan.region != "us-east-1":  # us-east-1 takes no location constraint
            # a checked region name (check_region); the stub lists only the regions it knew of
            region = cast("BucketLocationConstraintType", self.plan.region)
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**args)
        self.journal.add(r.kind, r.name)
        s3.put_bucket_tagging(
            Bucket=r.name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in self.tags.items()]}
        )

    def _queue(self, r: Resource) -> None:
        attributes = {
            k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in r.spec["attributes"].items()
        }
        url: str = self.clients("sqs").create_queue(QueueName=r.name, Attributes=attributes, tags=self.tags)[
            "QueueUrl"
        ]
        self.journal.add(r.kind, r.name, url)
        self.journal.queue_urls[r.name] = url

    def _queue_policy(self, r: Resource) -> None:
        queue = r.name.removesuffix(":policy")
        self.clients("sqs").set_queue_attributes(
            QueueUrl=self.journal.queue_urls[queue], Attributes={"Policy": json.dumps(r.spec["policy"])}
        )

    def _topic(self, r: Resource) -> None:
        """An SNS topic, tagged as it is created; the journal keeps its ARN (teardown's handle)."""
        arn: str = self.clients("sns").create_topic(
            Name=r.name, Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()]
        )["TopicArn"]
        self.journal.add(r.kind, r.name, arn)

    def _topic_policy(self, r: Resource) -> None:
        self.clients("sns").set_topic_attributes(
            TopicArn=r.arn, AttributeName="Policy", AttributeValue=json.dumps(r.spec["policy"])
        )

    def _subscription(self, r: Resource) -> None:
        """The queue subscribed to the topic (same account: confirmed at once); deleted with the topic."""
        raw = "true" if r.spec["raw_message_delivery"] else "false"
        self.clients("sns").subscribe(
            TopicArn=r.spec["topic_arn"],
            Protocol=r.spec["protocol"],
            Endpoint=r.spec["endpoint"],
            Attributes={"RawMessageDelivery": raw},
            ReturnSubscriptionArn=True,
        )

    def _role(self, r: Resource) -> None:
        """A role always carries the run's permissions boundary (``bench.aws.boundary``)."""
        iam = self.clients("iam")
        if not self._boundary_checked:
            ensure_boundary(iam, self.plan.account_id)
            self._boundary_checked = True
        iam.create_role(
            RoleName=r.name,
            Path=r.spec["path"],
            AssumeRolePolicyDocument=json.dumps(r.spec["assume_role_policy"]),
            PermissionsBoundary=r.spec["permissions_boundary"],
            Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
        )
        self.journal.add(r.kind, r.name)
        iam.put_role_policy(
            RoleName=r.name, PolicyName=r.spec["policy_name"], PolicyDocument=json.dumps(r.spec["policy"])
        )

    def _log_group(self, r: Resource) -> None:
        logs = self.clients("logs")
        logs.create_log_group(logGroupName=r.name, tags=self.tags)
        self.journal.add(r.kind, r.name)
        logs.put_retention_policy(logGroupName=r.name, retentionInDays=r.spec["retention_days"])

    def _function(self, r: Resource) -> None:
        lam = self.clients("lambda")
        args: CreateFunctionRequestTypeDef = {
            "FunctionName": r.name,
            "Runtime": r.spec["runtime"],
            "Role": r.spec["role"],
            "Handler": r.spec["handler"],
            "Code": {"ZipFile": self.package(r.spec["runtime"], r.spec["architecture"])},
            "MemorySize": r.spec["memory_mb"],
            "Timeout": r.spec["timeout_s"],
            "Architectures": [r.spec["architecture"]],
            "Environment": {"Variables": dict(r.spec["environment"])},
            "Tags": self.tags,
        }
        _while_iam_propagates(lambda: lam.create_function(**args), "cannot be assumed")
        self.journal.add(r.kind, r.name)
        lam.get_waiter("function_active_v2").wait(
            FunctionName=r.name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )
        if r.spec.get("reserved_concurrency") is not None:
            lam.put_function_concurrency(
                FunctionName=r.name, ReservedConcurrentExecutions=r.spec["reserved_concurrency"]
            )

    def _invoke_config(self, r: Resource) -> None:
        # Lambda checks that the (new) role may send to the failure destination: retried while
        # IAM propagates
        _while_iam_propagates(
            lambda: self.clients("lambda").put_function_event_invoke_config(
                FunctionName=r.arn,
                MaximumRetryAttempts=r.spec["maximum_retry_attempts"],
                MaximumEventAgeInSeconds=r.spec["maximum_event_age_s"],
                DestinationConfig={"OnFailure": {"Destination": r.spec["on_failure"]}},
            ),
            "does not have permissions",
        )

    def _permission(self, r: Resource) -> None:
        self.clients("lambda").add_permission(
            FunctionName=r.spec["function"],
            StatementId=r.spec["statement_id"],
            Action=r.spec["action"],
            Principal=r.spec["principal"],
            SourceArn=r.spec["source_arn"],
            SourceAccount=r.spec["source_account"],
        )

    def _mapping(self, r: Resource) -> None:
        args: CreateEventSourceMappingRequestTypeDef = {
            "EventSourceArn": r.spec["queue_arn"],
            "FunctionName": r.spec["function"],
            "BatchSize": r.spec["batch_size"],
            "MaximumBatchingWindowInSeconds": r.spec["batching_window_s"],
            "FunctionResponseTypes": list(r.spec["function_response_types"]),
            "Tags": self.tags,
        }
        if r.spec.get("maximum_concurrency") is not None:
            args["ScalingConfig"] = {"MaximumConcurrency": r.spec["maximum_concurrency"]}
        response = _while_iam_propagates(
            lambda: self.clients("lambda").create_event_source_mapping(**args), "does not have permissions"
        )
        self.journal.add(r.kind, r.name, response["UUID"])
        self.journal.mapping_ids[r.spec["function"]] = response["UUID"]

    def _rule(self, r: Resource) -> None:
        events = self.clients("events")
        args: PutRuleRequestTypeDef = {
            "Name": r.name,
            "State": "ENABLED",
            "Tags": [{"Key": k, "Value": v} for k, v in self.tags.items()],
        }
        if "event_pattern" in r.spec:
            args["EventPattern"] = json.dumps(r.spec["event_pattern"])
        else:
            args["ScheduleExpression"] = r.spec["schedule_expression"]
        events.put_rule(**args)
        self.journal.add(r.kind, r.name)
        events.put_targets(
            Rule=r.name, Targets=[{"Id": f"t{i}", "Arn": arn} for i, arn in enumerate(r.spec["targets"])]
        )

    def _notification(self, r: Resource) -> None:
        _while_iam_propagates(  # the queue's policy may not be in effect yet
            lambda: self.clients("s3").put_bucket_notification_configuration(
                Bucket=r.name.removesuffix(":notification"),
                NotificationConfiguration=r.spec["configuration"],
                SkipDestinationValidation=False,
            ),
            DESTINATION_UNVALIDATED,
            POLICY_PROPAGATION_S,
        )
