"""What a strategy costs on AWS: pure arithmetic over a pricing table.

Three questions, three entry points:

* ``lambda_cost(...)`` and the other ``*_cost`` functions price one service's usage;
* ``price_run(strategy_summary)`` prices what a live run actually did (its exact request counts,
  invocations and GB-seconds) - a small slice of a month, so no free tier;
* ``monthly_cost(deployment, files_per_month)`` projects a month of a deployment at an arrival
  rate, with or without the always-free tier, broken down per component; ``break_even`` finds
  the rate where two deployments cost the same.

Prices live in ``bench/cost/pricing/aws-us-east-1.toml`` with their sources and dates. A month is 730
hours, AWS's own convention.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from bench.errors import InputError

LAMBDA_LOG_BYTES = 350  # START, END and REPORT lines of one invocation, without the handler's own logs


@dataclass(frozen=True)
class Price:
    usd: float
    per: float
    unit: str
    source: str
    as_of: str

    @property
    def each(self) -> float:
        """Dollars per single unit (request, GB-second, hour, GB)."""
        return self.usd / self.per


@dataclass(frozen=True)
class Pricing:
    region: str
    hours_per_month: float
    prices: Mapping[str, Price]
    free_tier: Mapping[str, float]
    path: str = ""

    def __getitem__(self, name: str) -> float:
        try:
            return self.prices[name].each
        except KeyError:
            raise KeyError(f"no price {name!r} in {self.path}") from None

    @property
    def month_s(self) -> float:
        return self.hours_per_month * 3600.0

    @property
    def label(self) -> str:
        dates = sorted({p.as_of for p in self.prices.values()})
        return f"{Path(self.path).name} ({self.region}, as of {dates[-1] if dates else '?'})"


def load_pricing(path: str | Path | None = None) -> Pricing:
    """The bundled us-east-1 table, or a TOML file of the same shape."""
    if path is None:
        return _bundled()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read pricing table {path}: {exc}") from exc
    return _parse_pricing(text, str(path))


@cache
def _bundled() -> Pricing:
    text = (resources.files("bench.cost") / "pricing" / "aws-us-east-1.toml").read_text(encoding="utf-8")
    return _parse_pricing(text, "bench/cost/pricing/aws-us-east-1.toml")


def _parse_pricing(text: str, origin: str) -> Pricing:
    try:
        data = tomllib.loads(text)
        prices = {
            name: Price(float(p["usd"]), float(p["per"]), str(p["unit"]), str(p["source"]), str(p["as_of"]))
            for name, p in data["prices"].items()
        }
        free = {k: float(v) for k, v in data["free_tier"].items() if isinstance(v, int | float)}
        return Pricing(str(data["region"]), float(data["hours_per_month"]), prices, free, origin)
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{origin}: malformed pricing table ({exc})") from exc


@dataclass(frozen=True)
class CostBreakdown:
    """Dollars per component (``lambda.requests``, ``s3.list``, ``ec2.instance``, ...)."""

    components: Mapping[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return math.fsum(self.components.values())

    def __add__(self, other: CostBreakdown) -> CostBreakdown:
        merged = dict(self.components)
        for name, value in other.components.items():
            merged[name] = merged.get(name, 0.0) + value
        return CostBreakdown(merged)

    def scaled(self, factor: float) -> CostBreakdown:
        return CostBreakdown({k: v * factor for k, v in self.components.items()})

    def as_dict(self) -> dict[str, float]:
        return {"total": self.total, **{k: v for k, v in sorted(self.components.items())}}


def _free(amount: float, allowance: float, free_tier: bool) -> float:
    return max(0.0, amount - allowance) if free_tier else amount


# -- one service at a time ------------------------------------------------------------------------
def lambda_usage_cost(
    invocations: float,
    gb_seconds: float,
    arch: str = "x86_64",
    free_tier: bool = False,
    *,
    pricing: Pricing | None = None,
) -> CostBreakdown:
    """Lambda from its two meters: requests and GB-seconds (free tier: 1M and 400,000 a month)."""
    p = pricing or load_pricing()
    if arch not in ("x86_64", "arm64"):
        raise ValueError(f"arch must be x86_64 or arm64, got {arch!r}")
    requests = _free(invocations, p.free_tier["lambda_requests"], free_tier)
    compute = _free(gb_seconds, p.free_tier["lambda_gb_seconds"], free_tier)
    return CostBreakdown(
        {
            "lambda.requests": requests * p["lambda_request"],
            "lambda.compute": compute * p[f"lambda_gb_second_{arch}"],
        }
    )


def lambda_cost(
    invocations: float,
    memory_mb: int,
    duration_ms: float,
    arch: str = "x86_64",
    free_tier: bool = False,
    *,
    pricing: Pricing | None = None,
) -> CostBreakdown:
    """``invocations`` of ``duration_ms`` each (billed per ms, rounded up) at ``memory_mb``."""
    billed_ms = math.ceil(duration_ms - 1e-9) if duration_ms > 0 else 0
    gb_seconds = invocations * billed_ms / 1000.0 * memory_mb / 1024.0
    return lambda_usage_cost(invocations, gb_seconds, arch, free_tier, pricing=pricing)


S3_PUT_CLASS = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "ListObjectsV2",
    "ListObjects",
    "ListObjectVersions",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "PutBucketNotificationConfiguration",
    "CreateBucket",
}
S3_FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}


def s3_request_cost(operations: Mapping[str, float], *, pricing: Pricing | None = None) -> CostBreakdown:
    """S3 requests by operation name (``ListObjectsV2``: PUT class; ``GetObject``: GET class; DELETE free)."""
    p = pricing or load_pricing()
    lists = sum(n for op, n in operations.items() if op.startswith("List"))
    puts = sum(n for op, n in operations.items() if op in S3_PUT_CLASS and not op.startswith("List"))
    gets = sum(n for op, n in operations.items() if op not in S3_PUT_CLASS and op not in S3_FREE)
    return CostBreakdown(
        {
            "s3.list": lists * p["s3_put_copy_post_list"],
            "s3.put": puts * p["s3_put_copy_post_list"],
            "s3.get": gets * p["s3_get_select_other"],
        }
    )


def sqs_cost(requests: float, free_tier: bool = False, *, pricing: Pricing | None = None) -> CostBreakdown:
    p = pricing or load_pricing()
    return CostBreakdown(
        {"sqs.requests": _free(requests, p.free_tier["sqs_requests"], free_tier) * p["sqs_request"]}
    )


def eventbridge_cost(events: float, *, pricing: Pricing | None = None) -> CostBreakdown:
    p = pricing or load_pricing()
    return CostBreakdown({"eventbridge.events": events * p["eventbridge_event"]})


def scheduler_cost(
    invocations: float, free_tier: bool = False, *, pricing: Pricing | None = None
) -> CostBreakdown:
    p = pricing or load_pricing()
    billable = _free(invocations, p.free_tier["scheduler_invocations"], free_tier)
    return CostBreakdown({"scheduler.invocations": billable * p["scheduler_invocation"]})


# Burstable instances: vCPUs, the baseline share of each vCPU they sustain for free, and the price
# key of CPU used above it in unlimited mode (the default for T3 and T4g).
@dataclass(frozen=True)
class Burstable:
    vcpus: int
    baseline: float  # the share of each vCPU sustained without surplus credits
    surplus_price: str  # pricing key of a vCPU-hour above the baseline


INSTANCES = {
    "t4g.nano": Burstable(2, 0.05, "ec2_t4g_unlimited_vcpu_hour"),
    "t3.micro": Burstable(2, 0.10, "ec2_t3_unlimited_vcpu_hour"),
}


def ec2_cost(
    hours: float,
    instance: str = "t4g.nano",
    public_ipv4: bool = True,
    *,
    cpu_vcpu_hours: float = 0.0,
    pricing: Pricing | None = None,
) -> CostBreakdown:
    """Enough instances of ``instance`` for ``cpu_vcpu_hours`` of work over ``hours``, each with a
    public IPv4 if asked; CPU beyond the instances' free baseline is billed as surplus credits."""
    p = pricing or load_pricing()
    spec = INSTANCES.get(instance)
    if spec is None:
        raise ValueError(f"unknown instance {instance!r}; known: {', '.join(INSTANCES)}")
    vcpus, baseline = float(spec.vcpus), spec.baseline
    demand = cpu_vcpu_hours / hours if hours > 0 else 0.0  # sustained vCPUs
    count = max(1, math.ceil(demand / vcpus - 1e-12))
    surplus = max(0.0, cpu_vcpu_hours - count * vcpus * baseline * hours)
    key = f"ec2_{instance.replace('.', '_')}_hour"
    components = {"ec2.instance": count * hours * p[key]}
    if surplus:
        components["ec2.cpu_credits"] = surplus * p[spec.surplus_price]
    if public_ipv4:
        components["ec2.public_ipv4"] = count * hours * p["public_ipv4_hour"]
    return CostBreakdown(components)


