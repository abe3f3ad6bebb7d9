"""Least-privilege IAM policy documents for the functions a plan deploys. Pure.

Each statement grants one thing a function does, on exactly the resource it does it to: read the
watched prefix, write the output and timing-record prefixes, consume its queue, send to its DLQ,
use the idempotency ledger, write its own log group. The statement ``Sid``s name that purpose, so
a test (and a reviewer) can read the document statement by statement. The handler's statements
are ``event_handlers.permissions``' (one source for what the handler needs); WriteTimingRecords
and the scheduled poller's statements are this backend's additions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from event_handlers.permissions import FunctionGrants, function_policy
from event_handlers.trigger import queue_policy as trigger_queue_policy

VERSION = "2012-10-17"


@dataclass(frozen=True)
class FunctionAccess:
    """What one function touches; ``None`` where it touches nothing of that kind."""

    function_name: str
    bucket: str
    watched_prefix: str
    output_prefix: str
    records_prefix: str
    region: str
    account_id: str
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
    """The role's only inline policy: ``event_handlers.permissions.function_policy`` (what the handler
    does) plus what this backend adds: the timing records and, for a scheduled poller, its listing
    and cursor state. Nothing else."""
    a = access
    document = function_policy(
        FunctionGrants(
            function_name=a.function_name,
            bucket=a.bucket,
            watched_prefix=a.watched_prefix,
            output_prefix=a.output_prefix,
            region=a.region,
            account_id=a.account_id,
            queue_arn=a.queue_arn,
            dlq_arn=a.dlq_arn,
            ledger_table_arn=a.ledger_table_arn,
        )
    )
    statements: list[dict[str, Any]] = list(document["Statement"])
    extra = [_statement("WriteTimingRecords", ("s3:PutObject",), [object_arn(a.bucket, a.records_prefix)])]
    if a.list_watched_prefix:
        extra.append(
            _statement(
                "ListWatchedPrefix",
                ("s3:ListBucket",),
                [f"arn:aws:s3:::{a.bucket}"],
                Condition={"StringLike": {"s3:prefix": [f"{a.watched_prefix}*"]}},
            )
        )
    if a.state_key:
        state = [f"arn:aws:s3:::{a.bucket}/{a.state_key}"]
        extra.append(_statement("KeepPollerState", ("s3:GetObject", "s3:PutObject"), state))
    after = max(i for i, s in enumerate(statements) if s["Sid"] in ("ReadWatchedObjects", "WriteOutputs")) + 1
    return {"Version": document["Version"], "Statement": statements[:after] + extra + statements[after:]}


def assume_role_policy(service: str) -> dict[str, Any]:
    """Trust ``service`` (e.g. ``lambda.amazonaws.com``): the standard execution-role trust."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def queue_policy(queue_arn: str, bucket_arn: str, account_id: str) -> dict[str, Any]:
    """Let this bucket, in this account, send its notifications to the queue (and nothing else):
    the same document the trigger wiring sets (``event_handlers.trigger.queue_policy``)."""
    return trigger_queue_policy(queue_arn, bucket_arn, account_id)
