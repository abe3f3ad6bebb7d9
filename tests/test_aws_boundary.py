"""No escalation: the roles a run creates carry a permissions boundary, and the operator policy can
create or change roles only with it attached, never remove it, never edit it.

The operator policy (docs/aws/operator-policy.json) is read statement by statement, and requests
are evaluated against it with IAM's rules for the operators it uses (explicit deny wins, then an
allow whose every condition holds; "IAM JSON policy evaluation logic", IAM User Guide, read
2026-12-07). moto stores IAM policies but enforces none, so a real account is the only full proof;
what is checked here is the document and what the deploy sends.
"""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bench.aws.boundary import (
    BOUNDARY_IN_CALLERS_ACCOUNT,
    boundary_arn,
    boundary_policy,
    ensure_boundary,
)
from bench.aws.deploy import Clients
from bench.aws.plan import ResourceKind, build_plan
from bench.errors import InputError
from bench.live.clients import ApiCallCounter, ClientFactory
from tests.aws_moto import REGION, aws_fixture, moto_endpoint_fixture  # noqa: F401 - fixtures
from tests.test_aws_deploy import EVERY_ROUTE, deployed_plan, tiny

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
BOUNDARY = boundary_arn(ACCOUNT)
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pve/pve-0a1b2c3d-0direct-fn"
TAGGED = {"aws:ResourceTag/pve:run-id": "0a1b2c3d"}
TAGGING = {"aws:RequestTag/pve:run-id": "0a1b2c3d"}
#: IAM writes that decide what a role may do: each must be allowed only with the boundary attached
ROLE_POWER = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
}


def operator_policy() -> dict[str, Any]:
    return json.loads((ROOT / "docs" / "aws" / "operator-policy.json").read_text(encoding="utf-8"))


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


# -- a small evaluator for the operators the policy uses ------------------------------------------
def _holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, expected in tests.items():
            values = [v.replace("${aws:PrincipalAccount}", ACCOUNT) for v in _listed(expected)]
            got = context.get(key)
            if operator == "StringEquals" and got not in values:
                return False
            if operator == "StringNotEquals" and got in values:
                return False
            if operator == "StringLike" and not (got and any(fnmatch.fnmatchcase(got, v) for v in values)):
                return False
            if operator == "ArnLike" and not (got and any(fnmatch.fnmatchcase(got, v) for v in values)):
                return False
            if operator == "Null" and (got is None) != (values == ["true"]):
                return False
            if operator not in ("StringEquals", "StringNotEquals", "StringLike", "ArnLike", "Null"):
                raise AssertionError(f"the evaluator does not know {operator}")
    return True


def _matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    return (
        any(fnmatch.fnmatchcase(action, a) for a in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
        and _holds(statement.get("Condition", {}), context)
    )


def allowed(action: str, resource: str, **context: str) -> bool:
    statements = operator_policy()["Statement"]
    if any(s["Effect"] == "Deny" and _matches(s, action, resource, context) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and _matches(s, action, resource, context) for s in statements)


# -- the policy, statement by statement -----------------------------------------------------------
def test_every_allow_that_shapes_a_role_requires_the_boundary() -> None:
    for statement in operator_policy()["Statement"]:
        actions = set(_listed(statement["Action"]))
        if statement["Effect"] != "Allow" or not actions & ROLE_POWER:
            continue
        condition = statement.get("Condition", {}).get("StringEquals", {})
        assert condition.get("iam:PermissionsBoundary") == BOUNDARY_IN_CALLERS_ACCOUNT, statement["Sid"]


def test_no_allow_uses_an_action_wildcard_or_grants_iam_beyond_the_run() -> None:
    allowed_iam = {
        "iam:CreateRole", "iam:TagRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy", "iam:DeleteRole", "iam:GetRole", "iam:ListRoleTags",
        "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:PassRole",
        "iam:ListRoles",
        "iam:SimulatePrincipalPolicy",  # read-only: pve aws doctor checks the operator's own permissions
    }  # fmt: skip
    for statement in operator_policy()["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        for action in _listed(statement["Action"]):
            assert "*" not in action, (statement["Sid"], action)
            if action.startswith("iam:"):
                assert action in allowed_iam, (statement["Sid"], action)


def test_the_boundary_cannot_be_removed_replaced_or_edited() -> None:
    deny = {s["Sid"]: s for s in operator_policy()["Statement"] if s["Effect"] == "Deny"}
    assert deny["DenyRemovingTheBoundary"]["Action"] == ["iam:DeleteRolePermissionsBoundary"]
    edits = set(deny["DenyEditingTheBoundaryPolicy"]["Action"])
    assert {"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"} <= edits
    assert (
        deny["DenyEditingTheBoundaryPolicy"]["Resource"] == "arn:aws:iam::*:policy/pve/pve-function-boundary"
    )
    without = deny["DenyRoleWritesWithoutTheBoundary"]
    assert set(without["Action"]) == ROLE_POWER
    assert without["Condition"] == {
        "StringNotEquals": {"iam:PermissionsBoundary": BOUNDARY_IN_CALLERS_ACCOUNT}
    }


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("iam:CreateRole", ROLE, TAGGING),  # no boundary at all
        (
            "iam:CreateRole",
            ROLE,
            {**TAGGING, "iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/Admin"},
        ),
        ("iam:CreateRole", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),  # untagged
        ("iam:PutRolePolicy", ROLE, {}),  # a role without the boundary (say, made before 0.3)
        ("iam:AttachRolePolicy", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),  # never needed
        (
            "iam:PutRolePermissionsBoundary",
            ROLE,
            {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/x"},
        ),
        ("iam:DeleteRolePermissionsBoundary", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),
        ("iam:UpdateAssumeRolePolicy", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),
        ("iam:CreatePolicyVersion", BOUNDARY, {}),
        ("iam:SetDefaultPolicyVersion", BOUNDARY, {}),
        ("iam:CreatePolicy", BOUNDARY, {}),
        (
            "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/admin",
            {"iam:PermissionsBoundary": BOUNDARY, **TAGGING},
        ),
        (
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/admin",
            {"iam:PassedToService": "lambda.amazonaws.com"},
        ),
        ("iam:PassRole", ROLE, {"iam:PassedToService": "ec2.amazonaws.com"}),
        ("sqs:CreateQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pve-x", {}),  # untagged
        ("sqs:DeleteQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pve-not-ours", {}),
        ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pve-x", {}),
        ("lambda:DeleteFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pve-not-ours", {}),
    ],
)
def test_an_escalation_or_foreign_resource_request_is_denied(
    action: str, resource: str, context: dict[str, str]
) -> None:
    assert not allowed(action, resource, **context)


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("iam:CreateRole", ROLE, {"iam:PermissionsBoundary": BOUNDARY, **TAGGING}),
        ("iam:TagRole", ROLE, TAGGING),
        ("iam:PutRolePolicy", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),
        ("iam:DeleteRolePolicy", ROLE, {"iam:PermissionsBoundary": BOUNDARY}),
        ("iam:DeleteRole", ROLE, TAGGED),
        ("iam:PassRole", ROLE, {"iam:PassedToService": "lambda.amazonaws.com"}),
        ("iam:GetPolicy", BOUNDARY, {}),
        ("sqs:CreateQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pve-x", TAGGING),
        ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pve-x", TAGGED),
        ("sqs:DeleteQueue", f"arn:aws:sqs:{REGION}:{ACCOUNT}:pve-x", TAGGED),
        ("lambda:CreateFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pve-x", TAGGING),
        ("lambda:DeleteFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:pve-x", TAGGED),
    ],
)
def test_what_a_run_does_is_still_allowed(action: str, resource: str, context: dict[str, str]) -> None:
    assert allowed(action, resource, **context)


