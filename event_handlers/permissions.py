"""Least privilege: the execution role policy a handler function needs, and nothing more. Pure.

What the function does decides what it may do: read objects under the watched prefix, write
outputs under the output prefix, receive and delete from its own queue (the SQS event source
mapping uses the function's role: Lambda Developer Guide, "Using Lambda with Amazon SQS",
execution role permissions ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``,
``sqs:GetQueueAttributes``), send to its dead-letter queue (the handler's own dead letters and,
for async invocation, the on-failure destination, which Lambda sends with the function's role),
use its ledger table, and write its own log group (as AWSLambdaBasicExecutionRole grants, but for
this function's group only). All read 2026-11-27.

Note: without ``s3:ListBucket`` S3 answers a GET of a missing key with 403 AccessDenied rather
than 404 NoSuchKey (S3 API Reference, GetObject, "Permissions"); this policy leaves ListBucket
out, so on AWS a vanished object surfaces as AccessDenied, which the failure table treats as
transient (retried, then dead-lettered by the platform with the reason).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from event_handlers.trigger import bucket_arn

if TYPE_CHECKING:
    from types_boto3_iam.client import IAMClient

POLICY_NAME = "pve-handler-least-privilege"


@dataclass(frozen=True)
class FunctionGrants:
    """What one deployed handler touches."""

    function_name: str
    bucket: str
    watched_prefix: str
    output_prefix: str | None  # None: the task writes nothing (noop)
    region: str
    account_id: str
    queue_arn: str | None = None  # the SQS route's source queue
    dlq_arn: str | None = None
    ledger_table_arn: str | None = None
    partition: str = "aws"


def function_policy(grants: FunctionGrants) -> dict[str, Any]:
    """The IAM policy document for the function's execution role."""
    objects = f"{bucket_arn(grants.bucket, grants.partition)}/"
    log_group = (
        f"arn:{grants.partition}:logs:{grants.region}:{grants.account_id}:"
        f"log-group:/aws/lambda/{grants.function_name}"
    )
    statements: list[dict[str, Any]] = [
        _allow("ReadWatchedObjects", ["s3:GetObject"], [f"{objects}{grants.watched_prefix}*"]),
    ]
    if grants.output_prefix is not None:
        statements.append(_allow("WriteOutputs", ["s3:PutObject"], [f"{objects}{grants.output_prefix}*"]))
    if grants.queue_arn:
        statements.append(
            _allow(
                "ConsumeSourceQueue",
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                [grants.queue_arn],
            )
        )
    if grants.dlq_arn:
        statements.append(_allow("SendDeadLetters", ["sqs:SendMessage"], [grants.dlq_arn]))
    if grants.ledger_table_arn:
        statements.append(
            _allow(
                "UseIdempotencyLedger",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                [grants.ledger_table_arn],
            )
        )
    statements.append(
        _allow(
            "WriteOwnLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{log_group}:*"],
        )
    )
    return {"Version": "2012-10-17", "Statement": statements}


def attach_function_policy(iam_client: IAMClient, role_name: str, grants: FunctionGrants) -> dict[str, Any]:
    """Put ``function_policy(grants)`` on the role as its inline policy; returns the document."""
    document = function_policy(grants)
    iam_client.put_role_policy(
        RoleName=role_name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(document)
    )
    return document


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