def logs_cost(gigabytes: float, free_tier: bool = False, *, pricing: Pricing | None = None) -> CostBreakdown:
    p = pricing or load_pricing()
    return CostBreakdown(
        {"logs.ingestion": _free(gigabytes, p.free_tier["logs_gb"], free_tier) * p["logs_ingestion_gb"]}
    )


# -- a live run ------------------------------------------------------------------------------------
def price_run(
    strategy: Mapping[str, Any],
    *,
    pricing: Pricing | None = None,
    instance_hours: float | None = None,
    cpu_share: float = 0.5,
) -> CostBreakdown:
    """What the requests, invocations and compute of one strategy's run would cost on AWS.

    Counts are the run's own (exact). What moto does inside AWS for free is added where AWS bills
    it: S3's SendMessage to the queue for each notification, and, for the EventBridge route, one
    event per object write in the bucket (EventBridge receives every object event once enabled).
    A polling loop is charged instance time for ``instance_hours`` (by default the run's wall
    time) and the CPU its processing took (``cpu_share`` of it).
    """
    p = pricing or load_pricing()
    calls: Mapping[str, int] = strategy.get("api_calls", {})
    counters: Mapping[str, Any] = strategy.get("counters", {})
    kind = strategy.get("kind", "")
    params: Mapping[str, Any] = strategy.get("parameters", {})
    function = params.get("function", {}) if isinstance(params.get("function"), dict) else {}
    arch = str(function.get("architecture", "x86_64"))
    cost = s3_request_cost(
        {op.split(".", 1)[1]: n for op, n in calls.items() if op.startswith("s3.")}, pricing=p
    )
    sqs_requests = sum(n for op, n in calls.items() if op.startswith("sqs."))
    if kind == "s3-sqs-lambda":
        sqs_requests += int(counters.get("records", 0))  # S3's SendMessage, one per notification
    if sqs_requests:
        cost += sqs_cost(sqs_requests, pricing=p)
    invocations = float(counters.get("invocations", 0))
    if invocations:
        cost += lambda_usage_cost(invocations, float(counters.get("gb_s", 0.0)), arch, pricing=p)
        cost += logs_cost(invocations * LAMBDA_LOG_BYTES / 1e9, pricing=p)
    if kind == "s3-eventbridge-lambda":
        writes = sum(
            n
            for role in strategy.get("repetitions", [])
            for op, n in _all_roles(role).items()
            if op in ("s3.PutObject", "s3.CopyObject", "s3.CompleteMultipartUpload", "s3.DeleteObject")
        )
        cost += eventbridge_cost(writes, pricing=p)
    if kind == "scheduled-poll":
        cost += scheduler_cost(invocations, pricing=p)
    if kind == "poll":
        hours = instance_hours
        if hours is None:
            hours = sum(float(r.get("wall_s", 0.0)) for r in strategy.get("repetitions", [])) / 3600.0
        busy_s = float(strategy.get("processing_s", {}).get("mean") or 0.0) * int(
            strategy.get("processed", 0)
        )
        cost += ec2_cost(hours, cpu_vcpu_hours=busy_s * cpu_share / 3600.0, pricing=p)
    return cost


