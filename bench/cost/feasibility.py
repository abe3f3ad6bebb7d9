"""Whether a deployment can run at a rate at all: a configuration that cannot is marked with the
reason, never priced as if it could. The checks (``bench.cost.checks``) each kind faces are its
row's in ``bench.cost.deployments``; limits and their sources: ``pricing/assumptions.toml``."""

from __future__ import annotations

from dataclasses import dataclass

from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.checks import Case, s3_request_rates
from bench.cost.deployments import row
from bench.cost.model import Deployment, Pricing, load_pricing


@dataclass(frozen=True)
class Feasibility:
    feasible: bool
    why_not: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """One line for a table or a legend (empty when feasible)."""
        return "; ".join(self.why_not)


def check(
    d: Deployment,
    files_per_day: float,
    *,
    pricing: Pricing | None = None,
    assumptions: Assumptions | None = None,
) -> Feasibility:
    """Every limit ``d`` would break at ``files_per_day`` (steady state, even arrivals): S3's
    request rates on the prefix for every kind, then the kind's own checks."""
    kind = row(d.kind)
    p = pricing or load_pricing()
    case = Case(
        d,
        files_per_day / 86400.0,
        files_per_day * p.month_s / 86400.0,
        p.month_s,
        d.list_s_per_page(on_lambda=False),
        assumptions or load_assumptions(),
        p,
        kind.polls,
    )
    why = [reason for each in (s3_request_rates, *kind.checks) for reason in each(case)]
    return Feasibility(not why, tuple(why))


check_feasibility = check  # the name the public API (``bench.check_feasibility``) exports
