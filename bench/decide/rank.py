"""Rank every deployment option for a workload: monthly bill (point and range over the
assumptions), latency under a delivery profile, whether it can run at all, and which assumptions
would change the answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bench.cost.assumptions import Assumptions, Value
from bench.cost.feasibility import check
from bench.cost.model import Deployment, Pricing, files_per_month, monthly_cost, standard_deployments
from bench.cost.sensitivity import apply, cost_assumptions, joint_samples, points, two_sig
from bench.decide.latency import Quantiles, quantiles, sample_latency, tail_for, with_tail_high
from event_handlers.runtime.latency import LatencyProfile

# The options, in the order standard_deployments() builds them, with the names decide prints.
OPTION_NAMES = (
    "EC2 poller, seen-set (keeps files)",
    "EC2 inbox poller (deletes when done)",
    "scheduled-Lambda poller",
    "S3 -> Lambda",
    "S3 -> SQS -> Lambda",
    "S3 -> EventBridge -> Lambda",
    "hybrid (S3 -> Lambda + hourly sweep)",
)


LATENCY_METHOD = (
    "sampled from the profile per option (legs added draw by draw), seeded; pollers add a uniform phase "
    "in the interval, the listing (pages x per-page time) and their share of the cycle's work"
)
RANKING_RULE = (
    "options that can run and meet the targets first, by monthly point bill; then those that miss a "
    "target; then those that cannot run"
)


@dataclass(frozen=True)
class Workload:
    files_per_day: float
    cpu_s: float = 0.05
    wait_s: float = 0.05
    file_size_mb: float = 0.1
    retention_days: float = 30.0
    retention: str = "lifecycle"
    memory_mb: int = 128
    arch: str = "x86_64"
    interval_s: float = 60.0
    latency_p95_s: float | None = None
    budget_usd: float | None = None
    peak_files_per_day: float | None = None  # a rate profile's busiest hour x 24
    ledger: bool = True  # the DynamoDB idempotency ledger of the Lambda routes
    ebs_root_gb: float = 8.0  # the EC2 poller's root volume

    @property
    def peak(self) -> float:
        """The rate feasibility and latency are judged at (the busiest hour of a profile)."""
        return max(self.files_per_day, self.peak_files_per_day or 0.0)

    def points(self, transfer_mb_per_s: float) -> dict[str, Value]:
        """The workload's own values for the assumptions it fixes (intervals stay around them)."""
        return {  # file size adds its transfer to the wait
            "cpu_s": self.cpu_s,
            "wait_s": self.wait_s + self.file_size_mb / transfer_mb_per_s,
            "memory_mb": float(self.memory_mb),
            "arch": self.arch,
            "retention_days": self.retention_days,
            "retention": self.retention,
        }


@dataclass(frozen=True)
class OptionResult:
    name: str
    kind: str
    files_per_day: float
    monthly_point: float
    monthly_low: float
    monthly_high: float
    latency: Quantiles
    p999_tail_high: float
    feasible: bool
    why_not: tuple[str, ...]
    meets_latency: bool
    meets_budget: bool
    components: Mapping[str, float] = field(default_factory=dict)
    rank: int = 0

    @property
    def eligible(self) -> bool:
        return self.feasible and self.meets_latency and self.meets_budget

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "files_per_day": self.files_per_day,
            "rank": self.rank,
            # what cannot run is never priced (nor timed) as if it could
            "monthly_usd": {
                "point": self.monthly_point if self.feasible else None,
                "low": self.monthly_low if self.feasible else None,
                "high": self.monthly_high if self.feasible else None,
            },
            "latency_s": self.latency.as_dict()
            if self.feasible
            else {"p50": None, "p95": None, "p999": None},
            "p999_with_tail_high_s": self.p999_tail_high if self.feasible else None,
            "feasible": self.feasible,
            "why_not": list(self.why_not),
            "meets_latency": self.meets_latency,
            "meets_budget": self.meets_budget,
            "components": dict(sorted(self.components.items())) if self.feasible else {},
        }


@dataclass(frozen=True)
class Decision:
    workload: Workload
    options: tuple[OptionResult, ...]  # ranked
    recommendation: str | None
    why: str
    overturned_by: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_per_day": self.workload.files_per_day,
            "name": self.recommendation,
            "why": self.why,
            "overturned_by": list(self.overturned_by),
        }


