"""``pve decide`` as one call, for notebooks and other commands: the same pricing, assumptions and
latency profile the command line loads by default, on the caller's own numbers.

``decide_workload`` is the entry point for a workload described as a day's count and its hourly
shape (``pve decide --hourly``, a traffic file) with :class:`bench.Requirements`; ``decide_for``
takes one or more flat rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.model import Pricing, load_pricing
from bench.decide.rank import Decision, Workload, decide, decide_one
from bench.requirements import Requirements
from event_handlers.runtime.latency import LatencyProfile, load_profile


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
    (``cpu_s``, ``memory_mb``, ``interval_s``, ``requirements``, ``latency_p95_s``, ...).
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


def decide_workload(
    files_per_day: float,
    requirements: Requirements | None = None,
    *,
    hourly: Sequence[float] | None = None,
    profile: str | LatencyProfile = "aws",
    assumptions: Assumptions | None = None,
    pricing: Pricing | None = None,
    samples: int = 32,
    seed: int = 0,
    **work: Any,
) -> Decision:
    """Every option for a day of ``files_per_day`` files, built to ``requirements``, ranked.

    ``hourly`` is the day's shape: 24 numbers in any unit (files, or shares), scaled to
    ``files_per_day``; the busiest hour sizes the pollers and times the latency.
    ``work`` takes ``peak_files_per_day``, a busier rate to judge them at instead (a traffic file's
    busiest minute x 1440; the higher of the two when ``hourly`` is given too), and the
    rest of :class:`Workload`'s fields (``cpu_s``, ``wait_s``, ``file_size_mb``, ``interval_s``,
    ``memory_mb``, ``free_tier``, ...). Bad input raises ``ValueError`` naming the field."""
    peak = None
    if hourly is not None:
        shape = [float(x) for x in hourly]
        if len(shape) != 24 or any(not x >= 0 for x in shape) or not sum(shape) > 0:
            raise ValueError(f"hourly: needs 24 numbers >= 0, not all zero, got {len(shape)}")
        peak = max(shape) / sum(shape) * 24 * files_per_day
    if not files_per_day > 0:
        raise ValueError(f"files_per_day: must be a number > 0, got {files_per_day!r}")
    busiest = work.pop("peak_files_per_day", None)
    if busiest is not None:
        if not busiest > 0:
            raise ValueError(f"peak_files_per_day: must be a number > 0, got {busiest!r}")
        peak = max(peak or 0.0, float(busiest))
    latency = load_profile(profile) if isinstance(profile, str) else profile
    w = Workload(
        float(files_per_day), peak_files_per_day=peak, requirements=requirements or Requirements(), **work
    )
    return decide_one(
        w,
        latency,
        assumptions or load_assumptions(),
        pricing or load_pricing(None),
        samples=samples,
        seed=seed,
    )
