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

import hashlib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cost.deployment import (  # Deployment and DeploymentKind: also re-exported from here
    LAMBDA_LOG_BYTES,
    Deployment,
    Retention,
)
from bench.cost.deployment import DeploymentKind as DeploymentKind
from bench.cost.instances import PROCESS_MB, SEEN_KEY_BYTES, TARGET, Demand, InstanceType, Sizing, size_poller
from bench.cost.work import Work, lambda_duration_s
from bench.errors import InputError, parse_nested, read_input_text
from bench.scenario.kinds import Kind

if TYPE_CHECKING:  # a run's typed counts (pydantic model), imported where a run is priced:
    from bench.results.model import StrategyResult  # pve decide never prices one


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
    sha256: str = ""  # of the table's text: which prices a stored result was derived with
    instances: Mapping[str, InstanceType] = field(default_factory=dict)

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
    text = read_input_text(path, "pricing table")
    return _parse_pricing(text, str(path))


@cache
def _bundled() -> Pricing:
    text = (resources.files("bench.cost") / "pricing" / "aws-us-east-1.toml").read_text(encoding="utf-8")
    return _parse_pricing(text, "bench/cost/pricing/aws-us-east-1.toml")


def _parse_pricing(text: str, origin: str) -> Pricing:
    try:
        data = parse_nested(tomllib.loads, text, origin, "a pricing table")
        prices = {
            name: Price(float(p["usd"]), float(p["per"]), str(p["unit"]), str(p["source"]), str(p["as_of"]))
            for name, p in data["prices"].items()
        }
        free = {k: float(v) for k, v in data["free_tier"].items() if isinstance(v, int | float)}
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        instances = {
            str(i["name"]): InstanceType(
                str(i["name"]),
                int(i["vcpus"]),
                float(i["memory_gib"]),
                float(i["cpu_baseline"]),
                float(i["network_gbps"]),
                str(i["price"]),
                str(i["surplus_price"]) if "surplus_price" in i else None,
            )
            for i in data.get("instances", {}).values()
        }
        for spec in instances.values():
            for key in (spec.price, spec.surplus_price):
                if key is not None and key not in prices:
                    raise KeyError(f"instances.{spec.name}: no price {key!r}")
        return Pricing(
            str(data["region"]), float(data["hours_per_month"]), prices, free, origin, digest, instances
        )
    except InputError:
        raise  # already names the file (nested too deep)
    except (KeyError, TypeError, ValueError) as exc:
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
    duration_ms: float | None = None,
    arch: str = "x86_64",
    free_tier: bool = False,
    *,
    cpu_s: float | None = None,
    wait_s: float | None = None,
    pricing: Pricing | None = None,
) -> CostBreakdown:
    """``invocations`` of ``duration_ms`` each (billed per ms, rounded up) at ``memory_mb``; or,
    from the work model, of ``cpu_s`` CPU seconds (at one vCPU) and ``wait_s`` I/O seconds each,
    which at ``memory_mb`` last ``lambda_duration_s(cpu_s=, wait_s=, memory_mb=)``."""
    if cpu_s is not None or wait_s is not None:
        if duration_ms is not None:
            raise ValueError("give duration_ms or cpu_s/wait_s, not both")
        duration_ms = 1000.0 * lambda_duration_s(
            cpu_s=cpu_s or 0.0, wait_s=wait_s or 0.0, memory_mb=memory_mb
        )
    if duration_ms is None:
        raise ValueError("lambda_cost needs duration_ms, or cpu_s and wait_s")
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