def _all_roles(repetition: Mapping[str, Any]) -> dict[str, int]:
    total: dict[str, int] = {}
    for calls in repetition.get("api_calls_by_role", {}).values():
        for op, n in calls.items():
            total[op] = total.get(op, 0) + n
    return total


# -- a month of a deployment ---------------------------------------------------------------------------
DeploymentKind = Literal[
    "poll-ec2", "poll-scheduled-lambda", "s3-lambda", "s3-sqs-lambda", "s3-eventbridge-lambda", "hybrid"
]


@dataclass(frozen=True)
class Deployment:
    """How a strategy would be deployed on AWS; the knobs that move its bill.

    ``retention_days`` is how long processed files stay in the watched prefix (a poller that
    lists everything pays for every one of them, every cycle); ``inbox`` moves them out, with a
    COPY to an archive prefix (``archive_processed``) or with a (free) DELETE alone.

    ``duration_ms`` is the per-file work's wall time, taken as the same on EC2 and on Lambda, of
    which ``cpu_share`` is CPU: a poller on EC2 needs that CPU (more instances, or surplus credits
    above a burstable instance's baseline). Lambda gives CPU in proportion to memory (one vCPU at
    1,769 MB), so CPU-heavy work at 128 MB runs longer than this assumes.
    """

    kind: DeploymentKind
    name: str = ""
    interval_s: float = 60.0
    cursor: str = "seen-set"
    retention_days: float = 30.0
    sweep_every: int = 60
    memory_mb: int = 128
    duration_ms: float = 100.0
    arch: str = "x86_64"
    instance: str = "t4g.nano"
    public_ipv4: bool = True
    batch_size: int = 10
    batching_window_s: float = 0.0
    sqs_pollers: int = 5
    sqs_wait_s: int = 20
    outputs_per_file: int = 1
    list_ms_per_page: float = 60.0
    state_ms: float = 40.0
    sweep_interval_s: float = 3600.0
    sweep_cursor: str = "start-after"
    missed_share: float = 0.0
    archive_processed: bool = True
    cpu_share: float = 0.5
    log_bytes_per_invocation: int = LAMBDA_LOG_BYTES

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind.startswith("poll"):
            return f"{self.kind} every {self.interval_s:g}s"
        return self.kind