def deployments_for(w: Workload, transfer_mb_per_s: float) -> list[Deployment]:
    values = w.points(transfer_mb_per_s)
    base = standard_deployments(
        w.interval_s,
        w.memory_mb,
        arch=w.arch,
        cpu_s=float(values["cpu_s"]),
        wait_s=float(values["wait_s"]),
        retention_days=w.retention_days,
        retention=w.retention,  # type: ignore[arg-type]
    )
    return [
        replace(d, name=name, idempotency_ledger=w.ledger, ebs_root_gb=w.ebs_root_gb)
        for d, name in zip(base, OPTION_NAMES, strict=True)
    ]


def _bills(
    d: Deployment,
    files_per_day: float,
    draws: Sequence[Mapping[str, Value]],
    ends: Sequence[tuple[str, Value]],
    base: Mapping[str, Value],
    pricing: Pricing,
) -> tuple[float, dict[tuple[str, Value], float], np.ndarray, Mapping[str, float]]:
    n = files_per_month(files_per_day, pricing)
    point = monthly_cost(apply(d, base), n, pricing=pricing)
    at_ends = {(k, v): monthly_cost(apply(d, {**base, k: v}), n, pricing=pricing).total for k, v in ends}
    joint = np.array([monthly_cost(apply(d, values), n, pricing=pricing).total for values in draws])
    return point.total, at_ends, joint, point.components


def decide_one(
    w: Workload,
    profile: LatencyProfile,
    assumptions: Assumptions,
    pricing: Pricing,
    *,
    samples: int = 32,
    seed: int = 0,
    latency_draws: int = 20_000,
) -> Decision:
    """Every option at ``w``'s rate, ranked: eligible (can run, meets the targets) by bill first."""
    transfer = float(assumptions.defaults.get("transfer_mb_per_s", 50.0))
    own = w.points(transfer)
    listing = profile.extra.get("listing")
    if isinstance(listing, dict) and "per_page_s" in listing:  # the profile's LIST time, when it has one
        own["list_s_per_page"] = float(listing["per_page_s"])
    a = assumptions.with_points(own)
    base = points(a)
    draws = joint_samples(a, samples, seed)
    ends = [(name, v) for name in cost_assumptions(a) for v in a[name].ends()]
    tail = tail_for(profile, a)
    profile_high, tail_high = with_tail_high(profile, a)
    results = []
    bills = {}
    for d in deployments_for(w, transfer):
        d = apply(d, base)
        point, at_ends, joint, components = _bills(d, w.files_per_day, draws, ends, base, pricing)
        bills[d.label] = (point, at_ends, joint)
        verdict = check(d, w.peak, pricing=pricing, assumptions=a)
        latency = quantiles(sample_latency(d, w.peak, profile, tail, n=latency_draws, seed=seed))
        high = quantiles(sample_latency(d, w.peak, profile_high, tail_high, n=latency_draws, seed=seed))
        results.append(
            OptionResult(
                d.label,
                d.kind,
                w.files_per_day,
                point,
                float(min(point, *at_ends.values(), *joint)),
                float(max(point, *at_ends.values(), *joint)),
                latency,
                high.p999,
                verdict.feasible,
                verdict.why_not,
                w.latency_p95_s is None or latency.p95 <= w.latency_p95_s,
                w.budget_usd is None or point <= w.budget_usd,
                components,
            )
        )
    ranked = sorted(
        results, key=lambda r: (0 if r.eligible else 1 if r.feasible else 2, r.monthly_point, r.latency.p95)
    )
    ranked = [replace(r, rank=i + 1) for i, r in enumerate(ranked)]
    best = ranked[0] if ranked and ranked[0].eligible else None
    return Decision(
        w,
        tuple(ranked),
        best.name if best else None,
        _why(w, ranked, best),
        _overturn(w, ranked, best, bills, draws),
    )


