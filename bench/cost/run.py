"""Dollars from a run's counts: the one function every reader prices a strategy with.

A results file stores raw counts and the pricing table's identity; ``run_cost`` turns a
strategy's counts into dollars. The runners store its output at write time (``priced``), and the
table, the charts and ``pve decide`` call it again at read time with the same table, so they
cannot disagree; with another table (a price edit) they all move together.
"""

from __future__ import annotations

from dataclasses import replace

from bench.cost.assumptions import load_assumptions
from bench.cost.fair import requirement_assumptions, requirement_deployment
from bench.cost.feasibility import check
from bench.cost.model import Deployment, Pricing, files_per_month, load_pricing, monthly_cost, price_run
from bench.cost.sensitivity import apply, points
from bench.cost.sweep import deployment_for
from bench.cost.work import Work
from bench.requirements import CHOICES, Requirements
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
    work: Work | None = None,
    requirements: Requirements | None = None,
    file_size_mb: float | None = None,
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
    deployment = (
        projected_deployment(name, strategy, retention_days, work, requirements, file_size_mb)
        if files_per_day is not None
        else None
    )
    if deployment is not None and files_per_day is not None:
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


def projected_deployment(
    name: str,
    strategy: StrategyResult,
    retention_days: float | None = None,
    work: Work | None = None,
    requirements: Requirements | None = None,
    file_size_mb: float | None = None,
) -> Deployment | None:
    """The deployment a simulation's monthly projection prices: the strategy's own configuration,
    under the work model built to ``requirements`` like ``pve decide`` (None: no AWS bill)."""
    deployment = deployment_for(name, strategy)
    if deployment is None:
        return None
    if retention_days is not None:
        deployment = deployment.with_(retention_days=retention_days)
    if work is not None:  # a simulation under the work model: priced like pve decide
        deployment = deployment.with_(cpu_s=work.cpu_s, wait_s=work.wait_s)
        if file_size_mb is not None:  # the scenario's files (the model's 0.1 MB otherwise)
            deployment = deployment.with_(file_size_mb=file_size_mb)
        deployment = like_decide(deployment, requirements)
    return deployment


# The assumptions a simulation's projection takes at their points, as pve decide does (its work,
# memory and retention are the simulation's own).
DECIDE_POINTS = (
    "log_bytes_per_invocation",
    "sqs_idle_pollers",
    "sqs_turnaround_s",
    "list_s_per_page",
    "list_cpu_s_per_page",
    "lambda_cold_start_share",
    "lambda_init_s",
    "notification_missed_share",
)


def like_decide(d: Deployment, requirements: Requirements | None = None) -> Deployment:
    """``d`` built to ``requirements`` (the defaults: what ``pve decide`` assumes) with the
    assumptions' points, so a simulation's monthly projection and ``pve decide`` price alike."""
    req = requirements or Requirements()
    a = load_assumptions()
    keep = d.files.retention_days if req.keeps_inputs else 0.0
    built = requirement_deployment(
        d,
        replace(req, keep_days=keep),
        file_size_mb=d.files.file_size_mb,
        ledger_ttl_days=float(a.defaults.get("ledger_ttl_days", 1.0)),
    )
    values = points(requirement_assumptions(a, req))
    return apply(built, {k: v for k, v in values.items() if k in DECIDE_POINTS or k in CHOICES})


# A run's table prices each strategy's deployment at a stated rate (``$/mo@100k/d``), built to
# these requirements - the defaults pve decide states - like every option pve decide ranks.
TABLE_REQUIREMENTS = Requirements()


def monthly_at(
    name: str, strategy: StrategyResult, files_per_day: float, pricing: Pricing | None = None
) -> tuple[float | None, str]:
    """(USD a month, why it cannot run) for ``strategy`` deployed on AWS at ``files_per_day``,
    built to :data:`TABLE_REQUIREMENTS` through the path ``pve decide`` takes (its requirement
    lines, its assumptions' points, its feasibility check). (None, "") for no AWS bill."""
    p = pricing or load_pricing()
    deployment = deployment_for(name, strategy)
    if deployment is None:
        return None, ""
    built = like_decide(deployment, TABLE_REQUIREMENTS)
    a = requirement_assumptions(load_assumptions(), TABLE_REQUIREMENTS)
    verdict = check(built, files_per_day, pricing=p, assumptions=a)
    if not verdict.feasible:
        return None, verdict.reason
    return monthly_cost(built, files_per_month(files_per_day, p), pricing=p).total, ""


def run_costs(run: Run, pricing: Pricing | None = None) -> dict[str, CostBlock]:
    """Every strategy of ``run`` priced with ``pricing`` (by default the bundled table)."""
    p = pricing or load_pricing()
    rate = run.simulation.files_per_day if run.simulation is not None else None
    bucket = run.simulation.bucket if run.simulation is not None else None
    days = bucket.listed_days if bucket is not None else None
    processing = run.simulation.processing if run.simulation is not None else None
    work = required = size = None
    if isinstance(processing, dict) and processing.get("kind") == "work":
        work = Work(float(processing["cpu_s"]), float(processing["wait_s"]))
        required = Requirements.from_mapping(processing.get("requirements") or {})
        size = processing.get("file_size_mb")
    return {
        name: run_cost(
            s,
            p,
            files_per_day=rate,
            name=name,
            retention_days=days,
            work=work,
            requirements=required,
            file_size_mb=None if size is None else float(size),
        )
        for name, s in run.strategies.items()
    }


def priced(run: Run, pricing: Pricing | None = None) -> Run:
    """``run`` with the pricing table's identity and each strategy's dollars stored (at write time)."""
    p = pricing or load_pricing()
    costs = run_costs(run, p)
    strategies = {name: s.model_copy(update={"cost": costs[name]}) for name, s in run.strategies.items()}
    return run.model_copy(update={"pricing": p.label, "pricing_sha256": p.sha256, "strategies": strategies})
