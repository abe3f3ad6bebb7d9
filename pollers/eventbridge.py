"""The poll as a scheduled function on EventBridge: one cycle per invocation.

Instead of an always-on host, EventBridge invokes a function every few minutes; each invocation
loads the cursor from durable state (an ``s3://`` state path), polls once, processes, saves.
EventBridge's finest rate is one minute, so this variant cannot poll faster than that.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pollers.base import Poller
from pollers.entries import Entry
from pollers.errors import PollerConfigError

if TYPE_CHECKING:
    from types_boto3_events.client import EventBridgeClient

MIN_SCHEDULE_S = 60.0


def schedule_expression(interval_s: float) -> str:
    """EventBridge's ``rate(...)`` for an interval; refuses what EventBridge cannot schedule."""
    if interval_s < MIN_SCHEDULE_S:
        raise PollerConfigError(
            f"EventBridge schedules run at most once a minute; {interval_s:g}s is not deployable"
        )
    minutes = interval_s / 60.0
    if not math.isclose(minutes, round(minutes)):
        raise PollerConfigError(f"EventBridge rates are whole minutes; {interval_s:g}s is not one")
    n = round(minutes)
    return f"rate({n} minute{'s' if n != 1 else ''})"


def make_scheduled_handler(
    make_poller: Callable[[], Poller],
    process: Callable[[Entry], object],
    *,
    on_detected: Callable[[list[Entry]], None] | None = None,
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A ``lambda_handler(event, context)`` that runs one poll cycle and reports what it did.

    ``make_poller`` is called on every invocation so that the cursor is read from its durable
    store each time: two invocations of a slow cycle may overlap, and a warm container's memory
    is not a place to keep state.
    """

    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        poller = make_poller()
        entries = poller.poll_once()
        if entries and on_detected is not None:
            on_detected(entries)
        processed = failed = 0
        errors: list[dict[str, str]] = []
        for entry in entries:
            try:
                process(entry)
            except Exception as exc:
                failed += 1
                errors.append({"key": entry.key, "error": f"{type(exc).__name__}: {exc}"})
                poller.acknowledge(entry, succeeded=False)
            else:
                processed += 1
                poller.acknowledge(entry, succeeded=True)
        poller.commit()
        return {"found": len(entries), "processed": processed, "failed": failed, "errors": errors}

    return lambda_handler


def configure_poll_schedule(
    events_client: EventBridgeClient, rule_name: str, function_arn: str, interval_s: float
) -> str:
    """Create (or update) an EventBridge rule invoking ``function_arn`` every ``interval_s``."""
    rule_arn: str = events_client.put_rule(
        Name=rule_name, ScheduleExpression=schedule_expression(interval_s), State="ENABLED"
    )["RuleArn"]
    events_client.put_targets(Rule=rule_name, Targets=[{"Id": "poller", "Arn": function_arn}])
    return rule_arn