def _pages(objects: float) -> float:
    return max(1.0, math.ceil(objects / 1000.0))


def _poll_usage(
    d: Deployment, files_per_month: float, month_s: float
) -> tuple[float, float, dict[str, float]]:
    """(cycles, LIST requests, extra S3 operations) for a month of polling."""
    cycles = month_s / d.interval_s
    per_cycle = files_per_month / cycles
    files_per_day = files_per_month / (month_s / 86400.0)
    retained = files_per_day * d.retention_days
    extra: dict[str, float] = {}
    if d.cursor in ("seen-set", "watermark"):
        lists = cycles * _pages(retained)
    elif d.cursor == "start-after":
        lists = cycles * _pages(per_cycle) + cycles / d.sweep_every * _pages(retained)
    elif d.cursor == "inbox":
        lists = cycles * _pages(per_cycle)
        extra = {"DeleteObject": files_per_month}
        if d.archive_processed:
            extra["CopyObject"] = files_per_month
    else:
        raise ValueError(f"unknown cursor {d.cursor!r}")
    return cycles, lists, extra


def monthly_cost(
    deployment: Deployment, files_per_month: float, *, free_tier: bool = False, pricing: Pricing | None = None
) -> CostBreakdown:
    """A month of ``deployment`` at ``files_per_month``, per component."""
    p = pricing or load_pricing()
    d = deployment
    month_s = p.month_s
    work = {"GetObject": files_per_month, "PutObject": files_per_month * d.outputs_per_file}
    lambda_invocations = lambda_gb_s = 0.0
    cost = CostBreakdown()

    if d.kind in ("poll-ec2", "poll-scheduled-lambda"):
        cycles, lists, extra = _poll_usage(d, files_per_month, month_s)
        cost += s3_request_cost({**work, "ListObjectsV2": lists, **extra}, pricing=p)
        if d.kind == "poll-ec2":
            cpu_hours = files_per_month * d.duration_ms / 1000.0 * d.cpu_share / 3600.0
            cost += ec2_cost(
                p.hours_per_month, d.instance, d.public_ipv4, cpu_vcpu_hours=cpu_hours, pricing=p
            )
        else:
            if d.interval_s < 60:
                raise ValueError("a scheduled function cannot run more often than once a minute")
            busy_ms = lists * d.list_ms_per_page + files_per_month * d.duration_ms + cycles * d.state_ms
            lambda_invocations = cycles
            lambda_gb_s = _gb_s(busy_ms, d.memory_mb, cycles)
            cost += s3_request_cost({"GetObject": cycles, "PutObject": cycles}, pricing=p)  # the cursor
            cost += scheduler_cost(cycles, free_tier, pricing=p)
    elif d.kind in ("s3-lambda", "s3-eventbridge-lambda", "hybrid"):
        cost += s3_request_cost(work, pricing=p)
        lambda_invocations = files_per_month
        lambda_gb_s = _gb_s(files_per_month * d.duration_ms, d.memory_mb, files_per_month)
        if d.kind == "s3-eventbridge-lambda":  # every object event of the bucket, outputs included
            cost += eventbridge_cost(files_per_month * (1 + d.outputs_per_file), pricing=p)
        if d.kind == "hybrid":
            sweep = replace(
                d,
                kind="poll-scheduled-lambda",
                interval_s=d.sweep_interval_s,
                cursor=d.sweep_cursor,
                outputs_per_file=0,
            )
            cycles, lists, extra = _poll_usage(sweep, files_per_month, month_s)
            missed = files_per_month * d.missed_share
            cost += s3_request_cost(
                {
                    "ListObjectsV2": lists,
                    "GetObject": cycles + missed,
                    "PutObject": cycles + missed * d.outputs_per_file,
                    **extra,
                },
                pricing=p,
            )
            cost += scheduler_cost(cycles, free_tier, pricing=p)
            lambda_invocations += cycles
            lambda_gb_s += _gb_s(
                lists * d.list_ms_per_page + missed * d.duration_ms + cycles * d.state_ms, d.memory_mb, cycles
            )
    elif d.kind == "s3-sqs-lambda":
        rate = files_per_month / month_s
        batch = min(float(d.batch_size), max(1.0, 1.0 + rate * d.batching_window_s))
        batches = files_per_month / batch
        empty_receives = d.sqs_pollers * month_s / max(1, d.sqs_wait_s)
        requests = files_per_month + 2 * batches + empty_receives  # send (by S3), receive, delete
        cost += s3_request_cost(work, pricing=p)
        cost += sqs_cost(requests, free_tier, pricing=p)
        lambda_invocations = batches
        lambda_gb_s = _gb_s(files_per_month * d.duration_ms, d.memory_mb, batches)
    else:
        raise ValueError(f"unknown deployment kind {d.kind!r}")

    if lambda_invocations:
        cost += lambda_usage_cost(lambda_invocations, lambda_gb_s, d.arch, free_tier, pricing=p)
        cost += logs_cost(lambda_invocations * d.log_bytes_per_invocation / 1e9, free_tier, pricing=p)
    return cost


