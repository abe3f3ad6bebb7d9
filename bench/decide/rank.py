"""Rank every deployment option for a workload: monthly bill (point and range over the
assumptions), latency under a delivery profile, whether it can run at all, and which assumptions
would change the answer."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bench.cost import deployments as deployment_rows
from bench.cost.assumptions import Assumptions, Value
from bench.cost.fair import required_deployments, requirement_assumptions
from bench.cost.feasibility import Feasibility, check
from bench.cost.model import Deployment, Pricing, files_per_month, monthly_cost
from bench.cost.sensitivity import apply, cost_assumptions, joint_samples, points, two_sig
from bench.decide.latency import Quantiles, Tail, quantiles, sample_latencies, sample_latency, with_tail
from bench.decide.search import Candidate, Pins, candidates, choose, configuration
from bench.requirements import Requirements
from event_handlers.runtime.latency import LatencyProfile

# The options, in the order standard_deployments() builds them, with the names decide prints
# (each kind's row's options in bench.cost.deployments).
OPTION_NAMES = deployment_rows.OPTION_NAMES

# What the two EC2 pollers do with a processed file under the requirements in force (the names
# above are the JSON's keys, a contract; the tables print these labels).
_POLLER_LABELS = {
    ("EC2 poller, seen-set (keeps files)", "keep"): "EC2 poller, seen-set (keeps files)",
    ("EC2 poller, seen-set (keeps files)", "delete"): "EC2 poller, seen-set (deletes when done)",
    ("EC2 inbox poller (deletes when done)", "keep"): "EC2 inbox poller (archives when done)",
    ("EC2 inbox poller (deletes when done)", "delete"): "EC2 inbox poller (deletes when done)",
}


def display_label(name: str, req: Requirements) -> str:
    """The option's name as a table prints it: what it does with its inputs under ``req``."""
    return _POLLER_LABELS.get((name, req.inputs), name)


LATENCY_METHOD = (
    "sampled from the profile per option (legs added draw by draw), seeded; pollers add a uniform phase "
    "in the interval, the listing (pages x per-page time) and their share of the cycle's work"
)
RANKING_RULE = (
    "each option in its cheapest configuration meeting the requirements; those that can run and meet "
    "the targets first, by monthly point bill; then those that miss a target (by how close their p95 "
    "comes when none meets the latency target); then those that cannot run"
)


