"""The cheapest configuration of each option that meets the requirements: a small grid over the
knobs a user would turn (poll interval, Lambda memory, SQS batch size and window, the hybrid's
sweep), instance type and count sized inside the bill (``bench.cost.model.poller_sizing``).

A knob the user pinned (``--interval``, ``--memory``) is not searched. The grids are short on
purpose (``pve decide`` prices every candidate of every option at every rate, with a latency
sample each): about 200 candidates a rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bench.cost.model import Deployment, Pricing, files_per_month, poller_sizing

INTERVALS_S = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)
MEMORIES_MB = (128, 256, 512, 1024, 1769, 3008, 10240)
SQS_BATCHES = ((1, 0.0), (10, 0.0), (10, 1.0), (100, 5.0))  # (batch size, batching window s)
# the hybrid's sweep: new keys only; the whole prefix, split over P prefixes; or a daily inventory
SWEEPS = (("start-after", 1), ("seen-set", 1), ("seen-set", 16), ("seen-set", 64), ("inventory", 1))


@dataclass(frozen=True)
class Pins:
    """The knobs a user fixed; None: searched."""

    interval_s: float | None = None
    memory_mb: int | None = None

    def pinned(self) -> list[str]:
        return [name for name in ("interval_s", "memory_mb") if getattr(self, name) is not None]


@dataclass(frozen=True)
class Candidate:
    d: Deployment
    bill: float
    p95: float
    feasible: bool
    why_not: tuple[str, ...]
    meets_latency: bool


def candidates(d: Deployment, pins: Pins) -> list[Deployment]:
    """Every configuration of ``d`` the search tries."""
    memories = (pins.memory_mb,) if pins.memory_mb else MEMORIES_MB
    intervals: Sequence[float] = (pins.interval_s,) if pins.interval_s else INTERVALS_S
    if d.kind == "poll-ec2":
        return [replace(d, interval_s=float(i)) for i in intervals]
    if d.kind == "poll-scheduled-lambda":  # a schedule runs at most once a minute
        every = sorted({max(60.0, float(i)) for i in intervals})
        return [replace(d, interval_s=i, memory_mb=m) for i in every for m in memories]
    if d.kind == "s3-sqs-lambda":
        return [
            replace(d, memory_mb=m, batch_size=b, batching_window_s=w)
            for m in memories
            for b, w in SQS_BATCHES
        ]
    if d.kind == "hybrid":
        return [
            replace(d, memory_mb=m, sweep_cursor=c, sweep_parallel=n) for m in memories for c, n in SWEEPS
        ]
    return [replace(d, memory_mb=m) for m in memories]


def choose(found: Sequence[Candidate]) -> Candidate:
    """The cheapest that can run and meets the latency target; else the fastest that can run
    (ranked by how close it comes); else the first (it cannot run: its reasons are shown)."""
    meeting = [c for c in found if c.feasible and c.meets_latency]
    if meeting:
        return min(meeting, key=lambda c: (c.bill, c.p95))
    feasible = [c for c in found if c.feasible]
    if feasible:
        return min(feasible, key=lambda c: (c.p95, c.bill))
    return min(found, key=lambda c: (len(c.why_not), c.bill))


def _sweep(d: Deployment) -> str:
    if d.sweep_cursor == "inventory":
        return "daily S3 Inventory report"
    if d.sweep_cursor == "start-after":
        return f"new keys (start-after) every {d.sweep_interval_s:g} s"
    split = f" over {d.sweep_parallel} prefixes in parallel" if d.sweep_parallel > 1 else ""
    return f"whole prefix every {d.sweep_interval_s:g} s{split}"


def configuration(d: Deployment, files_per_day: float, pricing: Pricing) -> dict[str, Any]:
    """The chosen knobs, as they apply to the kind (``configuration`` in the JSON)."""
    if d.kind == "poll-ec2":
        sizing = poller_sizing(d, files_per_month(files_per_day, pricing), pricing)
        return {
            "interval_s": d.interval_s,
            "instance_type": sizing.instance if sizing.feasible else None,  # none fits: said in why_not
            "instances": sizing.count if sizing.feasible else None,
            "network": d.network,
        }
    out: dict[str, Any] = {"memory_mb": d.memory_mb}
    if d.kind == "poll-scheduled-lambda":
        out["interval_s"] = d.interval_s
    if d.kind == "s3-sqs-lambda":
        out.update(batch_size=d.batch_size, batching_window_s=d.batching_window_s)
    if d.kind == "hybrid":
        out["sweep"] = _sweep(d)
    return out


def short(config: dict[str, Any]) -> str:
    """The table's configuration column."""
    parts = []
    if "interval_s" in config:
        parts.append(f"every {config['interval_s']:g}s")
    if config.get("instances"):
        parts.append(f"{config['instances']}x {config['instance_type']}")
    if "memory_mb" in config:
        parts.append(f"{config['memory_mb']} MB")
    if "batch_size" in config:
        parts.append(f"batch {config['batch_size']}/{config['batching_window_s']:g}s")
    if "sweep" in config:
        parts.append(
            "inventory" if "Inventory" in config["sweep"] else config["sweep"].split(",")[-1].strip()
        )
    return ", ".join(parts)