def _gb_s(total_ms: float, memory_mb: int, invocations: float) -> float:
    """GB-seconds for ``total_ms`` of work spread over ``invocations`` (each rounded up to 1 ms)."""
    if invocations <= 0:
        return 0.0
    per_invocation = math.ceil(total_ms / invocations - 1e-9)
    return invocations * per_invocation / 1000.0 * memory_mb / 1024.0


def files_per_month(files_per_day: float, pricing: Pricing | None = None) -> float:
    p = pricing or load_pricing()
    return files_per_day * p.month_s / 86400.0


def break_even(
    a: Deployment,
    b: Deployment,
    *,
    free_tier: bool = False,
    low: float = 1.0,
    high: float = 1e9,
    pricing: Pricing | None = None,
) -> float | None:
    """Files per day at which ``a`` and ``b`` cost the same (the first crossing found by bisection
    in log space between ``low`` and ``high``), or None if one is cheaper throughout."""
    p = pricing or load_pricing()

    def gap(per_day: float) -> float:
        n = files_per_month(per_day, p)
        return (
            monthly_cost(a, n, free_tier=free_tier, pricing=p).total
            - monthly_cost(b, n, free_tier=free_tier, pricing=p).total
        )

    grid = [low * (high / low) ** (i / 200) for i in range(201)]
    signs = [gap(x) for x in grid]
    for i in range(200):
        if signs[i] == 0 or signs[i + 1] == 0:  # equal, not crossing (e.g. both pay one page)
            continue
        if (signs[i] < 0) != (signs[i + 1] < 0):
            lo, hi = math.log(grid[i]), math.log(grid[i + 1])
            for _ in range(60):
                mid = (lo + hi) / 2
                if (gap(math.exp(mid)) < 0) == (signs[i] < 0):
                    lo = mid
                else:
                    hi = mid
            return math.exp((lo + hi) / 2)
    return None


def standard_deployments(
    interval_s: float = 60.0, memory_mb: int = 128, duration_ms: float = 100.0, arch: str = "x86_64"
) -> list[Deployment]:
    """The deployment options compared by ``pve cost``."""
    common: dict[str, Any] = {"memory_mb": memory_mb, "duration_ms": duration_ms, "arch": arch}
    return [
        Deployment("poll-ec2", name=f"poll on EC2 every {interval_s:g}s", interval_s=interval_s, **common),
        Deployment(
            "poll-ec2",
            name=f"poll on EC2 every {interval_s:g}s, delete when done",
            interval_s=interval_s,
            cursor="inbox",
            archive_processed=False,
            **common,
        ),
        Deployment(
            "poll-scheduled-lambda",
            name=f"scheduled Lambda every {max(60.0, interval_s):g}s",
            interval_s=max(60.0, interval_s),
            cursor="start-after",
            **common,
        ),
        Deployment("s3-lambda", name="S3 -> Lambda", **common),
        Deployment("s3-sqs-lambda", name="S3 -> SQS -> Lambda", **common),
        Deployment("s3-eventbridge-lambda", name="S3 -> EventBridge -> Lambda", **common),
        Deployment("hybrid", name="hybrid: S3 -> Lambda + hourly sweep", **common),
    ]
