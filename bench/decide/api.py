"""``pve decide`` as one call, for notebooks: the same pricing, assumptions and latency profile the
command line loads by default, on the caller's own numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.cost.assumptions import load_assumptions
from bench.cost.model import load_pricing
from bench.decide.rank import Decision, Workload, decide
from event_handlers.runtime.latency import load_profile


def decide_for(
    files_per_day: Sequence[float],
    *,
    profile: str = "aws",
    samples: int = 32,
    seed: int = 0,
    assumptions: str | None = None,
    pricing: str | None = None,
    **workload: Any,
) -> list[Decision]:
    """One ranked :class:`Decision` per arrival rate; ``workload`` takes :class:`Workload`'s fields
    (``cpu_s``, ``memory_mb``, ``interval_s``, ``latency_p95_s``, ``retention_days``, ...).
    ``assumptions`` and ``pricing`` are TOML paths (default: the bundled ones, as ``pve decide``)."""
    workloads = [Workload(float(rate), **workload) for rate in files_per_day]
    return decide(
        workloads,
        load_profile(profile),
        load_assumptions(assumptions),
        load_pricing(pricing),
        samples=samples,
        seed=seed,
    )
