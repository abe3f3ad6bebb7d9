"""Dollars from a run's counts: the one function every reader prices a strategy with.

A results file stores raw counts and the pricing table's identity; ``run_cost`` turns a
strategy's counts into dollars. The runners store its output at write time (``priced``), and the
table, the charts and ``pve decide`` call it again at read time with the same table, so they
cannot disagree; with another table (a price edit) they all move together.
"""

from __future__ import annotations

from dataclasses import replace

from bench.cost.model import Pricing, files_per_month, load_pricing, monthly_cost, price_run
from bench.cost.sweep import deployment_for
from bench.results.model import CostBlock, Run, StrategyResult

RUN_NOTE = (
    "the run's exact counts at AWS prices, no free tier; per_million_files holds at this run's "
    "arrival rate only (a poller's instance time does not scale with files)"
)
FOLDER_NOTE = "a local folder: no AWS bill (the machine's own cost is not modelled)"


def run_cost(
    strategy: StrategyResult,
    pricing: Pricing | None = None,
    *,
    files_per_day: float | None = None,
    name: str = "",
    retention_days: float | None = None,
) -> CostBlock:
    """The strategy's run priced at AWS rates, the same per million files at the run's own rate,
    and, given ``files_per_day``, a month of the deployment it stands for (its processed files
    listed for ``retention_days``, a simulation's stated retention, else the model's default)."""
    p = pricing or load_pricing()
    if strategy.backend == "folder":
        return CostBlock(
            pricing=p.label,
            pricing_sha256=p.sha256,
            run_usd={"total": 0.0},
            per_million_files=None,
            note=FOLDER_NOTE,
        )
    breakdown = price_run(strategy, pricing=p)
    finished = strategy.finished
    monthly = None
    deployment = deployment_for(name, strategy) if files_per_day is not None else None
    if deployment is not None and files_per_day is not None:
        if retention_days is not None:
            deployment = replace(deployment, retention_days=retention_days)
        monthly = monthly_cost(deployment, files_per_month(files_per_day, p), pricing=p).as_dict()
    return CostBlock(
        pricing=p.label,
        pricing_sha256=p.sha256,
        run_usd=breakdown.as_dict(),
        per_million_files=breakdown.total / finished * 1e6 if finished else None,
        note=RUN_NOTE,
        monthly_usd=monthly,
        monthly_retention_days=None if monthly is None else retention_days,
    )


def run_costs(run: Run, pricing: Pricing | None = None) -> dict[str, CostBlock]:
    """Every strategy of ``run`` priced with ``pricing`` (by default the bundled table)."""
    p = pricing or load_pricing()
    rate = run.simulation.files_per_day if run.simulation is not None else None
    bucket = run.simulation.bucket if run.simulation is not None else None
    days = bucket.listed_days if bucket is not None else None
    return {
        name: run_cost(s, p, files_per_day=rate, name=name, retention_days=days)
        for name, s in run.strategies.items()
    }


def priced(run: Run, pricing: Pricing | None = None) -> Run:
    """``run`` with the pricing table's identity and each strategy's dollars stored (at write time)."""
    p = pricing or load_pricing()
    costs = run_costs(run, p)
    strategies = {name: s.model_copy(update={"cost": costs[name]}) for name, s in run.strategies.items()}
    return run.model_copy(update={"pricing": p.label, "pricing_sha256": p.sha256, "strategies": strategies})
