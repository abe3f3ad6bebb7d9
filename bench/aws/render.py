"""Plans and inventories as text for the terminal. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.aws.estimate import ASSUMPTIONS
from bench.aws.inventory import Found
from bench.aws.plan import TAG_KEY, Plan, Resource, ResourceKind


def _sids(policy: dict[str, Any]) -> str:
    return ", ".join(s.get("Sid", "?") for s in policy["Statement"])


def _notification(spec: dict[str, Any]) -> str:
    config = spec["configuration"]
    if "EventBridgeConfiguration" in config:
        return "all object events -> EventBridge (default bus)"
    parts = []
    for entries in (
        config.get("LambdaFunctionConfigurations", []),
        config.get("QueueConfigurations", []),
        config.get("TopicConfigurations", []),
    ):
        for entry in entries:
            target = entry.get("LambdaFunctionArn") or entry.get("QueueArn") or entry.get("TopicArn", "")
            rules = entry.get("Filter", {}).get("Key", {}).get("FilterRules", [])
            where = " ".join(f"{r['Name']}={r['Value']!r}" for r in rules) or "all keys"
            parts.append(f"{','.join(entry['Events'])} {where} -> {target.rsplit(':', 1)[-1]}")
    return "; ".join(parts)


def _principal(spec: dict[str, Any]) -> str:
    """The service a resource policy's (single) statement lets in."""
    return str(spec["policy"]["Statement"][0]["Principal"]["Service"])


def _source(spec: dict[str, Any]) -> str:
    """What the statement's ``aws:SourceArn`` names: a bucket, or a topic."""
    arn = str(spec["policy"]["Statement"][0]["Condition"]["ArnLike"]["aws:SourceArn"])
    return "topic" if arn.split(":")[2] == "sns" else "bucket"


DESCRIBE: dict[ResourceKind, Callable[[dict[str, Any]], str]] = {
    ResourceKind.LEDGER_TABLE: lambda s: f"{s['billing_mode']}, key {s['key']!r}, TTL {s['ttl_attribute']!r}",
    ResourceKind.BUCKET: lambda s: f"in {s['region']}, tagged",
    ResourceKind.DLQ: lambda s: "keeps dead letters 14 days",
    ResourceKind.QUEUE: lambda s: (
        f"visibility {s['attributes']['VisibilityTimeout']} s, redrive after "
        f"{s['attributes']['RedrivePolicy']['maxReceiveCount']} receives to the DLQ"
    ),
    ResourceKind.QUEUE_POLICY: lambda s: (
        f"{_principal(s)} may SendMessage, only from this {_source(s)} and account"
    ),
    ResourceKind.TOPIC: lambda s: "standard topic, tagged",
    ResourceKind.TOPIC_POLICY: lambda s: f"{_principal(s)} may Publish, only from this bucket and account",
    ResourceKind.SUBSCRIPTION: lambda s: (
        f"queue {s['endpoint'].rsplit(':', 1)[-1]} subscribed, raw message delivery "
        + ("on (the S3 event itself)" if s["raw_message_delivery"] else "off (SNS's envelope)")
    ),
    ResourceKind.ROLE: lambda s: f"least privilege: {_sids(s['policy'])}",
    ResourceKind.LOG_GROUP: lambda s: f"retention {s['retention_days']} day(s)",
    ResourceKind.FUNCTION: lambda s: (
        f"{s['runtime']}, {s['memory_mb']} MB, {s['architecture']}, timeout {s['timeout_s']} s, "
        f"handler {s['handler']}, zip of {' '.join(s['package'])}"
    ),
    ResourceKind.INVOKE_CONFIG: lambda s: (
        f"{s['maximum_retry_attempts']} retries, max age {s['maximum_event_age_s']} s, on failure -> DLQ"
    ),
    ResourceKind.PERMISSION: lambda s: (
        f"{s['principal']} may invoke, SourceArn {s['source_arn']}, SourceAccount {s['source_account']}"
    ),
    ResourceKind.EVENT_SOURCE_MAPPING: lambda s: (
        f"batch {s['batch_size']}, window {s['batching_window_s']} s, "
        f"{', '.join(s['function_response_types'])}"
    ),
    ResourceKind.RULE: lambda s: (
        f"schedule {s['schedule_expression']}"
        if "schedule_expression" in s
        else f"pattern {s['event_pattern']['detail-type']} "
        f"under {s['event_pattern']['detail'].get('object', {})}"
    ),
    ResourceKind.NOTIFICATION: _notification,
}


def describe(resource: Resource) -> str:
    return DESCRIBE[resource.kind](dict(resource.spec))


def plan_lines(plan: Plan) -> list[str]:
    account = plan.account_id
    lines = [
        f"plan for scenario {plan.scenario!r} in {plan.region} (account {account}), run id {plan.run_id}: "
        f"{len(plan.resources)} resources; every taggable one tagged {TAG_KEY}={plan.run_id}. "
        "Nothing is created.",
    ]
    width = max(len(str(k)) for k in ResourceKind)
    shared = [r for r in plan.resources if not r.strategy]
    if shared:
        lines.append("  shared")
        lines += [f"    {r.kind!s:<{width}}  {r.name}  ({describe(r)})" for r in shared]
    for target in plan.targets:
        lines.append(f"  {target.strategy} ({target.kind}): {target.runs_here}")
        lines += [
            f"    {r.kind!s:<{width}}  {r.name}  ({describe(r)})"
            for r in plan.resources
            if r.strategy == target.strategy
        ]
    for strategy, reason in plan.skipped:
        lines.append(f"  {strategy}: skipped, {reason}")
    estimate = plan.estimate
    lines.append(
        f"estimated cost of one run: ${estimate.total:.4f} ({estimate.files:,} files per strategy, up to "
        f"{estimate.seconds_per_strategy:,.0f} s each; prices {estimate.pricing}; no free tier)"
    )
    if plan.region not in estimate.pricing:
        lines.append(
            f"  note: the prices are the table's region's, not {plan.region}'s; they differ by region"
        )
    for name, cost in estimate.per_strategy.items():
        parts = ", ".join(f"{k} ${v:.5f}" for k, v in sorted(cost.components.items()) if v)
        lines.append(f"  {name}: ${cost.total:.5f}  [{parts}]")
    lines.append("assumptions: " + "; ".join(ASSUMPTIONS))
    return lines


def inventory_lines(found: Iterable[Found]) -> list[str]:
    items = list(found)
    if not items:
        return ["no resources tagged pve:run-id here"]
    runs = sorted({f.run_id for f in items})
    lines = []
    for run in runs:
        mine = [f for f in items if f.run_id == run]
        lines.append(f"run {run}: {len(mine)} resource(s)")
        lines += [f"  {f.kind!s:<28} {f.name}" for f in mine]
    return lines
