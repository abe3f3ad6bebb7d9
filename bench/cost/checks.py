"""The limits a deployment can break, one check each; ``bench.cost.deployments`` says which of
them each kind faces, ``bench.cost.feasibility.check`` runs them. Limits and their sources:
``pricing/assumptions.toml``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.cost.assumptions import Assumptions
from bench.cost.model import (
    Deployment,
    Pricing,
    hybrid_sweep_usage,
    poll_sizing_for,
    poll_usage,
    sqs_batch_fill,
)


@dataclass(frozen=True)
class Case:
    """One deployment at one rate, with what every check needs."""

    d: Deployment
    rate: float  # files per second
    files_per_month: float
    month_s: float
    per_page_s: float  # on an instance (a full vCPU parses the page)
    limits: Assumptions
    pricing: Pricing
    polls: bool  # the deployment lists the prefix (its kind's row says)

    @property
    def lambda_page_s(self) -> float:
        """One LIST page from a function at its memory's share of a vCPU."""
        return self.d.list_s_per_page(on_lambda=True)

    def limit(self, name: str) -> float:
        return self.limits.limit(name)

    @property
    def timeout(self) -> float:
        return self.limit("lambda_timeout_s")


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def s3_request_rates(c: Case) -> list[str]:
    """Per partitioned prefix: the watched prefix takes the producer's PUT, the strategy's GET (and
    LIST pages, GETs on the bucket) and, for an inbox, a DELETE per file."""
    writes, reads = c.rate, c.rate
    if c.polls:
        reads += poll_usage(c.d, c.files_per_month, c.month_s).lists / c.month_s
        if c.d.poll.cursor == "inbox":
            writes += c.rate
    out = []
    if writes > c.limit("s3_put_per_prefix_per_s"):
        out.append(
            f"{_fmt(writes)} PUT/DELETE/s on one prefix > S3's {c.limit('s3_put_per_prefix_per_s'):,.0f}"
        )
    if reads > c.limit("s3_get_per_prefix_per_s"):
        out.append(f"{_fmt(reads)} GET+LIST/s on one prefix > S3's {c.limit('s3_get_per_prefix_per_s'):,.0f}")
    return out


def ec2_listing(c: Case) -> list[str]:
    usage = poll_usage(c.d, c.files_per_month, c.month_s)
    out = []
    listing = usage.pages_per_cycle * c.per_page_s
    if listing > c.d.poll.interval_s:
        out.append(
            f"listing {_fmt(usage.pages_per_cycle)} pages takes {_fmt(listing)} s, longer than the "
            f"{c.d.poll.interval_s:g} s interval"
        )
    if usage.sweeps and usage.sweep_pages * c.per_page_s > c.d.poll.interval_s * c.d.poll.sweep_every:
        out.append(f"a full sweep ({_fmt(usage.sweep_pages * c.per_page_s)} s) outlasts the sweep period")
    return out


def scheduled_function(c: Case) -> list[str]:
    usage = poll_usage(c.d, c.files_per_month, c.month_s)
    per_cycle = c.files_per_month / usage.cycles
    work = usage.pages_per_cycle * c.lambda_page_s + per_cycle * c.d.lambda_s + c.d.poll.state_ms / 1000.0
    out = []
    if work > c.timeout:
        out.append(f"one invocation's work ({_fmt(work)} s) exceeds Lambda's {c.timeout:g} s timeout")
    elif work > c.d.poll.interval_s:
        out.append(f"one invocation's work ({_fmt(work)} s) outlasts the {c.d.poll.interval_s:g} s schedule")
    sweep = usage.sweep_pages * c.lambda_page_s
    if usage.sweeps and sweep > c.timeout:
        out.append(
            f"a full sweep lists {_fmt(usage.sweep_pages)} pages ({_fmt(sweep)} s) > {c.timeout:g} s timeout"
        )
    return out


def hybrid_sweep(c: Case) -> list[str]:
    """The sweep's longest listing, split over ``sweep_parallel`` prefixes listed at once, must
    fit one function's timeout (an inventory report is read, not listed)."""
    if c.d.sweep.sweep_cursor == "inventory":
        return []
    d = c.d
    pages = hybrid_sweep_usage(d, c.files_per_month, c.month_s).longest_pages
    seconds = pages * c.lambda_page_s
    if seconds <= c.timeout:
        return []
    split = f" per prefix of {d.sweep.sweep_parallel}" if d.sweep.sweep_parallel > 1 else ""
    return [f"the sweep lists {_fmt(pages)} pages{split} ({_fmt(seconds)} s) > {c.timeout:g} s timeout"]


def ec2_sizing(c: Case) -> list[str]:
    """A poller whose CPU, memory or network no instance type (and count) keeps under 70%."""
    sizing = poll_sizing_for(c.d, c.files_per_month, c.pricing)
    return [] if sizing.feasible else [sizing.why_not]


def lambda_concurrency(c: Case) -> list[str]:
    concurrency = c.rate * c.d.lambda_s
    limit = c.limit("lambda_concurrency")
    if concurrency <= limit:
        return []
    return [f"needs {_fmt(concurrency)} concurrent executions > the account's {limit:,.0f}"]


def sqs_in_flight(c: Case) -> list[str]:
    batch = sqs_batch_fill(c.d, c.rate)
    in_flight = c.rate * (c.d.queue.batching_window_s + c.d.queue.sqs_turnaround_s + batch * c.d.lambda_s)
    limit = c.limit("sqs_in_flight")
    if in_flight <= limit:
        return []
    return [f"{_fmt(in_flight)} messages in flight > SQS's ~{limit:,.0f}"]


# one deployment at one rate -> the reasons it cannot run (none: it can)
Check = Callable[[Case], list[str]]
