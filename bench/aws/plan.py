"""Every AWS resource a scenario needs, per strategy, as a typed plan. Pure: nothing is created.

The plan is the single description the deployer, the CloudFormation template and ``pve aws plan``
all read, so what is printed is what is deployed. Names carry the run id (``pve-<run id>-...``)
and every taggable resource carries the ``pve:run-id`` tag, the only thing teardown and cleanup
ever act on. ARNs are computed here from the account and region (partition ``aws`` only).
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from bench.aws.boundary import boundary_arn
from bench.aws.estimate import Estimate, estimate_run
from bench.aws.policies import FunctionAccess, assume_role_policy, function_role_policy
from bench.aws.resources import (
    HANDLER,
    KIND_ORDER,
    LAMBDA_RUNTIME,
    LOG_RETENTION_DAYS,
    PACKAGE,
    RECORDS_PREFIX,
    ROLE_PATH,
    TAGGABLE,
    Arns,
    Resource,
    ResourceKind,
    batching_window,
    lambda_runtime,
    output_prefix,
)
from bench.aws.routes import AwsRoute, Delivery, Site, aws_route
from bench.errors import InputError
from bench.scenario.spec import Scenario, Strategy, async_part, event_loss_of, function_of
from event_handlers.filters import KeyFilter

__all__ = [  # the vocabulary moved to bench.aws.resources stays importable from here
    "HANDLER",
    "KIND_ORDER",
    "LAMBDA_RUNTIME",
    "PACKAGE",
    "RECORDS_PREFIX",
    "ROLE_PATH",
    "TAGGABLE",
    "Resource",
    "ResourceKind",
    "batching_window",
    "build_plan",
    "lambda_runtime",
]

TAG_KEY = "pve:run-id"
NAME_PREFIX = "pve-"
LEDGER_TTL_ATTRIBUTE = "expiration"  # as event_handlers.dynamodb_ledger writes it
PLACEHOLDER_ACCOUNT = "<account-id>"
CFN_ACCOUNT = "${AWS::AccountId}"  # the account as CloudFormation names it (pve aws template)


@dataclass(frozen=True)
class StrategyTarget:
    """Where one strategy runs on AWS: its bucket, and what of it runs here, if anything."""

    strategy: str
    kind: str
    bucket: str
    function: str | None
    queue_url_name: str | None
    runs_here: str


@dataclass(frozen=True)
class Plan:
    run_id: str
    region: str
    account_id: str
    scenario: str
    resources: tuple[Resource, ...]
    targets: tuple[StrategyTarget, ...]
    skipped: tuple[tuple[str, str], ...]
    estimate: Estimate
    runtime: str

    @property
    def tags(self) -> dict[str, str]:
        return {TAG_KEY: self.run_id}

    def of_kind(self, kind: ResourceKind) -> list[Resource]:
        return [r for r in self.resources if r.kind is kind]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.resources:
            out[str(r.kind)] = out.get(str(r.kind), 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "region": self.region,
            "account_id": None if self.account_id == PLACEHOLDER_ACCOUNT else self.account_id,
            "scenario": self.scenario,
            "tags": self.tags,
            "runtime": self.runtime,
            "resources": [r.as_dict() for r in self.resources],
            "resource_counts": self.counts(),
            "strategies": [vars(t) for t in self.targets],
            "skipped": [{"strategy": s, "reason": why} for s, why in self.skipped],
            "estimate": self.estimate.as_dict(),
        }


REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


def check_region(region: str | None) -> str:
    """A region must be named explicitly (no default from the environment) and look like one."""
    if not region:
        raise InputError("--region is required: name the AWS region explicitly (e.g. --region eu-west-1)")
    if not REGION_RE.match(region):
        raise InputError(f"--region {region!r} is not an AWS region name (e.g. us-east-1)")
    return region


def new_run_id() -> str:
    """Eight random hex digits: short enough for every name limit, unique enough for one account."""
    return secrets.token_hex(4)


def _slug(text: str, limit: int = 20) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "s"


def base_name(run_id: str, index: int, strategy: str) -> str:
    """``pve-<run id>-<index><slug>``: valid as a bucket, function, queue, role and rule name."""
    return f"{NAME_PREFIX}{run_id}-{index}{_slug(strategy)}"


def check_recursion(scenario: Scenario) -> None:
    """Refuse, before anything is deployed, a layout where a function's writes could trigger it."""
    watched = KeyFilter(scenario.workload.prefix)
    if not scenario.workload.prefix:
        raise InputError(
            f"scenario {scenario.name!r}: workload.prefix is empty, so the function's outputs would "
            "trigger it again (an invocation loop); give the watched files a prefix"
        )
    for what, prefix in (("output", output_prefix(scenario)), ("records", RECORDS_PREFIX)):
        if not prefix or watched.could_match_output(prefix):
            raise InputError(
                f"scenario {scenario.name!r}: the {what} prefix {prefix!r} overlaps the watched prefix "
                f"{scenario.workload.prefix!r}: the function would trigger itself"
            )


