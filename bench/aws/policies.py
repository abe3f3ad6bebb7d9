"""Least-privilege IAM policy documents for the functions a plan deploys. Pure.

Each statement grants one thing a function does, on exactly the resource it does it to: read the
watched prefix, write the output and timing-record prefixes, consume its queue, send to its DLQ,
use the idempotency ledger, write its own log group. The statement ``Sid``s name that purpose, so
a test (and a reviewer) can read the document statement by statement. The Sids and statement
shape follow ``event_handlers.permissions`` on the events branch (WriteTimingRecords and the
poller's statements are this backend's additions); no ``logs:CreateLogGroup``: the plan creates
the group, with its retention, before the function exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERSION = "2012-10-17"
LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
QUEUE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


@dataclass(frozen=True)
class FunctionAccess:
    """What one function touches; ``None`` where it touches nothing of that kind."""

    bucket: str
    watched_prefix: str
    output_prefix: str
    records_prefix: str
    log_group_arn: str
    queue_arn: str | None = None
    dlq_arn: str | None = None
    ledger_table_arn: str | None = None
    list_watched_prefix: bool = False  # a scheduled poller lists; an event handler never does
    state_key: str | None = None  # a scheduled poller's cursor object


def _statement(sid: str, actions: tuple[str, ...], resources: list[str], **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources, **extra}


def object_arn(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}*"


def function_role_policy(access: FunctionAccess) -> dict[str, Any]:
    """The role's only inline policy: nothing beyond what ``access`` names."""
    a = access
    statements = [
        _statement("ReadWatchedObjects", ("s3:GetObject",), [object_arn(a.bucket, a.watched_prefix)])
    ]
    if a.list_watched_prefix:
        statements.append(
            _statement(
                "ListWatchedPrefix",
                ("s3:ListBucket",),
                [f"arn:aws:s3:::{a.bucket}"],
                Condition={"StringLike": {"s3:prefix": [f"{a.watched_prefix}*"]}},
            )
        )
    statements.append(_statement("WriteOutputs", ("s3:PutObject",), [object_arn(a.bucket, a.output_prefix)]))
    records = [object_arn(a.bucket, a.records_prefix)]
    statements.append(_statement("WriteTimingRecords", ("s3:PutObject",), records))
    if a.state_key:
        state = [f"arn:aws:s3:::{a.bucket}/{a.state_key}"]
        statements.append(_statement("KeepPollerState", ("s3:GetObject", "s3:PutObject"), state))
    if a.queue_arn:
        statements.append(_statement("ConsumeSourceQueue", QUEUE_ACTIONS, [a.queue_arn]))
    if a.dlq_arn:
        statements.append(_statement("SendDeadLetters", ("sqs:SendMessage",), [a.dlq_arn]))
    if a.ledger_table_arn:
        statements.append(_statement("UseIdempotencyLedger", LEDGER_ACTIONS, [a.ledger_table_arn]))
    statements.append(_statement("WriteOwnLogs", LOG_ACTIONS, [f"{a.log_group_arn}:*"]))
    return {"Version": VERSION, "Statement": statements}


def assume_role_policy(service: str) -> dict[str, Any]:
    """Trust ``service`` (e.g. ``lambda.amazonaws.com``): the standard execution-role trust."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def queue_policy(queue_arn: str, bucket_arn: str, account_id: str) -> dict[str, Any]:
    """Let this bucket, in this account, send its notifications to the queue (and nothing else)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "AllowS3Notifications",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {
                    "ArnLike": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            }
        ],
    }
