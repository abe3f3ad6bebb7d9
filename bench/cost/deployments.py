"""The deployment kinds' table: the one place that knows what each kind is, costs, can do and is
searched over. Every stage (``monthly_cost``, ``feasibility.check``, ``pve decide``'s search,
latency and ``beside``) looks a deployment's kind up here with ``row``, which raises on a kind
with no row.

A new kind takes a ``DeploymentKind`` member and a ``DeploymentRow`` in ``ROWS``: the options
compared, its monthly bill, its feasibility checks, its search space, the configuration it
reports, its route (the latency profile's route; None for a poller) and its host
(``tests/test_deployment_kinds.py`` names a kind or a facet that is missing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.cost import checks
from bench.cost.checks import Check
from bench.cost.deployment import Deployment, DeploymentKind, Retention
from bench.cost.model import (
    Bill,
    CostBreakdown,
    PollUsage,
    Pricing,
    _gb_s,
    eventbridge_cost,
    files_per_month,
    hybrid_sweep_cost,
    poll_usage,
    poller_fleet_cost,
    poller_sizing,
    s3_request_cost,
    scheduler_cost,
    sns_cost,
    sqs_batch_fill,
    sqs_cost,
    sqs_empty_receives,
)
from bench.cost.work import Work

# (deployment, files a month, pricing, free tier) -> the kind's own lines and Lambda usage
BillFn = Callable[[Deployment, float, Pricing, bool], Bill]
# (deployment, intervals, memories) -> every configuration the search tries
Space = Callable[[Deployment, Sequence[float], Sequence[int]], list[Deployment]]
# (deployment, files a day, pricing) -> the chosen knobs as they apply to the kind (JSON)
Configure = Callable[[Deployment, float, Pricing], dict[str, Any]]

SQS_BATCHES = ((1, 0.0), (10, 0.0), (10, 1.0), (100, 5.0))  # (batch size, batching window s)
# the hybrid's sweep: new keys only; the whole prefix, split over P prefixes; or a daily inventory
SWEEPS = (("start-after", 1), ("seen-set", 1), ("seen-set", 16), ("seen-set", 64), ("inventory", 1))


@dataclass(frozen=True)
class Route:
    """How an event reaches the function: the latency profile's route (``ROUTE_LEGS`` in
    ``event_handlers.runtime.latency`` lists its legs, convolved with their tails and cold
    starts), and whether a queue's batch adds a wait."""

    profile_route: str
    batches: bool = False


def _no_knobs(interval_s: float) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Option:
    """One option ``pve cost`` and ``pve decide`` compare: its name in ``pve decide`` (a JSON
    key), its name in ``pve cost`` at the asked poll interval, and its own knobs there."""

    decide_name: str
    cost_name: Callable[[float], str]
    knobs: Callable[[float], dict[str, Any]] = _no_knobs


@dataclass(frozen=True)
class DeploymentRow:
    """Every per-kind decision about one deployment kind."""

    kind: DeploymentKind
    options: tuple[Option, ...]  # what pve cost and pve decide compare of this kind, in order
    bill: BillFn
    checks: tuple[Check, ...]  # its own limits (S3's request rates apply to every kind)
    space: Space
    configuration: Configure
    route: Route | None  # None: a poller (it finds files by listing the prefix)
    on_lambda: bool  # its processing runs in a Lambda function (else on EC2 instances)

    @property
    def polls(self) -> bool:
        return self.route is None


# -- bills -----------------------------------------------------------------------------------------
def _work_requests(d: Deployment, n: float) -> dict[str, float]:
    """Each file read once and its outputs written."""
    return {"GetObject": n, "PutObject": n * d.files.outputs_per_file}


def _listing(d: Deployment, n: float, p: Pricing) -> tuple[CostBreakdown, float, PollUsage]:
    """A poller's S3 requests (work, LIST, an inbox's DELETE), its archive COPYs, its usage."""
    usage = poll_usage(d, n, p.month_s)
    extra = dict(usage.extra)
    archive_copies = extra.pop("CopyObject", 0.0)
    cost = s3_request_cost({**_work_requests(d, n), "ListObjectsV2": usage.lists, **extra}, pricing=p)
    return cost, archive_copies, usage


