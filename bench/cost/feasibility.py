"""Whether a deployment can run at a rate at all: a configuration that cannot is marked with the
reason, never priced as if it could. Limits and their sources: ``pricing/assumptions.toml``."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.model import LAMBDA_EVENT_KINDS, Deployment, Pricing, load_pricing, poll_usage, sqs_batch_fill


@dataclass(frozen=True)
class Feasibility:
    feasible: bool
    why_not: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """One line for a table or a legend (empty when feasible)."""
        return "; ".join(self.why_not)


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def check(
    d: Deployment,
    files_per_day: float,
    *,
    pricing: Pricing | None = None,
    assumptions: Assumptions | None = None,
) -> Feasibility:
    """Every limit ``d`` would break at ``files_per_day`` (steady state, even arrivals)."""
    p = pricing or load_pricing()
    a = assumptions or load_assumptions()
    timeout = a.limit("lambda_timeout_s")
    rate = files_per_day / 86400.0
    files_per_month = files_per_day * p.month_s / 86400.0
    per_page_s = d.list_ms_per_page / 1000.0
    why: list[str] = []

    # S3 request rates per partitioned prefix: the watched prefix takes the producer's PUT, the
    # strategy's GET (and LIST pages, GETs on the bucket) and, for an inbox, a DELETE per file.
    writes, reads = rate, rate
    if d.kind.startswith("poll"):
        usage = poll_usage(d, files_per_month, p.month_s)
        reads += usage.lists / p.month_s
        if d.cursor == "inbox":
            writes += rate
    if writes > a.limit("s3_put_per_prefix_per_s"):
        why.append(
            f"{_fmt(writes)} PUT/DELETE/s on one prefix > S3's {a.limit('s3_put_per_prefix_per_s'):,.0f}"
        )
    if reads > a.limit("s3_get_per_prefix_per_s"):
        why.append(f"{_fmt(reads)} GET+LIST/s on one prefix > S3's {a.limit('s3_get_per_prefix_per_s'):,.0f}")

    if d.kind == "poll-ec2":
        usage = poll_usage(d, files_per_month, p.month_s)
        listing = usage.pages_per_cycle * per_page_s
        if listing > d.interval_s:
            why.append(
                f"listing {_fmt(usage.pages_per_cycle)} pages takes {_fmt(listing)} s, longer than the "
                f"{d.interval_s:g} s interval"
            )
        if usage.sweeps and usage.sweep_pages * per_page_s > d.interval_s * d.sweep_every:
            why.append(f"a full sweep ({_fmt(usage.sweep_pages * per_page_s)} s) outlasts the sweep period")
    elif d.kind == "poll-scheduled-lambda":
        usage = poll_usage(d, files_per_month, p.month_s)
        per_cycle = files_per_month / usage.cycles
        work = usage.pages_per_cycle * per_page_s + per_cycle * d.lambda_s + d.state_ms / 1000.0
        if work > timeout:
            why.append(f"one invocation's work ({_fmt(work)} s) exceeds Lambda's {timeout:g} s timeout")
        elif work > d.interval_s:
            why.append(f"one invocation's work ({_fmt(work)} s) outlasts the {d.interval_s:g} s schedule")
        sweep = usage.sweep_pages * per_page_s
        if usage.sweeps and sweep > timeout:
            why.append(
                f"a full sweep lists {_fmt(usage.sweep_pages)} pages ({_fmt(sweep)} s) "
                f"> {timeout:g} s timeout"
            )
    if d.kind == "hybrid":
        sweeper = replace(
            d, kind="poll-scheduled-lambda", interval_s=d.sweep_interval_s, cursor=d.sweep_cursor
        )
        usage = poll_usage(sweeper, files_per_month, p.month_s)
        pages = max(usage.pages_per_cycle, usage.sweep_pages)
        if pages * per_page_s > timeout:
            why.append(
                f"the sweep lists {_fmt(pages)} pages ({_fmt(pages * per_page_s)} s) > {timeout:g} s timeout"
            )

    if d.kind in LAMBDA_EVENT_KINDS:
        concurrency = rate * d.lambda_s
        limit = a.limit("lambda_concurrency")
        if concurrency > limit:
            why.append(f"needs {_fmt(concurrency)} concurrent executions > the account's {limit:,.0f}")
    if d.kind == "s3-sqs-lambda":
        batch = sqs_batch_fill(d, rate)
        in_flight = rate * (d.batching_window_s + d.sqs_turnaround_s + batch * d.lambda_s)
        limit = a.limit("sqs_in_flight")
        if in_flight > limit:
            why.append(f"{_fmt(in_flight)} messages in flight > SQS's ~{limit:,.0f}")
    return Feasibility(not why, tuple(why))