def skip_reason(scenario: Scenario, spec: Strategy) -> str | None:
    """Why a strategy cannot run on AWS as configured, or None."""
    if scenario.backend_of(spec) == "folder":
        return "a local folder strategy: nothing to deploy on AWS"
    refusal = aws_route(spec.kind).refuse(spec)
    if refusal:
        return refusal
    if event_loss_of(spec) > 0:
        return "event_loss drops notifications on purpose; AWS cannot be told to"
    return None


# ARNs name their partition: "aws", "aws-cn" (China), "aws-us-gov" (GovCloud). IAM User Guide,
# "IAM identifiers" / AWS General Reference, "Amazon Resource Names (ARNs)" (read 2026-12-07).
PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))


def partition(region: str) -> str:
    """The ARN partition of ``region``."""
    return next((name for prefix, name in PARTITIONS if region.startswith(prefix)), "aws")


def in_partition(resource: Resource, name: str) -> Resource:
    """``resource`` with every ``arn:aws:`` in its ARN and spec moved to partition ``name`` (one
    place for all of them: the plan's, the policies', the notification's)."""
    if name == "aws":
        return resource
    moved = json.loads(json.dumps(resource.spec).replace('"arn:aws:', f'"arn:{name}:'))
    return dataclasses.replace(resource, arn=resource.arn.replace("arn:aws:", f"arn:{name}:", 1), spec=moved)


def build_plan(
    scenario: Scenario, *, region: str, account_id: str | None = None, run_id: str | None = None
) -> Plan:
    """The plan for ``scenario`` in ``region`` (ARNs use ``account_id``, or a placeholder)."""
    check_region(region)
    check_recursion(scenario)
    if account_id is not None and account_id != CFN_ACCOUNT and not re.fullmatch(r"\d{12}", account_id):
        raise InputError(f"--account {account_id!r} is not a 12-digit AWS account id")
    run_id = run_id or new_run_id()
    if not re.fullmatch(r"[0-9a-f]{8}", run_id):
        raise InputError(f"run id {run_id!r} is not 8 lowercase hex digits")
    account = account_id or PLACEHOLDER_ACCOUNT
    arns = Arns(region, account)
    resources: list[Resource] = []
    targets: list[StrategyTarget] = []
    skipped: list[tuple[str, str]] = []
    table = f"{NAME_PREFIX}{run_id}-ledger"
    needs_table = False
    for index, spec in enumerate(scenario.strategies):
        reason = skip_reason(scenario, spec)
        if reason:
            skipped.append((spec.name, reason))
            continue
        base = base_name(run_id, index, spec.name)
        resources.append(
            Resource(ResourceKind.BUCKET, base, f"arn:aws:s3:::{base}", spec.name, {"region": region})
        )
        route = aws_route(spec.kind)
        site = Site(scenario, spec, base, table, arns)
        if route.has_function:
            needs_table = True
            resources.extend(function_resources(site, route))
        function = base if route.has_function else None
        queue_name = site.queue if route.queue else None
        targets.append(StrategyTarget(spec.name, spec.kind, base, function, queue_name, route.runs_here))
    if needs_table:
        resources.insert(
            0,
            Resource(
                ResourceKind.LEDGER_TABLE,
                table,
                arns.table(table),
                "",
                {
                    "key": "id",
                    "billing_mode": "PAY_PER_REQUEST",
                    "ttl_attribute": LEDGER_TTL_ATTRIBUTE,
                    "purpose": "idempotency ledger shared by the run's functions",
                },
            ),
        )
    resources.sort(key=lambda r: KIND_ORDER[r.kind])
    plan_targets = tuple(targets)
    return Plan(
        run_id=run_id,
        region=region,
        account_id=account,
        scenario=scenario.name,
        resources=tuple(in_partition(r, partition(region)) for r in resources),
        targets=plan_targets,
        skipped=tuple(skipped),
        estimate=estimate_run(scenario, {t.strategy for t in plan_targets}),
        runtime=lambda_runtime(),
    )