def _poll_ec2_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    cost, archive, usage = _listing(d, n, p)
    return Bill(cost + poller_fleet_cost(d, n, p, usage), archive_copies=archive)


def _scheduled_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """One invocation a cycle lists, works through the cycle's files, reads and writes its cursor."""
    cost, archive, usage = _listing(d, n, p)
    if d.poll.interval_s < 60:
        raise ValueError("a scheduled function cannot run more often than once a minute")
    list_ms = d.list_s_per_page(on_lambda=True) * 1000.0
    busy_ms = usage.lists * list_ms + n * d.lambda_s * 1000 + usage.cycles * d.poll.state_ms
    cost += s3_request_cost({"GetObject": usage.cycles, "PutObject": usage.cycles}, pricing=p)  # cursor
    cost += scheduler_cost(usage.cycles, free_tier, pricing=p)
    gb_s = _gb_s(busy_ms, d.function.memory_mb, usage.cycles)
    return Bill(cost, usage.cycles, gb_s, archive)


def _per_file_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """An invocation per file (S3 -> Lambda)."""
    gb_s = _gb_s(n * d.lambda_s * 1000, d.function.memory_mb, n)
    return Bill(s3_request_cost(_work_requests(d, n), pricing=p), n, gb_s)


def _eventbridge_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """An invocation per file, and an EventBridge event per object event of the bucket (outputs
    included; expirations and deletes send "Object Deleted")."""
    bill = _per_file_bill(d, n, p, free_tier)
    cost = bill.cost + eventbridge_cost(n * (1 + d.files.outputs_per_file), pricing=p)
    if d.files.retention == "lifecycle" or d.files.delete_inputs:
        cost += CostBreakdown({"eventbridge.object_deleted": n * p["eventbridge_event"]})
    return Bill(cost, bill.invocations, bill.gb_s)


def _hybrid_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """An invocation per file, and the sweep finding what notifications missed."""
    bill = _per_file_bill(d, n, p, free_tier)
    sweep, invocations, gb_s = hybrid_sweep_cost(d, n, p, free_tier)
    return Bill(bill.cost + sweep, bill.invocations + invocations, bill.gb_s + gb_s)


def _queue_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """S3 sends each file's message; the pollers receive batches (and empty long polls) and
    delete; an invocation per batch."""
    rate = n / p.month_s
    batches = n / sqs_batch_fill(d, rate)
    requests = n + 2 * batches + sqs_empty_receives(d, rate, p.month_s)  # send (by S3), receive, delete
    cost = s3_request_cost(_work_requests(d, n), pricing=p) + sqs_cost(requests, free_tier, pricing=p)
    return Bill(cost, batches, _gb_s(n * d.lambda_s * 1000, d.function.memory_mb, batches))


def _fanout_bill(d: Deployment, n: float, p: Pricing, free_tier: bool) -> Bill:
    """The queue's bill, with S3 publishing each file's notification to the SNS topic, which
    delivers it to the queue (the delivery counts as the queue's send: ``_queue_bill``; SNS bills
    nothing for a delivery to SQS)."""
    bill = _queue_bill(d, n, p, free_tier)
    return Bill(bill.cost + sns_cost(n, free_tier, pricing=p), bill.invocations, bill.gb_s)


# -- search spaces ---------------------------------------------------------------------------------
def _intervals_space(d: Deployment, intervals: Sequence[float], memories: Sequence[int]) -> list[Deployment]:
    return [d.with_(interval_s=float(i)) for i in intervals]


def _schedule_space(d: Deployment, intervals: Sequence[float], memories: Sequence[int]) -> list[Deployment]:
    every = sorted({max(60.0, float(i)) for i in intervals})  # a schedule runs at most once a minute
    return [d.with_(interval_s=i, memory_mb=m) for i in every for m in memories]