# -- the boundary itself --------------------------------------------------------------------------
def test_the_shipped_boundary_document_is_the_code_s() -> None:
    shipped = json.loads((ROOT / "docs" / "aws" / "boundary-policy.json").read_text(encoding="utf-8"))
    assert shipped == boundary_policy()


def test_every_function_role_fits_inside_the_boundary() -> None:
    """A boundary narrower than a role's policy would break the function: every action on every
    resource any route's role is granted must be allowed by the boundary too."""
    plan = build_plan(tiny(EVERY_ROUTE), region=REGION, account_id=ACCOUNT)
    boundary = boundary_policy()["Statement"]
    roles = plan.of_kind(ResourceKind.ROLE)
    assert {r.strategy for r in roles} >= {"direct", "queue", "bus", "scheduled"}
    for role in roles:
        assert role.spec["permissions_boundary"] == BOUNDARY
        for statement in role.spec["policy"]["Statement"]:
            for action in _listed(statement["Action"]):
                for resource in _listed(statement["Resource"]):
                    assert any(_matches(b, action, resource, {}) for b in boundary), (action, resource)


def test_the_boundary_grants_no_iam_and_nothing_outside_pve() -> None:
    for statement in boundary_policy()["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any(a.startswith(("iam:", "sts:", "lambda:")) or "*" in a for a in statement["Action"])
        assert re.search(r"[:/]pve-\*", statement["Resource"]), statement["Sid"]


# -- deployed on moto's server --------------------------------------------------------------------
def test_every_deployed_role_carries_the_boundary(aws: Clients, moto_endpoint: str) -> None:
    # the administrator's one-time step, with clients of their own (not counted as the run's)
    admin = Clients(ClientFactory(ApiCallCounter(), endpoint_url=moto_endpoint, region=REGION))("iam")
    account = aws("sts").get_caller_identity()["Account"]
    ensure_boundary(admin, account)
    plan, _ = deployed_plan(aws, EVERY_ROUTE)
    iam = aws("iam")
    roles = plan.of_kind(ResourceKind.ROLE)
    assert roles
    for role in roles:
        got = iam.get_role(RoleName=role.name)["Role"]["PermissionsBoundary"]
        assert got["PermissionsBoundaryArn"] == boundary_arn(account)
    calls = aws.factory.counter.by_role()["setup"]
    assert "iam.GetPolicy" in calls
    assert "iam.CreatePolicy" not in calls  # the operator never writes the boundary
    document = iam.get_policy_version(PolicyArn=boundary_arn(account), VersionId="v1")["PolicyVersion"]
    stored = document["Document"]
    assert (json.loads(stored) if isinstance(stored, str) else stored) == boundary_policy()


class _DeniedIam:
    """IAM as the operator policy answers an operator: the boundary is missing and may not be made."""

    def get_policy(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "NoSuchEntity", "Message": "not found"}}, "GetPolicy")

    def create_policy(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "explicit deny"}}, "CreatePolicy")


def test_an_operator_without_the_boundary_is_told_who_creates_it() -> None:
    with pytest.raises(
        InputError, match=r"pve-function-boundary does not exist.*an administrator creates it"
    ):
        ensure_boundary(_DeniedIam(), ACCOUNT)  # type: ignore[arg-type]
