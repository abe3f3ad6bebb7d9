"""Every AWS resource a scenario needs, per strategy, as a typed plan. Pure: nothing is created.

The plan is the single description the deployer, the CloudFormation template and ``pve aws plan``
all read, so what is printed is what is deployed. Names carry the run id (``pve-<run id>-...``)
and every taggable resource carries the ``pve:run-id`` tag, the only thing teardown and cleanup
ever act on. ARNs are computed here from the account and region (partition ``aws`` only).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.aws.boundary import boundary_arn
from bench.aws.estimate import Estimate, estimate_run
from bench.aws.policies import FunctionAccess, assume_role_policy, function_role_policy, queue_policy
from bench.errors import InputError
from bench.live.strategies.base import OUTPUT_PREFIXES
from bench.scenario.spec import FunctionSettings, Scenario
from event_handlers.filters import KeyFilter
from event_handlers.trigger import NotificationRule, build_notification_configuration, eventbridge_pattern
from pollers.eventbridge import schedule_expression

TAG_KEY = "pve:run-id"
NAME_PREFIX = "pve-"
ROLE_PATH = "/pve/"
RECORDS_PREFIX = "pve-records/"
LOG_RETENTION_DAYS = 1
LEDGER_TTL_ATTRIBUTE = "expiration"  # as event_handlers.dynamodb_ledger writes it
HANDLER = "pve_aws_handler.lambda_handler"
PACKAGE = ("pve_aws_handler.py", "event_handlers/", "PIL/", "pillow.libs/")
PLACEHOLDER_ACCOUNT = "<account-id>"
CFN_ACCOUNT = "${AWS::AccountId}"  # the account as CloudFormation names it (pve aws template)
EVENT_ROUTES = {"s3-lambda", "s3-sqs-lambda", "s3-eventbridge-lambda", "hybrid"}
RUNS_HERE = {"poll": "the poller runs on this machine against the bucket", "hybrid": "the sweep runs here"}


class ResourceKind(enum.StrEnum):
    """Resource kinds, in the order they are created (teardown runs in reverse)."""

    LEDGER_TABLE = "dynamodb.table"
    BUCKET = "s3.bucket"
    DLQ = "sqs.dead-letter-queue"
    QUEUE = "sqs.queue"
    QUEUE_POLICY = "sqs.queue-policy"
    ROLE = "iam.role"
    LOG_GROUP = "logs.log-group"
    FUNCTION = "lambda.function"
    INVOKE_CONFIG = "lambda.async-invoke-config"
    PERMISSION = "lambda.permission"
    EVENT_SOURCE_MAPPING = "lambda.event-source-mapping"
    RULE = "events.rule"
    NOTIFICATION = "s3.notification"


KIND_ORDER = {kind: i for i, kind in enumerate(ResourceKind)}
TAGGABLE = {
    ResourceKind.LEDGER_TABLE,
    ResourceKind.BUCKET,
    ResourceKind.DLQ,
    ResourceKind.QUEUE,
    ResourceKind.ROLE,
    ResourceKind.LOG_GROUP,
    ResourceKind.FUNCTION,
    ResourceKind.EVENT_SOURCE_MAPPING,
    ResourceKind.RULE,
}


@dataclass(frozen=True)
class Resource:
    """One resource: its kind, physical name, ARN, owning strategy ("" if shared) and settings."""

    kind: ResourceKind
    name: str
    arn: str
    strategy: str
    spec: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "name": self.name,
            "arn": self.arn,
            "strategy": self.strategy,
            "tagged": self.kind in TAGGABLE,
            "spec": dict(self.spec),
        }


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


# python3.11 (this project's floor) can no longer be created on Lambda (blocked 2026-07-31);
# python3.13 is supported until 2029-06-30 (cfn-lint 1.51.0 LmbdRuntimeLifecycle.json, read 2026-11-27).
LAMBDA_RUNTIME = "python3.13"


def lambda_runtime() -> str:
    """The Lambda runtime every function is deployed with (its Pillow must be built for it)."""
    return LAMBDA_RUNTIME


def _slug(text: str, limit: int = 20) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return slug[:limit].strip("-") or "s"


def base_name(run_id: str, index: int, strategy: str) -> str:
    """``pve-<run id>-<index><slug>``: valid as a bucket, function, queue, role and rule name."""
    return f"{NAME_PREFIX}{run_id}-{index}{_slug(strategy)}"


def output_prefix(scenario: Scenario) -> str:
    return OUTPUT_PREFIXES[scenario.task]


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


def batching_window(spec: Any) -> int:
    """The mapping's MaximumBatchingWindowInSeconds, as AWS takes it: whole seconds, 0-300, and at
    least 1 when BatchSize is over 10 (AWS Lambda API Reference, "CreateEventSourceMapping", read
    2026-12-07). Refused, never rounded: a window of 0.5 s truncated to 0 with batch 100 was
    rejected by AWS half-way through a deploy."""
    window = spec.batching_window_s
    field = f"strategies.{spec.name}.batching_window_s"
    if window != int(window):
        raise InputError(f"{field} = {window:g}: AWS takes the batching window in whole seconds (0-300)")
    if spec.batch_size > 10 and window < 1:
        raise InputError(
            f"{field} = {window:g}: with batch_size {spec.batch_size} (over 10) AWS requires a batching "
            "window of at least 1 s"
        )
    return int(window)


def skip_reason(scenario: Scenario, spec: Any) -> str | None:
    """Why a strategy cannot run on AWS as configured, or None."""
    if scenario.backend_of(spec) == "folder":
        return "a local folder strategy: nothing to deploy on AWS"
    if spec.kind == "scheduled-poll":
        try:
            schedule_expression(spec.interval_s)
        except ValueError as exc:
            return str(exc)
    if getattr(spec, "event_loss", 0.0) > 0:
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


@dataclass(frozen=True)
class _Arns:
    region: str
    account: str

    def queue(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{name}"

    def function(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{self.account}:role{ROLE_PATH}{name}"

    def log_group(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def rule(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account}:rule/{name}"

    def table(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"


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
    arns = _Arns(region, account)
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
        function = None
        queue_name = None
        if spec.kind in EVENT_ROUTES or spec.kind == "scheduled-poll":
            needs_table = True
            function = base
            built, queue_name = _function_resources(scenario, spec, base, table, arns)
            resources.extend(built)
        targets.append(
            StrategyTarget(
                spec.name,
                spec.kind,
                base,
                function,
                queue_name,
                RUNS_HERE.get(spec.kind, "nothing runs here: AWS runs the function"),
            )
        )
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


def _function_resources(
    scenario: Scenario, spec: Any, base: str, table: str, arns: _Arns
) -> tuple[list[Resource], str | None]:
    """The function of an event route or scheduled poll, with everything that feeds and serves it."""
    name, bucket_arn = base, f"arn:aws:s3:::{base}"
    settings: FunctionSettings = spec.function
    log_group = f"/aws/lambda/{name}"
    dlq = f"{base}-dlq"
    queue = f"{base}-queue" if spec.kind == "s3-sqs-lambda" else None
    watched = scenario.workload.prefix
    state_key = f"{RECORDS_PREFIX}state/{spec.name}.json" if spec.kind == "scheduled-poll" else None
    access = FunctionAccess(
        function_name=name,
        bucket=base,
        watched_prefix=watched,
        output_prefix=output_prefix(scenario),
        records_prefix=RECORDS_PREFIX,
        region=arns.region,
        account_id=arns.account,
        queue_arn=arns.queue(queue) if queue else None,
        dlq_arn=arns.queue(dlq),
        ledger_table_arn=arns.table(table),
        list_watched_prefix=spec.kind in ("scheduled-poll",),
        state_key=state_key,
    )
    role = f"{base}-fn"
    out = [
        Resource(
            ResourceKind.DLQ,
            dlq,
            arns.queue(dlq),
            spec.name,
            {"attributes": {"MessageRetentionPeriod": "1209600"}},
        ),
        Resource(
            ResourceKind.ROLE,
            role,
            arns.role(role),
            spec.name,
            {
                "path": ROLE_PATH,
                "permissions_boundary": boundary_arn(arns.account),
                "assume_role_policy": assume_role_policy("lambda.amazonaws.com"),
                "policy_name": "least-privilege",
                "policy": function_role_policy(access),
            },
        ),
        Resource(
            ResourceKind.LOG_GROUP,
            log_group,
            arns.log_group(log_group),
            spec.name,
            {"retention_days": LOG_RETENTION_DAYS},
        ),
    ]
    trigger = KeyFilter(watched)
    environment = {
        "PVE_STRATEGY": spec.name,
        "PVE_TASK": scenario.task,
        "PVE_OUTPUT_PREFIX": output_prefix(scenario),
        "PVE_RECORDS_PREFIX": RECORDS_PREFIX,
        "PVE_LEDGER_TABLE": table,
        "PVE_DLQ_URL": f"https://sqs.{arns.region}.amazonaws.com/{arns.account}/{dlq}",
        "PVE_TRIGGER_FILTERS": f"{trigger.prefix}|{trigger.suffix}",
    }
    out.append(
        Resource(
            ResourceKind.FUNCTION,
            name,
            arns.function(name),
            spec.name,
            {
                "runtime": lambda_runtime(),
                "handler": HANDLER,
                "package": list(PACKAGE),
                "memory_mb": settings.memory_mb,
                "timeout_s": max(1, int(settings.timeout_s)),
                "architecture": settings.architecture,
                "reserved_concurrency": settings.reserved_concurrency,
                "role": arns.role(role),
                "environment": environment,
            },
        )
    )
    if spec.kind in ("s3-lambda", "s3-eventbridge-lambda", "hybrid"):
        out.append(
            Resource(
                ResourceKind.INVOKE_CONFIG,
                f"{name}:async",
                arns.function(name),
                spec.name,
                {
                    "maximum_retry_attempts": spec.max_retries,
                    "maximum_event_age_s": int(getattr(spec, "max_event_age_s", 21600)),
                    "on_failure": arns.queue(dlq),
                },
            )
        )
    if spec.kind in ("s3-lambda", "hybrid"):
        out.append(_permission(name, spec.name, arns, "AllowS3Invoke", "s3.amazonaws.com", bucket_arn))
        configuration = build_notification_configuration(
            [NotificationRule(arns.function(name), filter=trigger, rule_id="pve-events")]
        )
        out.append(_notification(base, spec.name, configuration))
    elif spec.kind == "s3-sqs-lambda":
        assert queue is not None
        attributes = {
            "VisibilityTimeout": str(max(spec.visibility_timeout_s, 6 * max(1, int(settings.timeout_s)))),
            "ReceiveMessageWaitTimeSeconds": str(spec.wait_time_s),
            "MessageRetentionPeriod": "345600",  # SQS's default, four days, said explicitly
            "RedrivePolicy": {
                "deadLetterTargetArn": arns.queue(dlq),
                "maxReceiveCount": spec.max_receive_count,
            },
        }
        out.append(
            Resource(ResourceKind.QUEUE, queue, arns.queue(queue), spec.name, {"attributes": attributes})
        )
        out.append(
            Resource(
                ResourceKind.QUEUE_POLICY,
                f"{queue}:policy",
                arns.queue(queue),
                spec.name,
                {"policy": queue_policy(arns.queue(queue), bucket_arn, arns.account)},
            )
        )
        out.append(
            Resource(
                ResourceKind.EVENT_SOURCE_MAPPING,
                f"{queue}->{name}",
                "",
                spec.name,
                {
                    "queue_arn": arns.queue(queue),
                    "function": name,
                    "batch_size": spec.batch_size,
                    "batching_window_s": batching_window(spec),
                    "maximum_concurrency": spec.maximum_concurrency,
                    "function_response_types": ["ReportBatchItemFailures"],
                },
            )
        )
        configuration = build_notification_configuration(
            [NotificationRule(arns.queue(queue), filter=trigger, rule_id="pve-events")]
        )
        out.append(_notification(base, spec.name, configuration))
    elif spec.kind == "s3-eventbridge-lambda":
        rule = f"{base}-rule"
        out.append(
            Resource(
                ResourceKind.RULE,
                rule,
                arns.rule(rule),
                spec.name,
                {"event_pattern": eventbridge_pattern(base, watched), "targets": [arns.function(name)]},
            )
        )
        out.append(
            _permission(
                name, spec.name, arns, "AllowEventBridgeInvoke", "events.amazonaws.com", arns.rule(rule)
            )
        )
        out.append(_notification(base, spec.name, {"EventBridgeConfiguration": {}}))
    elif spec.kind == "scheduled-poll":
        rule = f"{base}-schedule"
        out.append(
            Resource(
                ResourceKind.RULE,
                rule,
                arns.rule(rule),
                spec.name,
                {
                    "schedule_expression": schedule_expression(spec.interval_s),
                    "targets": [arns.function(name)],
                },
            )
        )
        out.append(
            _permission(name, spec.name, arns, "AllowScheduleInvoke", "events.amazonaws.com", arns.rule(rule))
        )
    return out, queue


def _permission(
    function: str, strategy: str, arns: _Arns, sid: str, principal: str, source_arn: str
) -> Resource:
    return Resource(
        ResourceKind.PERMISSION,
        f"{function}:{sid}",
        arns.function(function),
        strategy,
        {
            "function": function,
            "statement_id": sid,
            "action": "lambda:InvokeFunction",
            "principal": principal,
            "source_arn": source_arn,
            "source_account": arns.account,
        },
    )


def _notification(bucket: str, strategy: str, configuration: dict[str, Any]) -> Resource:
    return Resource(
        ResourceKind.NOTIFICATION,
        f"{bucket}:notification",
        f"arn:aws:s3:::{bucket}",
        strategy,
        {"configuration": configuration},
    )