def sns_cost(publishes: float, free_tier: bool = False, *, pricing: Pricing | None = None) -> CostBreakdown:
    """SNS standard topic publishes (free tier: 1M a month); deliveries to SQS carry no SNS charge."""
    p = pricing or load_pricing()
    billable = _free(publishes, p.free_tier.get("sns_requests", 0.0), free_tier)
    return CostBreakdown({"sns.publishes": billable * p["sns_publish"]})


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
    root_volume_gb: float = 0.0,
    pricing: Pricing | None = None,
) -> CostBreakdown:
    """Enough instances of ``instance`` for ``cpu_vcpu_hours`` of work over ``hours``, each with a
    public IPv4 if asked and a gp3 root volume of ``root_volume_gb``; CPU beyond the instances'
    free baseline is billed as surplus credits."""
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
    if root_volume_gb:
        months = hours / p.hours_per_month
        components["ec2.ebs_root"] = count * root_volume_gb * months * p["ebs_gp3_gb_month"]
    return CostBreakdown(components)


def logs_cost(gigabytes: float, free_tier: bool = False, *, pricing: Pricing | None = None) -> CostBreakdown:
    p = pricing or load_pricing()
    return CostBreakdown(
        {"logs.ingestion": _free(gigabytes, p.free_tier["logs_gb"], free_tier) * p["logs_ingestion_gb"]}
    )


# -- a live run ------------------------------------------------------------------------------------
def price_run(
    strategy: StrategyResult,
    *,
    pricing: Pricing | None = None,
    instance_hours: float | None = None,
    cpu_share: float = 0.5,
) -> CostBreakdown:
    """What the requests, invocations and compute of one strategy's run would cost on AWS.

    Counts are the run's own (exact): S3 and SQS requests, Lambda requests, GB-seconds and their
    log lines. What the kind adds to the bill beyond those (``RUN_CHARGES``) comes next: what
    moto does inside AWS for free is added where AWS bills it, and a polling loop is charged
    instance time for ``instance_hours`` (by default the strategy's ``instance_s``, else the
    run's wall time) and the CPU its processing took (``cpu_share`` of it). A dict (0.2.0's
    deprecated way) raises TypeError: validate it first (``StrategyResult.model_validate``).
    """
    p = pricing or load_pricing()
    s = _strategy_result(strategy)
    function = s.parameters.get("function", {}) if isinstance(s.parameters.get("function"), dict) else {}
    arch = str(function.get("architecture", "x86_64"))
    cost = s3_request_cost(
        {op.split(".", 1)[1]: n for op, n in s.api_calls.items() if op.startswith("s3.")}, pricing=p
    )
    sqs_requests = sum(n for op, n in s.api_calls.items() if op.startswith("sqs."))
    if sqs_requests:
        cost += sqs_cost(sqs_requests, pricing=p)
    invocations = s.counter("invocations")
    if invocations:
        cost += lambda_usage_cost(invocations, s.counter("gb_s"), arch, pricing=p)
        cost += logs_cost(invocations * LAMBDA_LOG_BYTES / 1e9, pricing=p)
    try:
        charge = RUN_CHARGES[Kind(s.kind)]
    except ValueError:  # a kind this version does not know: its counts alone
        return cost
    return cost + charge(s, p, instance_hours, cpu_share)


# -- what each kind's run adds to its counts' bill ------------------------------------------------------
# (strategy, pricing, instance hours or None, CPU share of the processing) -> the added cost
RunCharge = Callable[["StrategyResult", Pricing, float | None, float], CostBreakdown]


