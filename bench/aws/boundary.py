"""The permissions boundary every role a run creates carries, so the operator cannot escalate.

Without it, ``iam:CreateRole`` + ``iam:PutRolePolicy`` + ``iam:PassRole`` + ``lambda:CreateFunction``
let whoever holds the operator policy run code with any policy they write. With it, a role's
effective permissions are its inline policy *intersected with* this boundary (IAM User Guide,
"Permissions boundaries for IAM entities", read 2026-12-07), and the operator policy
(``docs/aws/operator-policy.json``) allows creating and changing roles only when this boundary is
attached (condition key ``iam:PermissionsBoundary``), denies removing it, and denies editing the
boundary policy itself.

The boundary is a customer managed policy ``/pve/pve-function-boundary`` in the account. The
operator policy may not create or edit it, so an administrator creates it once (``ensure_boundary``
does, when run with an administrator's credentials; its document is ``boundary_policy()``, also
shipped as ``docs/aws/boundary-policy.json``). Teardown leaves it: it belongs to the account, not
to a run. It allows only what a pve function does, on ``pve-`` resources; every function role
policy a plan builds must fit inside it (a test checks every route).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bench.errors import InputError

if TYPE_CHECKING:
    from types_boto3_iam.client import IAMClient

BOUNDARY_PATH = "/pve/"
BOUNDARY_NAME = "pve-function-boundary"
#: The boundary as the operator policy names it: the caller's own account, whatever it is.
BOUNDARY_IN_CALLERS_ACCOUNT = f"arn:aws:iam::${{aws:PrincipalAccount}}:policy{BOUNDARY_PATH}{BOUNDARY_NAME}"


def boundary_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:policy{BOUNDARY_PATH}{BOUNDARY_NAME}"


def _allow(sid: str, actions: list[str], resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def boundary_policy() -> dict[str, Any]:
    """The most any pve function role may ever do: read and write objects, list, use its queues,
    its ledger and its own logs, on ``pve-`` resources only. Nothing of IAM, nothing elsewhere."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            _allow("PveObjects", ["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::pve-*/*"),
            _allow("PveListing", ["s3:ListBucket"], "arn:aws:s3:::pve-*"),
            _allow(
                "PveQueues",
                ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage"],
                "arn:aws:sqs:*:*:pve-*",
            ),
            _allow(
                "PveLedger",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
                "arn:aws:dynamodb:*:*:table/pve-*",
            ),
            _allow(
                "PveLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "arn:aws:logs:*:*:log-group:/aws/lambda/pve-*",
            ),
        ],
    }


def ensure_boundary(iam: IAMClient, account_id: str) -> str:
    """The boundary's ARN; created from ``boundary_policy()`` if the account has none yet.

    Creating it takes an administrator: the operator policy denies it (else its holder could write
    the boundary). An operator who finds none gets one line saying who must create it, and how.
    """
    arn = boundary_arn(account_id)
    try:
        iam.get_policy(PolicyArn=arn)
        return arn
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise
    try:
        iam.create_policy(
            PolicyName=BOUNDARY_NAME,
            Path=BOUNDARY_PATH,
            PolicyDocument=json.dumps(boundary_policy()),
            Description="pve: the most any role a poll-vs-events run creates may do",
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("AccessDenied", "AccessDeniedException"):
            raise InputError(
                f"the permissions boundary {arn} does not exist and these credentials may not create "
                "it; an administrator creates it once: aws iam create-policy --path /pve/ "
                f"--policy-name {BOUNDARY_NAME} --policy-document file://docs/aws/boundary-policy.json"
            ) from exc
        if exc.response.get("Error", {}).get("Code") != "EntityAlreadyExists":  # made meanwhile
            raise
    return arn
