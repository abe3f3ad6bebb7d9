"""The AWS route facet: per strategy kind, how it is planned, hosted and run on AWS. Pure.

One row per :class:`~bench.scenario.kinds.Kind` (``AWS_ROUTES``): the builder of the resources that
deliver files to its function (beside the function, its role, logs and DLQ, which ``bench.aws.plan``
builds for every route), how the function is fed (``Delivery``: what ``bench.aws.host`` starts
locally on moto, what ``bench.aws.run`` derives and waits for), whether it has a queue or lists the
watched prefix, and what of it runs on this machine. ``bench.aws.plan``, ``bench.aws.host`` and
``bench.aws.run`` ask :func:`aws_route`, which raises on a kind with no row; what an estimate
counts is ``bench.aws.estimate.COUNTS``, beside its assumptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bench.aws.policies import queue_policy
from bench.aws.resources import Arns, Resource, ResourceKind, batching_window, notification, permission
from bench.scenario.kinds import Kind, facet
from bench.scenario.spec import (
    InotifyStrategy,
    QueueLambdaStrategy,
    Scenario,
    ScheduledPollStrategy,
    SnsSqsLambdaStrategy,
    Strategy,
    spec_as,
)
from event_handlers.filters import KeyFilter
from event_handlers.trigger import (
    NotificationRule,
    build_notification_configuration,
    eventbridge_pattern,
    topic_policy,
    topic_queue_policy,
)
from pollers.eventbridge import schedule_expression


class Delivery(StrEnum):
    """How a deployed strategy's function is fed, as the host and the run treat it."""

    NONE = "none"  # no function: the strategy runs on this machine (a poller)
    ASYNC = "async"  # S3 or EventBridge invokes the function asynchronously (retries, then the DLQ)
    QUEUE = "queue"  # an SQS event source mapping receives the queue in batches and invokes it
    SCHEDULE = "schedule"  # a schedule invokes the function, which lists the watched prefix


@dataclass(frozen=True)
class Site:
    """Where one strategy's function goes: what every route builder is given."""

    scenario: Scenario
    spec: Strategy  # the strategy's spec (a builder takes it as its kind's class: ``spec_as``)
    base: str  # the strategy's base name: its bucket and function
    table: str  # the run's ledger table
    arns: Arns

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.base}"

    @property
    def dlq(self) -> str:
        return f"{self.base}-dlq"

    @property
    def queue(self) -> str:
        return f"{self.base}-queue"

    @property
    def trigger(self) -> KeyFilter:
        return KeyFilter(self.scenario.workload.prefix)


RouteBuilder = Callable[[Site], list[Resource]]


@dataclass(frozen=True)
class AwsRoute:
    """How one strategy kind runs on AWS."""

    delivery: Delivery
    runs_here: str  # what of it runs on this machine (pve aws plan prints it)
    build: RouteBuilder | None = None  # the resources that feed its function (None: no function)
    queue: bool = False  # it has an SQS queue between S3 and its function
    lists_watched_prefix: bool = False  # its function lists the watched prefix and keeps a state key
    # why it cannot run on AWS as configured (given its kind's spec class, which the type cannot say)
    refuse: Callable[[Any], str | None] = lambda spec: None
    probe_first: bool = False  # the run warms its function with a probe object before its clock starts
    awaits_retries: bool = True  # the drain waits for AWS's retry schedule of its delivery
    runnable: bool = True  # pve aws run plays it (plan, template and deploy describe every kind)

    @property
    def has_function(self) -> bool:
        return self.build is not None


def _notify_function(site: Site) -> list[Resource]:
    """S3 -> Lambda: a permission for the bucket and the bucket's notification to the function."""
    name, spec, arns = site.base, site.spec, site.arns
    configuration = build_notification_configuration(
        [NotificationRule(arns.function(name), filter=site.trigger, rule_id="pve-events")]
    )
    return [
        permission(name, spec.name, arns, "AllowS3Invoke", "s3.amazonaws.com", site.bucket_arn),
        notification(site.base, spec.name, configuration),
    ]


def _queue_and_mapping(site: Site, policy: dict[str, Any]) -> list[Resource]:
    """A queue (redriving to the DLQ), its ``policy`` (who may send to it) and the mapping that
    feeds the function from it: what S3 -> SQS and S3 -> SNS -> SQS share."""
    spec, arns, queue = spec_as(site.spec, QueueLambdaStrategy), site.arns, site.queue
    settings = spec.function
    attributes = {
        "VisibilityTimeout": str(max(spec.visibility_timeout_s, 6 * max(1, int(settings.timeout_s)))),
        "ReceiveMessageWaitTimeSeconds": str(spec.wait_time_s),
        "MessageRetentionPeriod": "345600",  # SQS's default, four days, said explicitly
        "RedrivePolicy": {
            "deadLetterTargetArn": arns.queue(site.dlq),
            "maxReceiveCount": spec.max_receive_count,
        },
    }
    mapping = {
        "queue_arn": arns.queue(queue),
        "function": site.base,
        "batch_size": spec.batch_size,
        "batching_window_s": batching_window(spec),
        "maximum_concurrency": spec.maximum_concurrency,
        "function_response_types": ["ReportBatchItemFailures"],
    }
    return [
        Resource(ResourceKind.QUEUE, queue, arns.queue(queue), spec.name, {"attributes": attributes}),
        Resource(
            ResourceKind.QUEUE_POLICY, f"{queue}:policy", arns.queue(queue), spec.name, {"policy": policy}
        ),
        Resource(ResourceKind.EVENT_SOURCE_MAPPING, f"{queue}->{site.base}", "", spec.name, mapping),
    ]


