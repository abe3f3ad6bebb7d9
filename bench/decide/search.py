"""The cheapest configuration of each option that meets the requirements: a small grid over the
knobs a user would turn (poll interval, Lambda memory, SQS batch size and window, the hybrid's
sweep), instance type and count sized inside the bill (``bench.cost.model.poller_sizing``).

A knob the user pinned (``--interval``, ``--memory``) is not searched. The grids are short on
purpose (``pve decide`` prices every candidate of every option at every rate, with a latency
sample each): about 200 candidates a rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench.cost.deployments import SQS_BATCHES, SWEEPS, row
from bench.cost.model import Deployment, Pricing

INTERVALS_S = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600)
MEMORIES_MB = (128, 256, 512, 1024, 1769, 3008, 10240)
__all__ = [
    "INTERVALS_S",
    "MEMORIES_MB",
    "SQS_BATCHES",
    "SWEEPS",
    "Candidate",
    "Pins",
    "candidates",
    "choose",
    "configuration",
    "short",
]


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
    """Every configuration of ``d`` the search tries (its kind's search space)."""
    memories = (pins.memory_mb,) if pins.memory_mb else MEMORIES_MB
    intervals: Sequence[float] = (pins.interval_s,) if pins.interval_s else INTERVALS_S
    return row(d.kind).space(d, intervals, memories)


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


def configuration(d: Deployment, files_per_day: float, pricing: Pricing) -> dict[str, Any]:
    """The chosen knobs, as they apply to the kind (``configuration`` in the JSON)."""
    return row(d.kind).configuration(d, files_per_day, pricing)


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
