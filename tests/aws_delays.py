"""moto's server, made to keep AWS's documented delays (scaled down): the layer issue 22 asks for.

moto applies every change at once; AWS does not. Each delay below is one AWS documents (page title,
read 2026-12-07), emulated for the clients a ``ClientFactory`` makes (every client of the aws
backend comes from one) by wrapping their API calls: a call may fail as AWS's would while a change
propagates, and a listing may still show what AWS still shows. Scaled to a second or two.

* SQS ``DeleteQueue``: "The deletion process takes up to 60 seconds. Requests you send involving
  a queue during the 60 seconds might succeed" (Amazon SQS API Reference, "DeleteQueue"): the
  queue is still listed and a tag read on it fails with ``NonExistentQueue``.
* Lambda ``DeleteEventSourceMapping``: the mapping is returned in state ``Deleting`` and "it might
  take several seconds to delete" (AWS Lambda API Reference, "DeleteEventSourceMapping").
* DynamoDB ``DeleteTable``: "the table is in the DELETING state until DynamoDB completes the
  deletion" (Amazon DynamoDB API Reference, "DeleteTable").
* CloudWatch Logs: log events are searchable only after ingestion, seconds after the invocation
  ("it can take up to ... for log events to become available", CloudWatch Logs User Guide,
  "Working with log groups and log streams"): REPORT lines appear late.
* IAM: "Because IAM is eventually consistent ... changes ... can take some time to propagate"
  (IAM User Guide, "Troubleshooting IAM: changes that I make are not always immediately visible"):
  a new role cannot be assumed by Lambda yet, and its permissions (the async failure destination)
  fail validation for a while.
* SQS queue policy: "Changes to a queue's policy can take up to 60 seconds to take effect"
  (SQS Developer Guide, "SetQueueAttributes" / "Using policies"): S3's destination validation of
  the notification fails until then.
* S3 -> EventBridge: "After you enable EventBridge, it takes around five minutes for the changes to
  take effect" (Amazon S3 User Guide, "Enabling Amazon EventBridge"): events are not matched
  until then.
* Lambda account concurrency: new accounts often have a limit of 10 (Lambda Developer Guide,
  "Lambda quotas"); ``GetAccountSettings`` reports it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench.live.clients import ClientFactory

Call = Callable[[str, dict[str, Any]], Any]


def aws_error(operation: str, code: str, message: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@dataclass
class AwsDelays:
    """The delays, in seconds (0 turns one off), and what the layer has seen so far."""

    queue_deleting_s: float = 1.5
    mapping_deleting_s: float = 1.5
    table_deleting_s: float = 1.5
    logs_visible_after_s: float = 2.0
    iam_propagation_s: float = 1.5
    queue_policy_s: float = 1.5
    eventbridge_enable_s: float = 2.0
    account_concurrency: int | None = None  # e.g. 10: a new account's limit
    deleted_queues: dict[str, float] = field(default_factory=dict)
    deleted_mappings: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    deleted_tables: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)  # resource ARN -> the tags last read
    log_puts: dict[str, float] = field(default_factory=dict)  # log group -> last PutLogEvents
    role_changed_at: float = -1e9
    policy_set_at: float = -1e9
    eventbridge_enabled_at: float = -1e9
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def within(since: float, delay: float) -> bool:
        return time.monotonic() - since < delay

    # -- the layer ----------------------------------------------------------------------------------
    def wrap(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        original: Call = client._make_api_call

        def call(operation: str, params: dict[str, Any]) -> Any:
            self.before(service, operation, params)
            if (service, operation) == ("lambda", "GetAccountSettings") and self.account_concurrency:
                return self.account_settings()  # moto's server has no route for it
            result = original(operation, params)
            return self.after(service, operation, params, result)

        client._make_api_call = call

    def before(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """Fail a call as AWS does while a change propagates."""
        failure = self._failure(service, operation, params)
        if failure is not None:
            code, message, status = failure
            raise aws_error(operation, code, message, status)

    def _failure(self, service: str, operation: str, params: dict[str, Any]) -> tuple[str, str, int] | None:
        key = (service, operation)
        queue_deleted = self.deleted_queues.get(params.get("QueueUrl", ""), -1e9)
        if key in (("sqs", "ListQueueTags"), ("sqs", "GetQueueAttributes")) and self.within(
            queue_deleted, self.queue_deleting_s
        ):
            return "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", 400
        deleting = self.deleted_mappings.get(params.get("UUID", ""))
        if (
            key == ("lambda", "DeleteEventSourceMapping")
            and deleting is not None
            and self.within(deleting[0], self.mapping_deleting_s)
        ):  # API Reference, DeleteEventSourceMapping: ResourceInUseException
            return "ResourceInUseException", "The event source mapping is being deleted", 409
        if key == ("lambda", "CreateFunction") and self.within(self.role_changed_at, self.iam_propagation_s):
            return (
                "InvalidParameterValueException",
                "The role defined for the function cannot be assumed by Lambda.",
                400,
            )
        if key == ("lambda", "PutFunctionEventInvokeConfig") and self.within(
            self.role_changed_at, self.iam_propagation_s
        ):
            return (
                "InvalidParameterValueException",
                "The function's execution role does not have permissions to call SendMessage on the queue",
                400,
            )
        queues = params.get("NotificationConfiguration", {}).get("QueueConfigurations")
        if (
            key == ("s3", "PutBucketNotificationConfiguration")
            and queues
            and self.within(self.policy_set_at, self.queue_policy_s)
        ):
            return "InvalidArgument", "Unable to validate the following destination configurations", 400
        return None

    def after(self, service: str, operation: str, params: dict[str, Any], result: Any) -> Any:
        now = time.monotonic()
        handler = getattr(self, f"_after_{service}_{operation}", None)
        with self._lock:
            if handler is not None:
                return handler(params, result, now) or result
        return result

    # SQS
    def _after_sqs_DeleteQueue(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.deleted_queues[params["QueueUrl"]] = now

    def _after_sqs_ListQueues(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        prefix = params.get("QueueNamePrefix", "")
        urls = result.setdefault("QueueUrls", [])
        for url, at in self.deleted_queues.items():
            listed = self.within(at, self.queue_deleting_s) and url.rsplit("/", 1)[-1].startswith(prefix)
            if listed and url not in urls:
                urls.append(url)

    def _after_sqs_SetQueueAttributes(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        if "Policy" in params.get("Attributes", {}):
            self.policy_set_at = now

    # Lambda
    def _after_lambda_ListTags(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.tags[params["Resource"]] = dict(result.get("Tags", {}))

    def _after_lambda_DeleteEventSourceMapping(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        if "UUID" in result:
            mapping = {k: v for k, v in result.items() if k != "ResponseMetadata"}
            self.deleted_mappings[params["UUID"]] = (now, {**mapping, "State": "Deleting"})

    def _after_lambda_ListEventSourceMappings(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        listed = {m["UUID"] for m in result.get("EventSourceMappings", [])}
        for uuid, (at, mapping) in self.deleted_mappings.items():
            if self.within(at, self.mapping_deleting_s) and uuid not in listed:
                result.setdefault("EventSourceMappings", []).append(mapping)

    def account_settings(self) -> dict[str, Any]:
        limit = self.account_concurrency
        return {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit}}

    # IAM
    def _after_iam_CreateRole(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.role_changed_at = now

    def _after_iam_PutRolePolicy(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.role_changed_at = now

    # DynamoDB
    def _after_dynamodb_ListTagsOfResource(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.tags[params["ResourceArn"]] = list(result.get("Tags", []))

    def _after_dynamodb_DeleteTable(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        table = dict(result.get("TableDescription", {}), TableStatus="DELETING")
        self.deleted_tables[params["TableName"]] = (now, table)

    def _after_dynamodb_ListTables(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        names = result.setdefault("TableNames", [])
        for name, (at, _) in self.deleted_tables.items():
            if self.within(at, self.table_deleting_s) and name not in names:
                names.append(name)
        names.sort()

    # CloudWatch Logs
    def _after_logs_PutLogEvents(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        self.log_puts[params["logGroupName"]] = now

    def _after_logs_FilterLogEvents(self, params: dict[str, Any], result: Any, now: float) -> None:  # noqa: N802
        if self.within(self.log_puts.get(params.get("logGroupName", ""), -1e9), self.logs_visible_after_s):
            result["events"] = []

    # S3
    def _after_s3_PutBucketNotificationConfiguration(  # noqa: N802
        self, params: dict[str, Any], result: Any, now: float
    ) -> None:
        if "EventBridgeConfiguration" in params.get("NotificationConfiguration", {}):
            self.eventbridge_enabled_at = now


def _deleting_table_calls(delays: AwsDelays, client: Any) -> None:
    """DescribeTable and ListTagsOfResource of a table being deleted answer as AWS does."""
    original: Call = client._make_api_call

    def call(operation: str, params: dict[str, Any]) -> Any:
        if operation in ("DescribeTable", "ListTagsOfResource"):
            for name, (at, table) in list(delays.deleted_tables.items()):
                if not delays.within(at, delays.table_deleting_s):
                    continue
                if operation == "DescribeTable" and params.get("TableName") == name:
                    return {"Table": table}
                if operation == "ListTagsOfResource" and params.get("ResourceArn") == table.get("TableArn"):
                    return {"Tags": delays.tags.get(table["TableArn"], [])}
        if operation == "ListTags":
            arn = params.get("Resource", "")
            for uuid, (at, _) in delays.deleted_mappings.items():
                if delays.within(at, delays.mapping_deleting_s) and arn.endswith(
                    f":event-source-mapping:{uuid}"
                ):
                    return {"Tags": delays.tags.get(arn, {})}
        return original(operation, params)

    client._make_api_call = call


def _eventbridge_gate(delays: AwsDelays, monkeypatch: pytest.MonkeyPatch) -> None:
    """EventBridge matches S3's events only once the bucket's enablement has taken effect."""
    import moto.events.models as events_models

    from event_handlers.runtime import moto_bridge

    moto_bridge.install()
    original = events_models.Rule.send_to_targets

    def send_to_targets(rule: Any, event: Any, transform_input: bool = True) -> None:
        if event.get("source") == "aws.s3" and delays.within(
            delays.eventbridge_enabled_at, delays.eventbridge_enable_s
        ):
            return  # not yet in effect: AWS drops the event, it is never delivered
        original(rule, event, transform_input)

    monkeypatch.setattr(events_models.Rule, "send_to_targets", send_to_targets)


@pytest.fixture(name="delays")
def delays_fixture(monkeypatch: pytest.MonkeyPatch) -> AwsDelays:
    """Every client a ``ClientFactory`` makes from now on keeps AWS's delays (see the module)."""
    delays = AwsDelays()
    make = ClientFactory._make

    def make_with_delays(self: ClientFactory, service: str, role: str) -> Any:
        client = make(self, service, role)
        if service in ("dynamodb", "lambda"):
            _deleting_table_calls(delays, client)
        delays.wrap(client)
        return client

    monkeypatch.setattr(ClientFactory, "_make", make_with_delays)
    _eventbridge_gate(delays, monkeypatch)
    return delays