def _queue_to_function(site: Site) -> list[Resource]:
    """S3 -> SQS -> Lambda: the queue (redriving to the DLQ), its policy, the mapping, the notification."""
    arns, queue = site.arns, site.arns.queue(site.queue)
    configuration = build_notification_configuration(
        [NotificationRule(queue, filter=site.trigger, rule_id="pve-events")]
    )
    return [
        *_queue_and_mapping(site, queue_policy(queue, site.bucket_arn, arns.account)),
        notification(site.base, site.spec.name, configuration),
    ]


def _topic_to_queue_to_function(site: Site) -> list[Resource]:
    """S3 -> SNS -> SQS -> Lambda (fan-out): the topic and its policy (this bucket may publish), the
    queue with its policy (this topic may send) and mapping, the subscription (raw delivery as the
    strategy says: off by default, so the body is SNS's envelope), and the bucket's rule to the topic."""
    spec, arns = spec_as(site.spec, SnsSqsLambdaStrategy), site.arns
    topic, queue = f"{site.base}-topic", arns.queue(site.queue)
    topic_arn = arns.topic(topic)
    subscription = {
        "topic_arn": topic_arn,
        "protocol": "sqs",
        "endpoint": queue,
        "raw_message_delivery": spec.raw_message_delivery,
    }
    configuration = build_notification_configuration(
        [NotificationRule(topic_arn, filter=site.trigger, rule_id="pve-events")]
    )
    publish = {"policy": topic_policy(topic_arn, site.bucket_arn, arns.account)}
    return [
        Resource(ResourceKind.TOPIC, topic, topic_arn, spec.name),
        Resource(ResourceKind.TOPIC_POLICY, f"{topic}:policy", topic_arn, spec.name, publish),
        *_queue_and_mapping(site, topic_queue_policy(queue, topic_arn)),
        Resource(ResourceKind.SUBSCRIPTION, f"{topic}->{site.queue}", topic_arn, spec.name, subscription),
        notification(site.base, spec.name, configuration),
    ]


def _eventbridge_to_function(site: Site) -> list[Resource]:
    """S3 -> EventBridge -> Lambda: the rule, its permission, and the bucket's EventBridge switch."""
    name, spec, arns = site.base, site.spec, site.arns
    rule = f"{site.base}-rule"
    pattern = {"event_pattern": eventbridge_pattern(site.base, site.scenario.workload.prefix)}
    return [
        Resource(
            ResourceKind.RULE, rule, arns.rule(rule), spec.name, {**pattern, "targets": [arns.function(name)]}
        ),
        permission(name, spec.name, arns, "AllowEventBridgeInvoke", "events.amazonaws.com", arns.rule(rule)),
        notification(site.base, spec.name, {"EventBridgeConfiguration": {}}),
    ]


def _schedule_function(site: Site) -> list[Resource]:
    """A scheduled poll: an EventBridge schedule rule and its permission to invoke the function."""
    name, spec, arns = site.base, spec_as(site.spec, ScheduledPollStrategy), site.arns
    rule = f"{site.base}-schedule"
    schedule = {"schedule_expression": schedule_expression(spec.interval_s), "targets": [arns.function(name)]}
    return [
        Resource(ResourceKind.RULE, rule, arns.rule(rule), spec.name, schedule),
        permission(name, spec.name, arns, "AllowScheduleInvoke", "events.amazonaws.com", arns.rule(rule)),
    ]


def _schedule_refusal(spec: ScheduledPollStrategy) -> str | None:
    """An EventBridge schedule cannot fire faster than once a minute, nor at every interval."""
    try:
        schedule_expression(spec.interval_s)
    except ValueError as exc:
        return str(exc)
    return None


def _local_folder(spec: InotifyStrategy) -> str:
    return "a local folder strategy: nothing to deploy on AWS"


FUNCTION_RUNS = "nothing runs here: AWS runs the function"

AWS_ROUTES: dict[Kind, AwsRoute] = {
    Kind.POLL: AwsRoute(Delivery.NONE, "the poller runs on this machine against the bucket"),
    Kind.SCHEDULED_POLL: AwsRoute(
        Delivery.SCHEDULE,
        FUNCTION_RUNS,
        _schedule_function,
        lists_watched_prefix=True,
        refuse=_schedule_refusal,
        runnable=False,
    ),
    Kind.S3_LAMBDA: AwsRoute(Delivery.ASYNC, FUNCTION_RUNS, _notify_function),
    Kind.S3_SQS_LAMBDA: AwsRoute(Delivery.QUEUE, FUNCTION_RUNS, _queue_to_function, queue=True),
    Kind.S3_EVENTBRIDGE_LAMBDA: AwsRoute(
        Delivery.ASYNC, FUNCTION_RUNS, _eventbridge_to_function, probe_first=True
    ),
    Kind.S3_SNS_SQS_LAMBDA: AwsRoute(Delivery.QUEUE, FUNCTION_RUNS, _topic_to_queue_to_function, queue=True),
    # a local folder: bench.aws.plan skips it by its backend before it asks for a route
    Kind.INOTIFY: AwsRoute(
        Delivery.NONE, "nothing: it watches a local folder", refuse=_local_folder, runnable=False
    ),
    # not run by pve aws run (its drain would not wait for the async retries: awaits_retries)
    Kind.HYBRID: AwsRoute(
        Delivery.ASYNC, "the sweep runs here", _notify_function, awaits_retries=False, runnable=False
    ),
}


def aws_route(kind: str) -> AwsRoute:
    """The AWS route of ``kind``; raises, naming it, for a kind with no row."""
    return facet(AWS_ROUTES, kind, "bench.aws.routes.AWS_ROUTES")