def function_resources(site: Site, route: AwsRoute) -> list[Resource]:
    """A deployed strategy's function with its DLQ, role and logs (every route has them), then what
    its route builds to feed it (``bench.aws.routes``)."""
    assert route.build is not None
    spec, arns, name = site.spec, site.arns, site.base
    settings = function_of(spec)
    if settings is None:  # AWS_ROUTES gave a builder to a kind without a function: a bug in the table
        raise TypeError(f"strategy {spec.name!r} ({spec.kind}) has a route builder but no function")
    role, log_group = f"{site.base}-fn", f"/aws/lambda/{name}"
    trigger = site.trigger
    environment = {
        "PVE_STRATEGY": spec.name,
        "PVE_TASK": site.scenario.task,
        "PVE_OUTPUT_PREFIX": output_prefix(site.scenario),
        "PVE_RECORDS_PREFIX": RECORDS_PREFIX,
        "PVE_LEDGER_TABLE": site.table,
        "PVE_DLQ_URL": f"https://sqs.{arns.region}.amazonaws.com/{arns.account}/{site.dlq}",
        "PVE_TRIGGER_FILTERS": f"{trigger.prefix}|{trigger.suffix}",
    }
    function = {
        "runtime": lambda_runtime(),
        "handler": HANDLER,
        "package": list(PACKAGE),
        "memory_mb": settings.memory_mb,
        "timeout_s": max(1, int(settings.timeout_s)),
        "architecture": settings.architecture,
        "reserved_concurrency": settings.reserved_concurrency,
        "role": arns.role(role),
        "environment": environment,
    }
    dlq = {"attributes": {"MessageRetentionPeriod": "1209600"}}
    out = [
        Resource(ResourceKind.DLQ, site.dlq, arns.queue(site.dlq), spec.name, dlq),
        Resource(ResourceKind.ROLE, role, arns.role(role), spec.name, _role(site, route)),
        Resource(
            ResourceKind.LOG_GROUP,
            log_group,
            arns.log_group(log_group),
            spec.name,
            {"retention_days": LOG_RETENTION_DAYS},
        ),
        Resource(ResourceKind.FUNCTION, name, arns.function(name), spec.name, function),
    ]
    if route.delivery is Delivery.ASYNC:
        invoke = async_part(spec)  # the async route's settings (a hybrid's: its events part's)
        retries = {
            "maximum_retry_attempts": invoke.max_retries,
            "maximum_event_age_s": int(invoke.max_event_age_s),
            "on_failure": arns.queue(site.dlq),
        }
        out.append(
            Resource(ResourceKind.INVOKE_CONFIG, f"{name}:async", arns.function(name), spec.name, retries)
        )
    return out + route.build(site)


def _role(site: Site, route: AwsRoute) -> dict[str, Any]:
    """The function's execution role: least privilege for what its route does."""
    arns = site.arns
    access = FunctionAccess(
        function_name=site.base,
        bucket=site.base,
        watched_prefix=site.scenario.workload.prefix,
        output_prefix=output_prefix(site.scenario),
        records_prefix=RECORDS_PREFIX,
        region=arns.region,
        account_id=arns.account,
        queue_arn=arns.queue(site.queue) if route.queue else None,
        dlq_arn=arns.queue(site.dlq),
        ledger_table_arn=arns.table(site.table),
        list_watched_prefix=route.lists_watched_prefix,
        state_key=f"{RECORDS_PREFIX}state/{site.spec.name}.json" if route.lists_watched_prefix else None,
    )
    return {
        "path": ROLE_PATH,
        "permissions_boundary": boundary_arn(arns.account),
        "assume_role_policy": assume_role_policy("lambda.amazonaws.com"),
        "policy_name": "least-privilege",
        "policy": function_role_policy(access),
    }