def _nothing(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    return CostBreakdown()


def _notifications(s: StrategyResult) -> int:
    """The notifications S3 sent for a run: the mapping's ``records`` (the s3:TestEvent included);
    a run on AWS counts none here (the function's logs have no such count): one per file."""
    return int(s.counter("records")) or s.files


def _queue_sends(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    """S3's SendMessage to the queue, one per notification (moto's is free)."""
    records = _notifications(s)
    return sqs_cost(records, pricing=p) if records else CostBreakdown()


def _topic_deliveries(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    """S3's Publish to the topic, one per notification, and the topic's delivery to the queue (moto's
    are free). SNS bills nothing for a delivery to SQS; the queue's side of it is priced as one SQS
    request, as S3's own send is for S3 -> SQS (an assumption: pessimistic by $0.40 per 1M files)."""
    records = _notifications(s)
    return sns_cost(records, pricing=p) + _queue_sends(s, p, hours, cpu_share) if records else CostBreakdown()


def _bus_events(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    """One EventBridge event per object write in the bucket (EventBridge gets every object event)."""
    writes = sum(
        n
        for repetition in s.repetitions
        for op, n in repetition.calls().items()
        if op in ("s3.PutObject", "s3.CopyObject", "s3.CompleteMultipartUpload", "s3.DeleteObject")
    )
    return eventbridge_cost(writes, pricing=p)


def _schedule(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    """The scheduler's invocations, one per function invocation."""
    return scheduler_cost(s.counter("invocations"), pricing=p)


def _instance(s: StrategyResult, p: Pricing, hours: float | None, cpu_share: float) -> CostBreakdown:
    """The polling loop's machine for the run's time, and the CPU its processing took."""
    if hours is None:
        hours = (s.instance_s if s.instance_s is not None else s.wall_s()) / 3600.0
    busy_s = float(s.processing_s.mean or 0.0) * s.processed
    return ec2_cost(hours, cpu_vcpu_hours=busy_s * cpu_share / 3600.0, pricing=p)


RUN_CHARGES: dict[Kind, RunCharge] = {
    Kind.POLL: _instance,
    Kind.SCHEDULED_POLL: _schedule,
    Kind.S3_LAMBDA: _nothing,
    Kind.S3_SQS_LAMBDA: _queue_sends,
    Kind.S3_EVENTBRIDGE_LAMBDA: _bus_events,
    Kind.S3_SNS_SQS_LAMBDA: _topic_deliveries,
    Kind.INOTIFY: _nothing,
    Kind.HYBRID: _nothing,  # its sweep's requests and invocations are in its counts
}


def _strategy_result(strategy: object) -> StrategyResult:
    """``strategy`` itself if it is a run's typed results; anything else (a dict) is a caller's bug."""
    from bench.results.model import StrategyResult

    if not isinstance(strategy, StrategyResult):
        raise TypeError(
            f"price_run takes a bench.results.model.StrategyResult, not a {type(strategy).__name__} "
            "(a dict: StrategyResult.model_validate(it) first; 0.3.0 dropped pricing a dict)"
        )
    return strategy


# -- a month of a deployment ---------------------------------------------------------------------------
_DEFAULT_WORK = Work()


def _pages(objects: float) -> float:
    return max(1.0, math.ceil(objects / 1000.0))


@dataclass(frozen=True)
class PollUsage:
    """A month of polling: cycles, LIST requests (regular and sweeps), pages per cycle and per sweep."""

    cycles: float
    lists: float
    extra: Mapping[str, float]
    pages_per_cycle: float
    sweep_pages: float
    sweeps: float


def poll_usage(d: Deployment, files_per_month: float, month_s: float) -> PollUsage:
    """What a month of polling lists, from the cursor and the files retained in the prefix."""
    cycles = month_s / d.poll.interval_s
    per_cycle = files_per_month / cycles
    files_per_day = files_per_month / (month_s / 86400.0)
    retained = (
        0.0 if d.files.delete_inputs else files_per_day * d.files.retention_days
    )  # deleted: nothing stays
    extra: dict[str, float] = {}
    sweep_pages = sweeps = 0.0
    if d.poll.cursor in ("seen-set", "watermark"):
        pages = _pages(retained)
    elif d.poll.cursor == "start-after":
        pages = _pages(per_cycle)
        sweeps, sweep_pages = cycles / d.poll.sweep_every, _pages(retained)
    elif d.poll.cursor == "inbox":
        pages = _pages(per_cycle)
        extra = {"DeleteObject": files_per_month}
        if d.poll.archive_processed:
            extra["CopyObject"] = files_per_month
    else:
        raise ValueError(f"unknown cursor {d.poll.cursor!r}")
    return PollUsage(cycles, cycles * pages + sweeps * sweep_pages, extra, pages, sweep_pages, sweeps)


def sqs_batch_fill(d: Deployment, rate_per_s: float) -> float:
    """Mean messages per batch: those arriving while each poller is away (batching window plus
    turnaround), shared among the pollers; at least one, at most the batch size (an assumption)."""
    pollers = max(1, d.queue.sqs_pollers)
    fill = 1.0 + rate_per_s * (d.queue.batching_window_s + d.queue.sqs_turnaround_s) / pollers
    return min(float(d.queue.batch_size), fill)


def sqs_empty_receives(d: Deployment, rate_per_s: float, month_s: float) -> float:
    """Empty long polls in a month: each idle poller returns empty after ``sqs_wait_s`` when no
    message reached it (Poisson arrivals shared evenly among the pollers)."""
    pollers = max(1, d.queue.sqs_pollers)
    wait = max(1, d.queue.sqs_wait_s)
    return pollers * month_s / wait * math.exp(-rate_per_s * wait / pollers)


def monthly_cost(
    deployment: Deployment, files_per_month: float, *, free_tier: bool = False, pricing: Pricing | None = None
) -> CostBreakdown:
    """A month of ``deployment`` at ``files_per_month``, per component, at steady state (the
    prefix already holds ``retention_days`` of files): its kind's bill (``bench.cost.deployments``),
    then what the requirements and its Lambda invocations add."""
    from bench.cost.deployments import row  # the table's bills are built on this module

    p = pricing or load_pricing()
    d = deployment
    bill = row(d.kind).bill(d, files_per_month, p, free_tier)
    cost = bill.cost
    cost += _requirement_lines(d, files_per_month, p, free_tier, bill.archive_copies)
    cost += _lambda_lines(d, files_per_month, bill.invocations, bill.gb_s, free_tier, p)
    return CostBreakdown({k: v for k, v in cost.components.items() if v})  # a line not needed is absent


@dataclass(frozen=True)
class Bill:
    """What a kind's own bill function returns: its lines, and the Lambda usage and archive COPYs
    the shared lines (``_lambda_lines``, ``_requirement_lines``) price."""

    cost: CostBreakdown
    invocations: float = 0.0
    gb_s: float = 0.0
    archive_copies: float = 0.0


def _lambda_lines(
    d: Deployment, files_per_month: float, invocations: float, gb_s: float, free_tier: bool, p: Pricing
) -> CostBreakdown:
    """Lambda's requests and compute, its INIT phases (billed since 2025-08-01: cold starts x INIT
    seconds, at the GB-second price) and the logs: Lambda's own lines per invocation, the
    processing's per file (a poller's too)."""
    cost = CostBreakdown()
    if invocations:
        cost += lambda_usage_cost(invocations, gb_s, d.function.arch, free_tier, pricing=p)
        init_gb_s = (
            invocations * d.function.cold_start_share * d.function.init_s * d.function.memory_mb / 1024.0
        )
        if init_gb_s:
            with_init = lambda_usage_cost(
                invocations, gb_s + init_gb_s, d.function.arch, free_tier, pricing=p
            )
            init = with_init.components["lambda.compute"] - cost.components["lambda.compute"]
            if init:
                cost += CostBreakdown({"lambda.init": init})
    log_bytes = (
        invocations * d.function.log_bytes_per_invocation + files_per_month * d.needs.log_bytes_per_file
    )
    if log_bytes:
        cost += logs_cost(log_bytes / 1e9, free_tier, pricing=p)
    return cost


KMS_BUCKET_KEY_SHARE = 0.01  # assumption: a bucket key cuts S3's KMS requests "by up to 99%" (S3 User Guide)
LEDGER_ITEM_BYTES = 300.0  # assumption: a ledger item (key, status, expiry) with DynamoDB's 100-byte overhead


def _requirement_lines(
    d: Deployment, files_per_month: float, p: Pricing, free_tier: bool, archive_copies: float
) -> CostBreakdown:
    """The lines a requirement adds, on every kind alike: the idempotency ledger (writes and
    storage), the archive COPY, S3 storage of the inputs kept, KMS requests and key."""
    lines: dict[str, float] = {}
    per_day = files_per_month / (p.month_s / 86400.0)
    if d.needs.idempotency_ledger and files_per_month:
        lines["dynamodb.ledger_writes"] = (
            files_per_month * d.needs.ledger_writes_per_file * p["dynamodb_write_request"]
        )
        if d.needs.ledger_ttl_days:
            gb = per_day * d.needs.ledger_ttl_days * LEDGER_ITEM_BYTES / 2**30
            allowance = p.free_tier.get("dynamodb_storage_gb", 0.0)
            lines["dynamodb.ledger_storage"] = (
                _free(gb, allowance, free_tier) * p["dynamodb_storage_gb_month"]
            )
    if archive_copies:
        lines["s3.archive_copy"] = archive_copies * p["s3_put_copy_post_list"]
    if d.s3_storage and d.files.retention_days and not d.files.delete_inputs:
        gb = per_day * d.files.retention_days * d.files.file_size_mb / 1024.0
        lines["s3.storage"] = gb * p["s3_standard_gb_month"]
    if d.needs.encryption in ("sse-kms", "sse-kms-bucket-key"):
        requests = (
            files_per_month * (1 + d.files.outputs_per_file) + 2 * archive_copies
        )  # Decrypt, GenerateDataKey
        if d.needs.encryption == "sse-kms-bucket-key":
            requests *= KMS_BUCKET_KEY_SHARE
        lines["kms.requests"] = (
            _free(requests, p.free_tier.get("kms_requests", 0.0), free_tier) * p["kms_request"]
        )
        lines["kms.key"] = p["kms_key_month"]
    return CostBreakdown({k: v for k, v in lines.items() if v})


def poller_sizing(
    d: Deployment, files_per_month: float, p: Pricing, usage: PollUsage | None = None
) -> Sizing:
    """The poller's instances at its busiest hour (``peak_factor`` x the mean rate): the cheapest
    type and count of the pricing table's ``[instances]`` keeping CPU, memory and network at or
    under 70%, at least one per Availability Zone. ``d.poll.instance`` pins the type ("auto": any)."""
    u = usage or poll_usage(d, files_per_month, p.month_s)
    rate = files_per_month / p.month_s * d.poll.peak_factor
    list_vcpus = (u.lists / u.cycles if u.cycles else 0.0) / d.poll.interval_s * d.poll.list_cpu_s_per_page
    service = d.work.cpu_s + d.work.wait_s
    workers = max(1, math.ceil(rate * service / TARGET - 1e-9))
    seen = 0.0
    if d.poll.cursor in ("seen-set", "watermark"):  # every key still in the prefix, in memory
        kept = 0.0 if d.files.delete_inputs else d.files.retention_days
        seen = files_per_month / (p.month_s / 86400.0) * kept * SEEN_KEY_BYTES / 1e6
    demand = Demand(
        vcpus=rate * d.work.cpu_s + list_vcpus,
        network_gbps=rate * d.files.file_size_mb * (1 + d.files.outputs_per_file) * 8e6 / 1e9,
        shared_mb=workers * d.files.file_size_mb * 2,
        per_instance_mb=PROCESS_MB + seen,
        min_count=max(1, d.needs.azs),
    )
    table = p.instances or _bundled().instances
    prices = {key: p[key] for spec in table.values() for key in (spec.price, spec.surplus_price) if key}
    extra = (p["public_ipv4_hour"] if _public(d) else 0.0) + d.poll.ebs_root_gb * p[
        "ebs_gp3_gb_month"
    ] / p.hours_per_month
    only = None if d.poll.instance == "auto" else d.poll.instance
    if only is not None and only not in table:
        raise ValueError(f"unknown instance {only!r}; known: {', '.join(table)}")
    return size_poller(demand, table, prices, only=only, extra_hourly=extra)


poll_sizing_for = poller_sizing  # the name feasibility imports


def _public(d: Deployment) -> bool:
    return d.public_ipv4 and d.needs.network == "public"


def poller_fleet_cost(
    d: Deployment, files_per_month: float, p: Pricing, usage: PollUsage | None = None
) -> CostBreakdown:
    """The sized fleet for a month: instances, surplus CPU at the mean rate, IPv4, root volumes,
    and the network the requirement asks for (NAT gateway, or an interface endpoint for logs)."""
    sizing = poller_sizing(d, files_per_month, p, usage)
    table = p.instances or _bundled().instances
    spec = table[sizing.instance]
    hours = p.hours_per_month
    lines = {"ec2.instance": sizing.count * hours * p[spec.price]}
    cpu_hours = files_per_month * d.work.cpu_s / 3600.0
    surplus = max(0.0, cpu_hours - sizing.count * spec.vcpus * spec.cpu_baseline * hours)
    if surplus and spec.surplus_price:
        lines["ec2.cpu_credits"] = surplus * p[spec.surplus_price]
    if _public(d):
        lines["ec2.public_ipv4"] = sizing.count * hours * p["public_ipv4_hour"]
    if d.poll.ebs_root_gb:
        lines["ec2.ebs_root"] = sizing.count * d.poll.ebs_root_gb * p["ebs_gp3_gb_month"]
    azs = max(1, d.needs.azs)
    log_gb = files_per_month * d.needs.log_bytes_per_file / 1e9
    if d.needs.network == "nat":  # every byte to S3, DynamoDB and CloudWatch Logs goes through it
        s3_gb = files_per_month * d.files.file_size_mb * (1 + d.files.outputs_per_file) / 1000.0
        lines["vpc.nat_gateway_hours"] = azs * hours * p["nat_gateway_hour"]
        lines["vpc.nat_gateway_gb"] = (s3_gb + log_gb) * p["nat_gateway_gb"]
    elif d.needs.network == "endpoint" and log_gb:  # S3 and DynamoDB: free gateway endpoints; logs: interface
        lines["vpc.endpoint_hours"] = azs * hours * p["interface_endpoint_hour"]
        lines["vpc.endpoint_gb"] = log_gb * p["interface_endpoint_gb"]
    return CostBreakdown(lines)


def hybrid_sweep_cost(
    d: Deployment, files_per_month: float, p: Pricing, free_tier: bool
) -> tuple[CostBreakdown, float, float]:
    """The hybrid's sweep (a scheduled function finding what notifications missed) and the missed
    files' processing: (cost, invocations, GB-seconds). ``sweep_cursor`` "inventory" reads a
    daily S3 Inventory report instead of listing."""
    missed = files_per_month * d.sweep.missed_share
    days = p.month_s / 86400.0
    cost = CostBreakdown()
    if d.sweep.sweep_cursor == "inventory":
        per_day = files_per_month / days
        kept = 1.0 if d.files.delete_inputs else max(1.0, d.files.retention_days)
        objects = per_day * kept * days  # every object in the bucket, once a day
        cost += CostBreakdown({"s3.inventory": objects * p["s3_inventory_million_objects"]})
        cycles, lists = days, 0.0
    else:
        usage = hybrid_sweep_usage(d, files_per_month, p.month_s)
        cycles, lists = usage.cycles, usage.lists
        cost += s3_request_cost({"ListObjectsV2": lists}, pricing=p)
    cost += s3_request_cost(
        {"GetObject": cycles + missed, "PutObject": cycles + missed * d.files.outputs_per_file}, pricing=p
    )
    cost += scheduler_cost(cycles, free_tier, pricing=p)
    list_ms = d.list_s_per_page(on_lambda=True) * 1000.0
    invocations = cycles  # a full sweep split over P prefixes runs P functions at once
    if d.sweep.sweep_cursor != "start-after" and d.sweep.sweep_cursor != "inventory":
        invocations *= max(1, d.sweep.sweep_parallel)
    gb_s = _gb_s(
        lists * list_ms + missed * d.lambda_s * 1000 + cycles * d.poll.state_ms,
        d.function.memory_mb,
        invocations,
    )
    return cost, invocations, gb_s


@dataclass(frozen=True)
class SweepUsage:
    """A month of the hybrid's sweeps: how many, LIST requests, the longest one function lists."""

    cycles: float
    lists: float
    longest_pages: float


def hybrid_sweep_usage(d: Deployment, files_per_month: float, month_s: float) -> SweepUsage:
    """The hybrid's sweeps: "start-after" lists only the keys written since the previous sweep (a
    missed notification's file is among them once its grace has passed; ``pve simulate`` models the
    same); "seen-set"/"watermark" list the whole prefix, split over ``sweep_parallel`` prefixes
    listed by as many functions at once."""
    cycles = month_s / d.sweep.sweep_interval_s
    if d.sweep.sweep_cursor == "start-after":
        pages = _pages(files_per_month / cycles)
        return SweepUsage(cycles, cycles * pages, pages)
    per_day = files_per_month / (month_s / 86400.0)
    kept = 0.0 if d.files.delete_inputs else d.files.retention_days
    pages = _pages(per_day * kept)
    parallel = max(1, d.sweep.sweep_parallel)
    return SweepUsage(cycles, cycles * max(pages, parallel), pages / parallel)


def ledger_cost(writes: float, *, pricing: Pricing | None = None) -> CostBreakdown:
    """A DynamoDB on-demand idempotency ledger: write request units (items under 1 KB)."""
    p = pricing or load_pricing()
    return CostBreakdown({"dynamodb.ledger_writes": writes * p["dynamodb_write_request"]})


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
    steps: int = 200,
    iterations: int = 60,
) -> float | None:
    """Files per day at which ``a`` and ``b`` cost the same (the first crossing found by bisection
    in log space between ``low`` and ``high``, on a grid of ``steps``), or None if one is cheaper
    throughout."""
    p = pricing or load_pricing()

    def gap(per_day: float) -> float:
        n = files_per_month(per_day, p)
        return (
            monthly_cost(a, n, free_tier=free_tier, pricing=p).total
            - monthly_cost(b, n, free_tier=free_tier, pricing=p).total
        )

    grid = [low * (high / low) ** (i / steps) for i in range(steps + 1)]
    signs = [gap(x) for x in grid]
    for i in range(steps):
        if signs[i] == 0 or signs[i + 1] == 0:  # equal, not crossing (e.g. both pay one page)
            continue
        if (signs[i] < 0) != (signs[i + 1] < 0):
            lo, hi = math.log(grid[i]), math.log(grid[i + 1])
            for _ in range(iterations):
                mid = (lo + hi) / 2
                if (gap(math.exp(mid)) < 0) == (signs[i] < 0):
                    lo = mid
                else:
                    hi = mid
            return math.exp((lo + hi) / 2)
    return None


def standard_deployments(
    interval_s: float = 60.0,
    memory_mb: int = 128,
    arch: str = "x86_64",
    *,
    cpu_s: float = _DEFAULT_WORK.cpu_s,
    wait_s: float = _DEFAULT_WORK.wait_s,
    retention_days: float = 30.0,
    retention: Retention = "lifecycle",
) -> list[Deployment]:
    """The deployment options compared by ``pve cost`` and ``pve decide`` (each kind's row's)."""
    from bench.cost import deployments  # the table prices deployments: it imports this module

    return deployments.standard_deployments(
        interval_s,
        memory_mb,
        arch,
        cpu_s=cpu_s,
        wait_s=wait_s,
        retention_days=retention_days,
        retention=retention,
    )


def inbox_label(interval_s: float, *, archive: bool) -> str:
    """The inbox poller's name in ``pve cost``'s tables (``bench.cost.deployments.inbox_label``)."""
    from bench.cost import deployments

    return deployments.inbox_label(interval_s, archive=archive)