@dataclass(frozen=True, init=False)
class Workload:
    """One arrival rate (or a day's count with its busiest hour) and the work per file; what every
    option must deliver is ``requirements``. ``interval_s`` and ``memory_mb`` pin a knob (None:
    the cheapest configuration meeting the requirements is searched; kept as ``pins``).
    ``ledger``, ``latency_p95_s``, ``budget_usd`` and ``retention_days`` are the old spellings of
    requirements: given, they override ``requirements``."""

    files_per_day: float
    cpu_s: float
    wait_s: float
    file_size_mb: float
    retention_days: float | None
    retention: str
    arch: str
    pins: Pins
    latency_p95_s: float | None
    budget_usd: float | None
    peak_files_per_day: float | None  # a rate profile's busiest hour x 24
    ledger: bool | None
    ebs_root_gb: float  # the EC2 poller's root volume
    requirements: Requirements
    free_tier: bool  # subtract the always-free monthly allowances

    def __init__(  # noqa: PLR0913 - the public constructor keeps every knob by its flat name
        self,
        files_per_day: float,
        cpu_s: float = 0.05,
        wait_s: float = 0.05,
        file_size_mb: float = 0.1,
        retention_days: float | None = None,
        retention: str = "lifecycle",
        memory_mb: int | None = None,
        arch: str = "x86_64",
        interval_s: float | None = None,
        latency_p95_s: float | None = None,
        budget_usd: float | None = None,
        peak_files_per_day: float | None = None,
        ledger: bool | None = None,
        ebs_root_gb: float = 8.0,
        requirements: Requirements | None = None,
        free_tier: bool = False,
    ) -> None:
        given = dict(locals())
        del given["self"], given["memory_mb"], given["interval_s"]
        given["pins"] = Pins(interval_s, memory_mb)
        given["requirements"] = requirements if requirements is not None else Requirements()
        for name, value in given.items():
            object.__setattr__(self, name, value)

    @property
    def interval_s(self) -> float | None:
        return self.pins.interval_s

    @property
    def memory_mb(self) -> int | None:
        return self.pins.memory_mb

    def fields(self) -> dict[str, Any]:
        """The constructor's arguments, in its order (the JSON's ``workloads``)."""
        return {
            "files_per_day": self.files_per_day,
            "cpu_s": self.cpu_s,
            "wait_s": self.wait_s,
            "file_size_mb": self.file_size_mb,
            "retention_days": self.retention_days,
            "retention": self.retention,
            "memory_mb": self.memory_mb,
            "arch": self.arch,
            "interval_s": self.interval_s,
            "latency_p95_s": self.latency_p95_s,
            "budget_usd": self.budget_usd,
            "peak_files_per_day": self.peak_files_per_day,
            "ledger": self.ledger,
            "ebs_root_gb": self.ebs_root_gb,
            "requirements": self.requirements,
            "free_tier": self.free_tier,
        }

    @property
    def peak(self) -> float:
        """The rate feasibility and latency are judged at (the busiest hour of a profile)."""
        return max(self.files_per_day, self.peak_files_per_day or 0.0)

    @property
    def req(self) -> Requirements:
        """``requirements`` with the old spellings applied (each pins what it sets)."""
        r = self.requirements
        given: dict[str, Any] = {}
        if self.ledger is not None:
            given["exactly_once"] = self.ledger
        if self.latency_p95_s is not None:
            given["latency_p95_s"] = self.latency_p95_s
        if self.budget_usd is not None:
            given["budget_usd"] = self.budget_usd
        if self.retention_days is not None and r.keeps_inputs:
            given["keep_days"] = self.retention_days
        if not given:
            return r
        return replace(r, **given, pinned=r.pinned | frozenset(given))

    def points(self, transfer_mb_per_s: float) -> dict[str, Value]:
        """The workload's own values for the assumptions it fixes (intervals stay around them)."""
        req = self.req
        out: dict[str, Value] = {  # file size adds its transfer to the wait
            "cpu_s": self.cpu_s,
            "wait_s": self.wait_s + self.file_size_mb / transfer_mb_per_s,
            "arch": self.arch,
            "retention_days": req.keep_days,
            "retention": self.retention,
        }
        if self.memory_mb is not None:
            out["memory_mb"] = float(self.memory_mb)
        return out


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
    verdict: Feasibility
    meets_latency: bool
    meets_budget: bool
    components: Mapping[str, float] = field(default_factory=dict)
    rank: int = 0
    configuration: Mapping[str, Any] = field(default_factory=dict)
    moves_on: tuple[str, ...] = ()  # the choices and parameters whose ends move this bill by > 10%

    @property
    def feasible(self) -> bool:
        return self.verdict.feasible

    @property
    def why_not(self) -> tuple[str, ...]:
        return self.verdict.why_not

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
            "configuration": dict(self.configuration),
            "range_moves_on": list(self.moves_on),
        }


@dataclass(frozen=True)
class Decision:
    workload: Workload
    options: tuple[OptionResult, ...]  # ranked
    recommendation: str | None
    why: str
    overturned_by: tuple[str, ...]

    @property
    def flips_on(self) -> list[str]:
        """The parameters and the choices left to their defaults that, at one end, put another
        option first (named alike: ``cpu_s``, ``inputs``, ``availability``, ...)."""
        names = (line.split("=", 1)[0] for line in self.overturned_by if "=" in line.split(":", 1)[0])
        return list(dict.fromkeys(names))

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_per_day": self.workload.files_per_day,
            "name": self.recommendation,
            "why": self.why,
            "overturned_by": list(self.overturned_by),
            "flips_on": self.flips_on,
        }


def deployments_for(w: Workload, transfer_mb_per_s: float, ledger_ttl_days: float = 1.0) -> list[Deployment]:
    """Every option at its default knobs, built to ``w``'s requirements (the search varies the knobs)."""
    values = w.points(transfer_mb_per_s)
    built = required_deployments(
        w.req,
        file_size_mb=w.file_size_mb,
        peak_factor=w.peak / w.files_per_day if w.files_per_day else 1.0,
        ledger_ttl_days=ledger_ttl_days,
        ebs_root_gb=w.ebs_root_gb,
        at_points=False,  # decide applies its own points (around the workload's values)
        interval_s=w.interval_s or 60.0,
        memory_mb=w.memory_mb or 128,
        arch=w.arch,
        cpu_s=float(values["cpu_s"]),
        wait_s=float(values["wait_s"]),
        retention=w.retention,
    )
    return [d.with_(name=name) for d, name in zip(built, OPTION_NAMES, strict=True)]


def decision_assumptions(w: Workload, assumptions: Assumptions) -> Assumptions:
    """The assumptions a decision sweeps: around the workload's own values, the requirements'
    unpinned choices added, a searched knob (memory) left to the search."""
    transfer = float(assumptions.defaults.get("transfer_mb_per_s", 50.0))
    a = requirement_assumptions(assumptions.with_points(w.points(transfer)), w.req)
    if w.memory_mb is None and "memory_mb" in a.items:
        a = Assumptions(
            {k: v for k, v in a.items.items() if k != "memory_mb"}, a.limits, a.defaults, a.as_of, a.path
        )
    return a