def _why(w: Workload, ranked: Sequence[OptionResult], best: OptionResult | None) -> str:
    if best is None:
        feasible = [r for r in ranked if r.feasible]
        if not feasible:
            return "no option can run at this rate"
        missing = []
        if w.latency_p95_s is not None and not any(r.meets_latency for r in feasible):
            fastest = min(feasible, key=lambda r: r.latency.p95)
            missing.append(
                f"no option meets p95 <= {w.latency_p95_s:g} s "
                f"(fastest: {fastest.name}, {fastest.latency.p95:.3g} s)"
            )
        if w.budget_usd is not None and not any(r.meets_budget and r.meets_latency for r in feasible):
            cheapest = min(feasible, key=lambda r: r.monthly_point)
            missing.append(
                f"none fits ${w.budget_usd:g} a month "
                f"(cheapest: {cheapest.name}, ${cheapest.monthly_point:,.2f})"
            )
        return "; ".join(missing) or "no option meets the targets"
    targets = []
    if w.latency_p95_s is not None:
        targets.append(f"p95 <= {w.latency_p95_s:g} s")
    if w.budget_usd is not None:
        targets.append(f"<= ${w.budget_usd:g}/month")
    scope = f"meeting {' and '.join(targets)}" if targets else "that can run"
    span = f"${two_sig(best.monthly_low)}-${two_sig(best.monthly_high)}"
    return f"cheapest option {scope}: ${two_sig(best.monthly_point)} a month (range {span})"


def _overturn(
    w: Workload,
    ranked: Sequence[OptionResult],
    best: OptionResult | None,
    bills: Mapping[str, tuple[float, dict[tuple[str, Value], float], np.ndarray]],
    draws: Sequence[Mapping[str, Value]],
) -> tuple[str, ...]:
    """What would put another option first: an assumption at one end of its interval, the joint
    draws in which another option is cheaper, or a looser latency target."""
    if best is None:
        return ()
    out: list[str] = []
    rivals = [r for r in ranked if r.eligible and r is not best]
    _, best_ends, best_joint = bills[best.name]
    for (name, value), total in best_ends.items():
        cheaper = [r.name for r in rivals if bills[r.name][1][(name, value)] < total]
        if cheaper:
            out.append(f"{name}={value}: {cheaper[0]} becomes cheaper")
    if rivals and len(draws):
        beaten = np.zeros(len(draws), dtype=bool)
        for r in rivals:
            beaten |= bills[r.name][2] < best_joint
        if beaten.any():
            out.append(f"jointly: another option is cheaper in {beaten.mean():.0%} of {len(draws)} draws")
    cheaper_but_slow = [
        r for r in ranked if r.feasible and not r.meets_latency and r.monthly_point < best.monthly_point
    ]
    if cheaper_but_slow and w.latency_p95_s is not None:
        r = min(cheaper_but_slow, key=lambda r: r.monthly_point)
        out.append(
            f"a p95 target of {two_sig(r.latency.p95)} s would admit {r.name} (${two_sig(r.monthly_point)})"
        )
    faster = [r for r in rivals if r.latency.p95 < best.latency.p95 / 2]
    if faster:
        r = min(faster, key=lambda r: r.monthly_point)
        out.append(
            f"a p95 target under {two_sig(best.latency.p95)} s would pick {r.name} "
            f"(${two_sig(r.monthly_point)}, p95 {two_sig(r.latency.p95)} s)"
        )
    return tuple(out)


def decide(
    workloads: Sequence[Workload],
    profile: LatencyProfile,
    assumptions: Assumptions,
    pricing: Pricing,
    *,
    samples: int = 32,
    seed: int = 0,
) -> list[Decision]:
    return [decide_one(w, profile, assumptions, pricing, samples=samples, seed=seed) for w in workloads]


def document(
    decisions: Sequence[Decision],
    assumptions: Assumptions,
    pricing: Pricing,
    profile: LatencyProfile,
    command: str,
) -> dict[str, Any]:
    """The ``--json`` document: every option at every rate, a recommendation per rate, and what it
    all rests on."""
    return {
        "command": command,
        "options": [o.as_dict() for d in decisions for o in d.options],
        "recommendation": [d.as_dict() for d in decisions],
        "assumptions": {
            "file": assumptions.path,
            "pricing": pricing.label,
            "latency_profile": profile.name,
            "workloads": [vars(d.workload) for d in decisions],
            "intervals": {name: item.as_dict() for name, item in assumptions.items.items()},
            "limits": {
                name: {"value": v.value, "source": v.source} for name, v in assumptions.limits.items()
            },
            "defaults": dict(assumptions.defaults),
            "latency": LATENCY_METHOD,
            "ranking": RANKING_RULE,
        },
    }


def finite(x: float) -> bool:
    return math.isfinite(x)
