"""What one run of a scenario on AWS is expected to cost, from the cost model's prices. Pure.

Counts come from the scenario (files, time span, intervals, batch sizes); prices from
``bench.cost`` (each with its source and date in ``bench/cost/pricing``). What the scenario cannot
tell is an assumption, named in ``ASSUMPTIONS`` and printed with every estimate. The figure is
meant to be an upper bound for the budget check, so each assumption leans high.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.cost.model import (
    LAMBDA_LOG_BYTES,
    CostBreakdown,
    Pricing,
    eventbridge_cost,
    lambda_cost,
    load_pricing,
    logs_cost,
    s3_request_cost,
    scheduler_cost,
    sns_cost,
    sqs_cost,
)
from bench.errors import InputError
from bench.scenario.kinds import Kind, facet
from bench.scenario.spec import (
    Arrivals,
    AsyncLambdaStrategy,
    HybridStrategy,
    InotifyStrategy,
    PollStrategy,
    QueueLambdaStrategy,
    Scenario,
    ScheduledPollStrategy,
    Strategy,
    function_of,
)

# Assumptions (not in the pricing file; each leans high):
HANDLER_MS = 200.0  # billed ms per invocation: a small file's GET, summary, PUT and record at 128 MB
COLD_START_MS = 1000.0  # billed INIT per execution environment (INIT is billed since 2025-08-01)
ENVIRONMENTS = 10  # execution environments a short run may start, each with one cold start
SQS_POLLERS = 5  # Lambda's SQS event source mapping starts five concurrent long-polls (DESIGN.md)
LEDGER_WRITES_PER_FILE = 2  # claim and complete, conditional writes on the ledger table
DYNAMODB_USD_PER_MILLION_WRITES = 0.625  # on-demand WRU, us-east-1; from memory, NOT checked here
SETUP_PUT_REQUESTS_PER_BUCKET = 4  # CreateBucket, PutBucketTagging, PutBucketNotification, ...
COLLECT_EVERY_S = 1.0  # the harness lists a function's timing records once a second while it waits
ASSUMPTIONS = (
    f"each invocation bills {HANDLER_MS:g} ms at the function's memory (assumption)",
    f"{ENVIRONMENTS} cold starts per function, {COLD_START_MS:g} ms INIT each (assumption)",
    "every SQS message is handled in its own invocation (upper bound)",
    f"the SQS mapping keeps {SQS_POLLERS} long-polls open for the whole run",
    f"DynamoDB on-demand writes at ${DYNAMODB_USD_PER_MILLION_WRITES}/million (assumption: AWS DynamoDB "
    "pricing page as last read for us-east-1 after the 2024-11 price cut; not verified on 2026-11-27)",
    "EventBridge is charged one event per object written to the bucket (inputs, outputs and records), "
    "as bench.cost prices the route",
    "the fan-out's SNS delivery to its queue is counted as one SQS request (SNS bills no delivery to SQS)",
    "pollers and sweeps run on this machine: no EC2 time",
    "CloudWatch Logs: START/END/REPORT lines only; FilterLogEvents reads are not priced",
)


@dataclass(frozen=True)
class Estimate:
    """Dollars per strategy (by component) and in all, with the counts they rest on."""

    files: int
    seconds_per_strategy: float
    per_strategy: dict[str, CostBreakdown] = field(default_factory=dict)
    counts: dict[str, dict[str, float]] = field(default_factory=dict)
    pricing: str = ""

    @property
    def total(self) -> float:
        return math.fsum(c.total for c in self.per_strategy.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "total_usd": self.total,
            "files_per_strategy": self.files,
            "seconds_per_strategy": round(self.seconds_per_strategy, 3),
            "strategies": {
                name: {"usd": cost.as_dict(), "counts": self.counts[name]}
                for name, cost in self.per_strategy.items()
            },
            "pricing": self.pricing,
            "assumptions": list(ASSUMPTIONS),
        }


def expected_files_and_span(arrivals: Arrivals) -> tuple[int, float]:
    """(files, scenario seconds from first to last arrival), from the arrival parameters."""
    if arrivals.process == "replay":
        raise InputError("a replayed workload cannot be estimated from its parameters; give it a count")
    rate = arrivals.rate_per_s or arrivals.burst_size / arrivals.burst_interval_s
    if arrivals.count is not None:
        files = arrivals.count
        span = files / rate
        if arrivals.duration_s is not None:
            span = min(span, arrivals.duration_s)
    else:
        span = float(arrivals.duration_s or 0.0)
        files = math.ceil(round(rate * span, 3))  # rates in the files are rounded: 20.0000016 is 20
    return files, span


def estimate_run(scenario: Scenario, strategies: set[str]) -> Estimate:
    """Expected cost of running ``strategies`` of ``scenario`` once on AWS (no free tier)."""
    pricing = load_pricing()
    files, span = expected_files_and_span(scenario.workload.arrivals)
    seconds = span / scenario.workload.time_scale * scenario.repetitions + scenario.drain_timeout_s
    per: dict[str, CostBreakdown] = {}
    counts: dict[str, dict[str, float]] = {}
    for spec in scenario.strategies:
        if spec.name in strategies:
            counts[spec.name] = expected_counts(spec, files * scenario.repetitions, seconds)
            per[spec.name] = price_counts(spec, counts[spec.name], pricing)
    return Estimate(files, seconds, per, counts, pricing.label)


def expected_counts(spec: Strategy, n: int, seconds: float) -> dict[str, float]:
    """Requests, invocations and events one strategy makes for ``n`` files over ``seconds``."""
    c: dict[str, float] = {
        "s3.PutObject": float(n),
        "s3.setup": SETUP_PUT_REQUESTS_PER_BUCKET,
        "s3.GetObject": n,
    }
    facet(COUNTS, spec.kind, "bench.aws.estimate.COUNTS")(spec, c, n, seconds)
    return c


def _listing(c: dict[str, float], n: int, seconds: float, interval: float) -> None:
    """A prefix listed from this machine every ``interval`` (a page per 1,000 keys)."""
    c["s3.ListObjectsV2"] = (math.ceil(seconds / interval) + 1) * max(1, math.ceil(n / 1000))


def _function(c: dict[str, float], n: int, seconds: float) -> None:
    """What every deployed function adds: its output and timing record per file, read back by the
    harness, its ledger writes and one invocation per file."""
    c["s3.PutObject"] += 2 * n  # the output and the timing record
    c["s3.GetObject"] += n  # the harness reads each timing record back
    c["s3.collector.ListObjectsV2"] = math.ceil(seconds / COLLECT_EVERY_S)  # ... listing them once a second
    c["dynamodb.writes"] = LEDGER_WRITES_PER_FILE * n
    c["lambda.invocations"] = float(n)


def _poll_counts(spec: PollStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _listing(c, n, seconds, spec.interval_s)
    c["s3.PutObject"] += n  # the outputs


def _scheduled_counts(spec: ScheduledPollStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _function(c, n, seconds)
    c["lambda.invocations"] = math.ceil(seconds / spec.interval_s) + 1
    c["s3.ListObjectsV2"] = c["lambda.invocations"] * max(1, math.ceil(n / 1000))
    c["scheduler.invocations"] = c["lambda.invocations"]


def _direct_counts(spec: AsyncLambdaStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _function(c, n, seconds)


def _queue_counts(spec: QueueLambdaStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _function(c, n, seconds)
    polls = SQS_POLLERS * math.ceil(seconds / max(1, spec.wait_time_s))
    c["sqs.requests"] = n + polls + 2 * n  # S3's SendMessage, receives (empty or not), deletes


def _fanout_counts(spec: QueueLambdaStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    """The queue's counts (the topic's delivery is the queue's send), and S3's publish to the topic."""
    _queue_counts(spec, c, n, seconds)
    c["sns.publishes"] = float(n)


def _eventbridge_counts(spec: AsyncLambdaStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _function(c, n, seconds)
    c["eventbridge.events"] = 3 * n


def _hybrid_counts(spec: HybridStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    _listing(c, n, seconds, spec.sweep_interval_s)  # the sweep, from this machine
    _function(c, n, seconds)


def _not_on_aws(spec: InotifyStrategy, c: dict[str, float], n: int, seconds: float) -> None:
    raise InputError(f"strategy {spec.name!r} ({spec.kind}) watches a local folder: nothing runs on AWS")


# (the kind's spec, counts, files, seconds): each row takes its kind's spec class, which the
# table's type cannot say (a kind -> class dependency), hence Any here and the class in each row
Counter = Callable[[Any, dict[str, float], int, float], None]

#: The estimate facet: what a strategy of each kind adds to its bucket's writes and reads.
COUNTS: dict[Kind, Counter] = {
    Kind.POLL: _poll_counts,
    Kind.SCHEDULED_POLL: _scheduled_counts,
    Kind.S3_LAMBDA: _direct_counts,
    Kind.S3_SQS_LAMBDA: _queue_counts,
    Kind.S3_EVENTBRIDGE_LAMBDA: _eventbridge_counts,
    Kind.S3_SNS_SQS_LAMBDA: _fanout_counts,
    Kind.INOTIFY: _not_on_aws,
    Kind.HYBRID: _hybrid_counts,
}


def price_counts(spec: Strategy, c: dict[str, float], pricing: Pricing) -> CostBreakdown:
    """The counts at the cost model's prices, plus the named assumptions."""
    cost = s3_request_cost(
        {
            "PutObject": c["s3.PutObject"] + c["s3.setup"],
            "ListObjectsV2": c.get("s3.ListObjectsV2", 0.0) + c.get("s3.collector.ListObjectsV2", 0.0),
            "GetObject": c["s3.GetObject"],
        },
        pricing=pricing,
    )
    invocations = c.get("lambda.invocations", 0.0)
    function = function_of(spec)
    if invocations:
        if function is None:  # the counts and the spec disagree: a bug in COUNTS, not bad input
            raise TypeError(f"strategy {spec.name!r} ({spec.kind}) counts invocations but has no function")
        memory, arch = function.memory_mb, function.architecture
        cost += lambda_cost(invocations, memory, HANDLER_MS, arch, pricing=pricing)
        init_gb_s = ENVIRONMENTS * COLD_START_MS / 1000 * memory / 1024
        cost += CostBreakdown({"lambda.init": init_gb_s * pricing[f"lambda_gb_second_{arch}"]})
        cost += logs_cost((invocations + ENVIRONMENTS) * LAMBDA_LOG_BYTES / 1e9, pricing=pricing)
    if "dynamodb.writes" in c:
        cost += CostBreakdown(
            {"dynamodb.writes": c["dynamodb.writes"] * DYNAMODB_USD_PER_MILLION_WRITES / 1e6}
        )
    if "sqs.requests" in c:
        cost += sqs_cost(c["sqs.requests"], pricing=pricing)
    if "sns.publishes" in c:
        cost += sns_cost(c["sns.publishes"], pricing=pricing)
    if "eventbridge.events" in c:
        cost += eventbridge_cost(c["eventbridge.events"], pricing=pricing)
    if "scheduler.invocations" in c:
        cost += scheduler_cost(c["scheduler.invocations"], pricing=pricing)
    return cost