@dataclass(frozen=True)
class _Context:
    w: Workload
    a: Assumptions
    base: Mapping[str, Value]
    pricing: Pricing
    profile: LatencyProfile
    seed: int


POOL = 4  # the cheapest configurations meeting the requirements a range searches again at each end
SEARCH_DRAWS = 2_000  # latency draws per candidate while searching (the chosen one gets the full count)


def _search(d: Deployment, c: _Context) -> tuple[Candidate, list[Candidate]]:
    """Every candidate configuration of ``d`` priced, checked and timed; the chosen one."""
    w, req = c.w, c.w.req
    n = files_per_month(w.files_per_day, c.pricing)
    profile, tail = with_tail(c.profile, c.a, w.peak / 86400.0)
    options = candidates(d, w.pins)
    # every configuration's draws at once (the same seeded draws, row by row), one quantile pass
    delays = sample_latencies(options, w.peak, profile, tail, n=SEARCH_DRAWS, seed=c.seed, pricing=c.pricing)
    p95s = np.quantile(delays, 0.95, axis=1)
    found = []
    for option, p95 in zip(options, p95s.tolist(), strict=True):
        bill = monthly_cost(option, n, free_tier=c.w.free_tier, pricing=c.pricing).total
        verdict = check(option, w.peak, pricing=c.pricing, assumptions=c.a)
        meets = req.latency_p95_s is None or p95 <= req.latency_p95_s
        found.append(Candidate(option, bill, p95, verdict.feasible, verdict.why_not, meets))
    return choose(found), found


def _ranges(
    chosen: Candidate,
    found: Sequence[Candidate],
    c: _Context,
    draws: Sequence[Mapping[str, Value]],
    ends: Sequence[tuple[str, Value]],
) -> tuple[dict[tuple[str, Value], float], np.ndarray]:
    """The bill at each end of each assumption and choice, the configuration searched again
    among those that meet the requirements at the point; and at the joint draws, as chosen."""
    n = files_per_month(c.w.files_per_day, c.pricing)
    meeting = sorted((f for f in found if f.feasible and f.meets_latency), key=lambda f: f.bill)
    pool = [f.d for f in meeting[:POOL]] or [chosen.d]

    def bill(d: Deployment, values: Mapping[str, Value]) -> float:
        return monthly_cost(apply(d, values), n, free_tier=c.w.free_tier, pricing=c.pricing).total

    at_ends = {(k, v): min(bill(d, {**c.base, k: v}) for d in pool) for k, v in ends}
    joint = np.array([bill(chosen.d, values) for values in draws])
    return at_ends, joint


def _confirm(
    chosen: Candidate,
    found: Sequence[Candidate],
    c: _Context,
    profile: LatencyProfile,
    tail: Tail,
    draws: int,
) -> tuple[Candidate, Quantiles]:
    """The chosen configuration's latency from the full sample; when the search's smaller sample
    said it meets the target and the full one says not, the next cheapest that does."""
    target = c.w.req.latency_p95_s

    def timed(x: Candidate) -> Quantiles:
        return quantiles(
            sample_latency(x.d, c.w.peak, profile, tail, n=draws, seed=c.seed, pricing=c.pricing)
        )

    latency = timed(chosen)
    if target is None or not chosen.meets_latency or latency.p95 <= target:
        return chosen, latency
    for other in sorted((f for f in found if f.feasible and f.meets_latency), key=lambda f: f.bill):
        if other is chosen:
            continue
        q = timed(other)
        if q.p95 <= target:
            return other, q
    return chosen, latency


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
    """Every option at ``w``'s rate in its cheapest configuration meeting ``w``'s requirements,
    ranked: eligible (can run, meets the targets) by bill first."""
    a = decision_assumptions(w, assumptions)
    base = points(a)
    ctx = _Context(w, a, base, pricing, profile, seed)
    draws = joint_samples(a, samples, seed)
    ends = [(name, v) for name in cost_assumptions(a) for v in a[name].ends()]
    rate = w.peak / 86400.0
    point_profile, tail = with_tail(profile, a, rate)
    high_profile, tail_high = with_tail(profile, a, rate, "high")
    req = w.req
    n = files_per_month(w.files_per_day, pricing)
    results = []
    bills = {}
    ttl = float(a.defaults.get("ledger_ttl_days", 1.0))
    for start in deployments_for(w, float(a.defaults.get("transfer_mb_per_s", 50.0)), ttl):
        chosen, found = _search(apply(start, base), ctx)
        chosen, latency = _confirm(chosen, found, ctx, point_profile, tail, latency_draws)
        d = chosen.d
        at_ends, joint = _ranges(chosen, found, ctx, draws, ends)
        point = monthly_cost(d, n, free_tier=w.free_tier, pricing=pricing)
        bills[d.label] = (point.total, at_ends, joint)
        high = quantiles(
            sample_latency(d, w.peak, high_profile, tail_high, n=latency_draws, seed=seed, pricing=pricing)
        )
        moves = tuple(
            dict.fromkeys(
                k for (k, _), total in at_ends.items() if abs(total - point.total) > 0.1 * point.total
            )
        )
        results.append(
            OptionResult(
                d.label,
                str(d.kind),
                w.files_per_day,
                point.total,
                float(min(point.total, *at_ends.values(), *joint)),
                float(max(point.total, *at_ends.values(), *joint)),
                latency,
                high.p999,
                Feasibility(chosen.feasible, chosen.why_not),
                req.latency_p95_s is None or latency.p95 <= req.latency_p95_s,
                req.budget_usd is None or point.total <= req.budget_usd,
                point.components,
                configuration=configuration(d, w.files_per_day, pricing),
                moves_on=moves,
            )
        )
    ranked = [replace(r, rank=i + 1) for i, r in enumerate(rank_options(results))]
    best = ranked[0] if ranked and ranked[0].eligible else None
    return Decision(
        w,
        tuple(ranked),
        best.name if best else None,
        _why(w, ranked, best),
        _overturn(w, ranked, best, bills, draws),
    )


