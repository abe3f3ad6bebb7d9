"""``pve aws doctor``: is this account, region and machine ready for a first real run? Read-only.

Each check is a row: what it found, and what to fix when it is not ready. A check the endpoint
cannot answer (moto's server has no GetAccountSettings or policy simulator; an operator may not be
allowed to simulate) is "unknown", not a failure: the run itself then checks what it can. Nothing
is created; the only requests are reads (STS, Lambda's account settings, IAM's policy simulator).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from bench.aws.deploy import Clients
from bench.aws.package import PackagingError, check_wheel, download_command, local_matches
from bench.aws.plan import build_plan, lambda_runtime, partition
from bench.aws.run import UNRESERVED_FLOOR, account_concurrency

OPERATOR_POLICY = Path(__file__).resolve().parents[2] / "docs" / "aws" / "operator-policy.json"
FIRST_SCENARIO = "quickstart"


class Status(enum.StrEnum):
    OK = "ok"
    FIX = "fix"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    found: str
    fix: str = ""


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str


def run_checks(
    clients: Clients, region: str, caller: Caller, *, on_endpoint: bool, wheel: Path | None
) -> list[Check]:
    """Every check, in the order a first run meets them."""
    return [
        Check("credentials", Status.OK, f"account {caller.account} as {caller.arn}"),
        check_partition(region),
        check_concurrency(clients),
        check_permissions(clients, region, caller),
        check_pillow(on_endpoint, wheel),
        check_cost(region, caller.account),
    ]


def ready(checks: list[Check]) -> bool:
    return all(c.status is not Status.FIX for c in checks)


def check_partition(region: str) -> Check:
    return Check(
        "partition",
        Status.OK,
        f"{region} is in partition {partition(region)!r} (ARNs arn:{partition(region)}:...)",
    )


def check_concurrency(clients: Clients) -> Check:
    account = account_concurrency(clients)
    if account is None:
        return Check(
            "Lambda concurrency", Status.UNKNOWN, "GetAccountSettings not answered (no route, or not allowed)"
        )
    found = f"limit {account.limit}, {account.unreserved} unreserved, {account.reservable} reservable"
    if account.limit < 1000:
        return Check(
            "Lambda concurrency",
            Status.OK,
            found + f" (a new account's limit; AWS keeps {UNRESERVED_FLOOR} unreserved)",
            "scenarios with function.reserved_concurrency are refused until Service Quotas raises the limit",
        )
    return Check("Lambda concurrency", Status.OK, found)


def check_pillow(on_endpoint: bool, wheel: Path | None) -> Check:
    runtime = lambda_runtime()
    if on_endpoint and wheel is None:
        return Check(
            "Pillow for the function", Status.OK, "not needed: no function code runs on this endpoint"
        )
    if wheel is not None:
        try:
            check_wheel(wheel, runtime, "x86_64")
        except PackagingError as exc:
            return Check("Pillow for the function", Status.FIX, wheel.name, str(exc))
        return Check("Pillow for the function", Status.OK, f"{wheel.name} fits {runtime} x86_64")
    if local_matches(runtime, "x86_64"):
        return Check("Pillow for the function", Status.OK, f"this machine's Pillow fits {runtime} x86_64")
    return Check(
        "Pillow for the function",
        Status.FIX,
        f"this machine's Pillow does not fit {runtime} x86_64",
        f"{download_command(runtime, 'x86_64')}, then pass the wheel with --pillow-wheel",
    )


def check_cost(region: str, account: str) -> Check:
    from bench.scenario.spec import load_scenario

    plan = build_plan(load_scenario(FIRST_SCENARIO), region=region, account_id=account)
    return Check(
        "first run's cost",
        Status.OK,
        f"'pve run {FIRST_SCENARIO} --backend aws' is estimated at ${plan.estimate.total:.4f} "
        f"({len(plan.resources)} resources; 'pve aws plan SCENARIO --region {region}' for another)",
    )


# -- permissions: IAM's policy simulator against the operator policy --------------------------------
def check_permissions(clients: Clients, region: str, caller: Caller) -> Check:
    """Simulate each Allow statement of ``docs/aws/operator-policy.json`` for the caller, on a
    sample resource its pattern matches and with a request context that meets its conditions (a
    run's tag on the request and the resource, the boundary, the service a role is passed to)."""
    source = principal_arn(clients, caller.arn)
    denied: list[str] = []
    skipped = 0
    try:
        for statement in json.loads(OPERATOR_POLICY.read_text(encoding="utf-8"))["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            context = condition_context(statement.get("Condition", {}), region, caller.account)
            if context is None:
                skipped += 1
                continue
            denied += _denied(clients, source, statement, context, region, caller.account)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        return Check("operator permissions", Status.UNKNOWN, f"the policy simulator did not answer ({code})")
    except ResponseParserError:  # moto's server answers SimulatePrincipalPolicy with an HTML 500
        return Check("operator permissions", Status.UNKNOWN, "the policy simulator did not answer")
    note = f" ({skipped} statement(s) with conditions it cannot meet not simulated)" if skipped else ""
    if denied:
        shown = ", ".join(sorted(set(denied))[:8])
        return Check(
            "operator permissions",
            Status.FIX,
            f"{len(set(denied))} action(s) denied, e.g. {shown}{note}",
            f"attach {OPERATOR_POLICY.relative_to(OPERATOR_POLICY.parents[2])} to {source}",
        )
    return Check("operator permissions", Status.OK, f"every action of the operator policy allowed{note}")


SIMPLE_CONDITIONS = ("Null", "StringEquals", "StringLike", "ArnLike", "ArnEquals")


def condition_context(
    condition: dict[str, dict[str, Any]], region: str, account: str
) -> list[dict[str, Any]] | None:
    """Context entries that meet ``condition`` as a run's requests do, or None when it uses an
    operator this does not fill in."""
    entries = []
    for operator, keys in condition.items():
        if operator not in SIMPLE_CONDITIONS:
            return None
        for key, value in keys.items():
            wanted = value[0] if isinstance(value, list) else value
            if operator == "Null":
                if str(wanted).lower() != "false":
                    return None  # "must be absent": leave the key out
                wanted = "doctor"
            text = str(wanted).replace("${aws:PrincipalAccount}", account)
            if text.startswith("arn:"):
                text = sample_arn(text, region, account)
            entries.append({"ContextKeyName": key, "ContextKeyValues": [text], "ContextKeyType": "string"})
    return entries


def principal_arn(clients: Clients, arn: str) -> str:
    """The IAM ARN the simulator takes: an assumed role's session ARN becomes its role's."""
    if ":assumed-role/" not in arn:
        return arn
    role = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
    return str(clients("iam").get_role(RoleName=role)["Role"]["Arn"])


def _denied(
    clients: Clients,
    source: str,
    statement: dict[str, Any],
    context: list[dict[str, Any]],
    region: str,
    account: str,
) -> list[str]:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    sample = [sample_arn(r, region, account) for r in resources if r != "*"]
    args: dict[str, Any] = {"PolicySourceArn": source, "ActionNames": actions}
    if sample:
        args["ResourceArns"] = sample[:1]
    if context:
        args["ContextEntries"] = context
    results = clients("iam").simulate_principal_policy(**args)["EvaluationResults"]
    return [r["EvalActionName"] for r in results if r["EvalDecision"] != "allowed"]


def sample_arn(pattern: str, region: str, account: str) -> str:
    """A concrete ARN ``pattern`` matches: its wildcards filled with this region, account, a name."""
    parts = pattern.split(":", 5)
    parts[1] = partition(region)
    if len(parts) > 3 and parts[3] == "*":
        parts[3] = region
    if len(parts) > 4 and parts[4] == "*":
        parts[4] = account
    parts[-1] = parts[-1].replace("*", "doctor")
    return ":".join(parts)


def as_row(check: Check) -> tuple[str, str, str, str]:
    return check.name, str(check.status), check.found, check.fix