def _memory_space(d: Deployment, intervals: Sequence[float], memories: Sequence[int]) -> list[Deployment]:
    return [d.with_(memory_mb=m) for m in memories]


def _queue_space(d: Deployment, intervals: Sequence[float], memories: Sequence[int]) -> list[Deployment]:
    return [d.with_(memory_mb=m, batch_size=b, batching_window_s=w) for m in memories for b, w in SQS_BATCHES]


def _sweep_space(d: Deployment, intervals: Sequence[float], memories: Sequence[int]) -> list[Deployment]:
    return [d.with_(memory_mb=m, sweep_cursor=c, sweep_parallel=k) for m in memories for c, k in SWEEPS]


# -- configurations as reported ---------------------------------------------------------------------
def _fleet_config(d: Deployment, files_per_day: float, p: Pricing) -> dict[str, Any]:
    sizing = poller_sizing(d, files_per_month(files_per_day, p), p)
    return {
        "interval_s": d.poll.interval_s,
        "instance_type": sizing.instance if sizing.feasible else None,  # none fits: said in why_not
        "instances": sizing.count if sizing.feasible else None,
        "network": d.needs.network,
    }


def _memory_config(d: Deployment, files_per_day: float, p: Pricing) -> dict[str, Any]:
    return {"memory_mb": d.function.memory_mb}


def _schedule_config(d: Deployment, files_per_day: float, p: Pricing) -> dict[str, Any]:
    return {"memory_mb": d.function.memory_mb, "interval_s": d.poll.interval_s}


def _queue_config(d: Deployment, files_per_day: float, p: Pricing) -> dict[str, Any]:
    q = d.queue
    return {
        "memory_mb": d.function.memory_mb,
        "batch_size": q.batch_size,
        "batching_window_s": q.batching_window_s,
    }


def sweep_description(d: Deployment) -> str:
    s = d.sweep
    if s.sweep_cursor == "inventory":
        return "daily S3 Inventory report"
    if s.sweep_cursor == "start-after":
        return f"new keys (start-after) every {s.sweep_interval_s:g} s"
    split = f" over {s.sweep_parallel} prefixes in parallel" if s.sweep_parallel > 1 else ""
    return f"whole prefix every {s.sweep_interval_s:g} s{split}"


def _sweep_config(d: Deployment, files_per_day: float, p: Pricing) -> dict[str, Any]:
    return {"memory_mb": d.function.memory_mb, "sweep": sweep_description(d)}


# -- the options compared ---------------------------------------------------------------------------
def inbox_label(interval_s: float, *, archive: bool) -> str:
    """The inbox poller's name in ``pve cost``'s tables: what it does with a file it has processed
    (an inbox that must keep its inputs copies them to an archive prefix, then deletes)."""
    return f"poll on EC2 every {interval_s:g}s, {'archive' if archive else 'delete'} when done"


def _every_minute_at_most(interval_s: float) -> float:
    return max(60.0, interval_s)  # a schedule runs at most once a minute


EC2_POLLERS = (
    Option(
        "EC2 poller, seen-set (keeps files)",
        lambda i: f"poll on EC2 every {i:g}s",
        lambda i: {"interval_s": i},
    ),
    Option(
        "EC2 inbox poller (deletes when done)",
        lambda i: inbox_label(i, archive=False),
        lambda i: {"interval_s": i, "cursor": "inbox", "archive_processed": False},
    ),
)
SCHEDULED_POLLER = Option(
    "scheduled-Lambda poller",
    lambda i: f"scheduled Lambda every {_every_minute_at_most(i):g}s",
    lambda i: {"interval_s": _every_minute_at_most(i), "cursor": "start-after"},
)


def _named(name: str) -> Option:
    return Option(name, lambda i: name)


