"""Ranges instead of knife-edges: every break-even and every bill over the assumptions' intervals,
one at a time (what flips a finding: the tornado chart) and jointly (a seeded Monte Carlo)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bench.cost.assumptions import Assumptions, Value, load_assumptions
from bench.cost.fair import CHOICE_FIELDS
from bench.cost.feasibility import check
from bench.cost.model import Deployment, Pricing, break_even, load_pricing

# How each cost-side assumption lands on a deployment: the fields it sets (one table, no if-chains).
FIELDS: dict[str, Callable[[Value], dict[str, Any]]] = {
    "cpu_s": lambda v: {"cpu_s": float(v)},
    "wait_s": lambda v: {"wait_s": float(v)},
    "memory_mb": lambda v: {"memory_mb": round(float(v))},
    "arch": lambda v: {"arch": str(v)},
    "log_bytes_per_invocation": lambda v: {"log_bytes_per_invocation": round(float(v))},
    "retention_days": lambda v: {"retention_days": float(v)},
    "retention": lambda v: {"retention": str(v)},
    "sqs_idle_pollers": lambda v: {"sqs_pollers": round(float(v))},
    "sqs_turnaround_s": lambda v: {"sqs_turnaround_s": float(v)},
    "list_s_per_page": lambda v: {"list_ms_per_page": float(v) * 1000.0},
    "list_cpu_s_per_page": lambda v: {"list_cpu_s_per_page": float(v)},
    "lambda_cold_start_share": lambda v: {"cold_start_share": float(v)},
    "lambda_init_s": lambda v: {"init_s": float(v)},
    "notification_missed_share": lambda v: {"missed_share": float(v)},
    **CHOICE_FIELDS,  # the requirements a user left to the defaults (bench.cost.fair)
}


FLIP_FACTOR = 2.0
FLIPS_ON_RULE = (
    "an assumption or a requirement left to its default (a choice) flips a break-even when, at one "
    "end of its interval with every other assumption at "
    f"its point, the crossing appears or vanishes, or moves by more than a factor of {FLIP_FACTOR:g}"
)


def two_sig(x: float | None, never: str = "never") -> str:
    """A number at two significant figures with thousands separators (None: ``never``)."""
    if x is None:
        return never
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    digits = 1 - math.floor(math.log10(abs(x)))
    return f"{round(x, digits):,.{max(0, digits)}f}"


def cost_assumptions(assumptions: Assumptions) -> list[str]:
    """The assumptions that move a bill (the rest, such as the delivery tail, move latency only)."""
    return [name for name in assumptions.items if name in FIELDS]


def apply(d: Deployment, values: Mapping[str, Value]) -> Deployment:
    """``d`` with every assumption in ``values`` set (one ``with_``: this runs thousands of times
    a decision)."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in FIELDS:
            changes.update(FIELDS[name](value))
    return d.with_(**changes) if changes else d


def points(assumptions: Assumptions) -> dict[str, Value]:
    return {name: assumptions[name].point for name in cost_assumptions(assumptions)}


def joint_samples(assumptions: Assumptions, n: int, seed: int) -> list[dict[str, Value]]:
    """``n`` draws of every cost assumption at once: uniform on each interval (log-uniform when it
    spans more than a factor of 3), uniform over a discrete set; seeded, so a rerun repeats."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Value]] = []
    names = cost_assumptions(assumptions)
    for _ in range(n):
        draw: dict[str, Value] = {}
        for name in names:
            a = assumptions[name]
            if a.discrete:
                draw[name] = a.values[int(rng.integers(len(a.values)))]
                continue
            lo, hi = float(a.low), float(a.high)
            if lo > 0 and hi / lo > 3:
                draw[name] = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            else:
                draw[name] = float(rng.uniform(lo, hi))
        out.append(draw)
    return out


@dataclass(frozen=True)
class Interval:
    point: float | None
    low: float | None
    high: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"point": self.point, "low": self.low, "high": self.high}


def _flips(point: float | None, value: float | None) -> bool:
    if (point is None) != (value is None):
        return True
    if point is None or value is None:
        return False
    return max(point, value) / min(point, value) > FLIP_FACTOR


def _range(point: float | None, found: Sequence[float | None]) -> Interval:
    """Lowest and highest crossing found; ``high`` is None when some combination never crosses."""
    rates = [r for r in (point, *found) if r is not None]
    never = point is None or any(r is None for r in found)
    if not rates:
        return Interval(None, None, None)
    return Interval(point, min(rates), None if never else max(rates))


def break_even_range(
    option: Deployment,
    against: Deployment,
    *,
    assumptions: Assumptions | None = None,
    samples: int = 64,
    seed: int = 0,
    free_tier: bool = False,
    pricing: Pricing | None = None,
) -> dict[str, Any]:
    """Where ``option`` and ``against`` cost the same: point, low, high, and what flips it."""
    p = pricing or load_pricing()
    a = assumptions or load_assumptions()
    base = points(a)

    def rate(values: Mapping[str, Value]) -> float | None:
        return break_even(
            apply(against, values),
            apply(option, values),
            free_tier=free_tier,
            pricing=p,
            steps=60,
            iterations=24,
        )

    point = rate(base)
    one_at_a_time: dict[str, dict[str, float | None]] = {}
    for name in cost_assumptions(a):
        one_at_a_time[name] = {str(v): rate({**base, name: v}) for v in a[name].ends()}
    flips = [name for name, ends in one_at_a_time.items() if any(_flips(point, r) for r in ends.values())]
    joint = [rate(values) for values in joint_samples(a, samples, seed)]
    found = [r for ends in one_at_a_time.values() for r in ends.values()] + joint
    interval = _range(point, found)
    why_not: list[str] = []
    if point is not None:
        for d in (option, against):
            verdict = check(apply(d, base), point, pricing=p, assumptions=a)
            why_not += [f"{d.label}: {reason}" for reason in verdict.why_not]
    return {
        "option": option.label,
        "against": against.label,
        "files_per_day": interval.as_dict(),
        "flips_on": flips,
        "one_at_a_time": one_at_a_time,
        "joint": {
            "samples": samples,
            "seed": seed,
            "never_share": sum(r is None for r in joint) / samples if samples else None,
            "p10": _quantile(joint, 0.1),
            "p90": _quantile(joint, 0.9),
        },
        "straddles": interval.high is None and interval.low is not None,
        "feasible": not why_not,
        "why_not": why_not,
    }


def _quantile(rates: Sequence[float | None], q: float) -> float | None:
    """A quantile of the joint break-evens, "never" counted as +infinity (None if it falls there)."""
    if not rates:
        return None
    values = np.sort(np.array([math.inf if r is None else r for r in rates], dtype=float))
    x = float(values[min(len(values) - 1, int(q * len(values)))])
    return None if math.isinf(x) else x