def rank_options(results: Sequence[OptionResult]) -> list[OptionResult]:
    """Eligible (can run, meets the targets) by bill; then those that can run but miss a target, by
    bill, or by how close their p95 comes when no option meets the latency target; then those that
    cannot run."""
    none_fast = not any(r.feasible and r.meets_latency for r in results)

    def key(r: OptionResult) -> tuple[int, float, float]:
        group = 0 if r.eligible else 1 if r.feasible else 2
        if group == 1 and none_fast:
            return (group, r.latency.p95, r.monthly_point)
        return (group, r.monthly_point, r.latency.p95)

    return sorted(results, key=key)


def _why(w: Workload, ranked: Sequence[OptionResult], best: OptionResult | None) -> str:
    if best is None:
        feasible = [r for r in ranked if r.feasible]
        if not feasible:
            return "no option can run at this rate"
        missing = []
        if w.req.latency_p95_s is not None and not any(r.meets_latency for r in feasible):
            fastest = min(feasible, key=lambda r: r.latency.p95)
            missing.append(
                f"no option meets p95 <= {w.req.latency_p95_s:g} s "
                f"(fastest: {fastest.name}, {fastest.latency.p95:.3g} s)"
            )
        if w.req.budget_usd is not None and not any(r.meets_budget and r.meets_latency for r in feasible):
            cheapest = min(feasible, key=lambda r: r.monthly_point)
            missing.append(
                f"none fits ${w.req.budget_usd:g} a month "
                f"(cheapest: {cheapest.name}, ${cheapest.monthly_point:,.2f})"
            )
        return "; ".join(missing) or "no option meets the targets"
    targets = []
    if w.req.latency_p95_s is not None:
        targets.append(f"p95 <= {w.req.latency_p95_s:g} s")
    if w.req.budget_usd is not None:
        targets.append(f"<= ${w.req.budget_usd:g}/month")
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
    if cheaper_but_slow and w.req.latency_p95_s is not None:
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
    all rests on (the intervals as the first rate's decision swept them)."""
    swept = decision_assumptions(decisions[0].workload, assumptions) if decisions else assumptions
    return {
        "command": command,
        "requirements": decisions[0].workload.req.as_dict() if decisions else {},
        "options": [
            {**o.as_dict(), "label": display_label(o.name, d.workload.req)}
            for d in decisions
            for o in d.options
        ],
        "recommendation": [d.as_dict() for d in decisions],
        "assumptions": {
            "file": assumptions.path,
            "pricing": pricing.label,
            "latency_profile": profile.name,
            "workloads": [_workload_dict(d.workload) for d in decisions],
            "intervals": {name: item.as_dict() for name, item in swept.items.items()},
            "limits": {
                name: {"value": v.value, "source": v.source} for name, v in assumptions.limits.items()
            },
            "defaults": dict(assumptions.defaults),
            "latency": LATENCY_METHOD,
            "ranking": RANKING_RULE,
        },
    }


def _workload_dict(w: Workload) -> dict[str, Any]:
    out = {k: v for k, v in w.fields().items() if k != "requirements"}
    out["requirements"] = w.req.as_dict()
    out["searched"] = [k for k in ("interval_s", "memory_mb") if getattr(w, k) is None]
    return out


def finite(x: float) -> bool:
    return math.isfinite(x)