# -- the table -------------------------------------------------------------------------------------
K = DeploymentKind
ROWS: dict[DeploymentKind, DeploymentRow] = {
    K.POLL_EC2: DeploymentRow(
        K.POLL_EC2,
        EC2_POLLERS,
        _poll_ec2_bill,
        (checks.ec2_listing, checks.ec2_sizing),
        _intervals_space,
        _fleet_config,
        route=None,
        on_lambda=False,
    ),
    K.POLL_SCHEDULED_LAMBDA: DeploymentRow(
        K.POLL_SCHEDULED_LAMBDA,
        (SCHEDULED_POLLER,),
        _scheduled_bill,
        (checks.scheduled_function,),
        _schedule_space,
        _schedule_config,
        route=None,
        on_lambda=True,
    ),
    K.S3_LAMBDA: DeploymentRow(
        K.S3_LAMBDA,
        (_named("S3 -> Lambda"),),
        _per_file_bill,
        (checks.lambda_concurrency,),
        _memory_space,
        _memory_config,
        route=Route("s3-lambda"),
        on_lambda=True,
    ),
    K.S3_SQS_LAMBDA: DeploymentRow(
        K.S3_SQS_LAMBDA,
        (_named("S3 -> SQS -> Lambda"),),
        _queue_bill,
        (checks.lambda_concurrency, checks.sqs_in_flight),
        _queue_space,
        _queue_config,
        route=Route("s3-sqs-lambda", batches=True),
        on_lambda=True,
    ),
    K.S3_EVENTBRIDGE_LAMBDA: DeploymentRow(
        K.S3_EVENTBRIDGE_LAMBDA,
        (_named("S3 -> EventBridge -> Lambda"),),
        _eventbridge_bill,
        (checks.lambda_concurrency,),
        _memory_space,
        _memory_config,
        route=Route("s3-eventbridge-lambda"),
        on_lambda=True,
    ),
    K.S3_SNS_SQS_LAMBDA: DeploymentRow(
        K.S3_SNS_SQS_LAMBDA,
        (_named("S3 -> SNS -> SQS -> Lambda (fan-out)"),),
        _fanout_bill,
        (checks.lambda_concurrency, checks.sqs_in_flight),
        _queue_space,
        _queue_config,
        route=Route("s3-sns-sqs-lambda", batches=True),
        on_lambda=True,
    ),
    K.HYBRID: DeploymentRow(
        K.HYBRID,
        (Option("hybrid (S3 -> Lambda + hourly sweep)", lambda i: "hybrid: S3 -> Lambda + hourly sweep"),),
        _hybrid_bill,
        (checks.hybrid_sweep, checks.lambda_concurrency),
        _sweep_space,
        _sweep_config,
        route=Route("hybrid"),
        on_lambda=True,
    ),
}


def row(kind: DeploymentKind | str) -> DeploymentRow:
    """The row of ``kind``; a kind with none raises, naming it."""
    try:
        return ROWS[kind]  # type: ignore[index]  # a str equal to a member's value finds its row
    except KeyError:
        known = ", ".join(ROWS)
        raise ValueError(f"unknown deployment kind {kind!r}; known: {known}") from None


def standard_deployments(
    interval_s: float = 60.0,
    memory_mb: int = 128,
    arch: str = "x86_64",
    *,
    cpu_s: float = Work().cpu_s,
    wait_s: float = Work().wait_s,
    retention_days: float = 30.0,
    retention: Retention = "lifecycle",
) -> list[Deployment]:
    """Every option ``pve cost`` and ``pve decide`` compare, row by row, at their default knobs."""
    common: dict[str, Any] = {
        "memory_mb": memory_mb,
        "cpu_s": cpu_s,
        "wait_s": wait_s,
        "arch": arch,
        "retention_days": retention_days,
        "retention": retention,
    }
    return [
        Deployment.of(r.kind, o.cost_name(interval_s), **o.knobs(interval_s), **common)
        for r in ROWS.values()
        for o in r.options
    ]


OPTION_NAMES = tuple(o.decide_name for r in ROWS.values() for o in r.options)  # pve decide's JSON keys
