"""Monthly cost against arrival rate for each deployment, and where the curves cross."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.feasibility import check
from bench.cost.kinds import DEPLOYMENTS
from bench.cost.model import (
    Deployment,
    Pricing,
    break_even,
    files_per_month,
    load_pricing,
    monthly_cost,
    s3_request_cost,
)
from bench.cost.work import Work
from bench.results.model import StrategyResult
from bench.scenario.kinds import Kind


def cost_table(
    deployments: Sequence[Deployment],
    files_per_day: Iterable[float],
    *,
    free_tier: bool = False,
    pricing: Pricing | None = None,
    assumptions: Assumptions | None = None,
) -> pd.DataFrame:
    """One row per (deployment, rate): the monthly total, the part spent finding files
    (``discovery_usd``: the total minus the GET and output PUTs every strategy pays), whether the
    configuration can run at that rate (``feasible``, ``why_not``), and every component."""
    p = pricing or load_pricing()
    a = assumptions or load_assumptions()
    rows = []
    for d in deployments:
        for rate in files_per_day:
            n = files_per_month(rate, p)
            cost = monthly_cost(d, n, free_tier=free_tier, pricing=p)
            shared = s3_request_cost(
                {"GetObject": n, "PutObject": n * d.files.outputs_per_file}, pricing=p
            ).total
            feasibility = check(d, float(rate), pricing=p, assumptions=a)
            rows.append(
                {
                    "deployment": d.label,
                    "kind": d.kind,
                    "files_per_day": float(rate),
                    "monthly_usd": cost.total,
                    "discovery_usd": max(0.0, cost.total - shared),
                    "feasible": feasibility.feasible,
                    "why_not": feasibility.reason,
                    **{f"usd.{k}": v for k, v in sorted(cost.components.items())},
                }
            )
    frame = pd.DataFrame(rows)
    components = [c for c in frame.columns if c.startswith("usd.")]
    frame[components] = frame[components].fillna(0.0)
    return frame


def break_evens(
    baseline: Deployment,
    others: Sequence[Deployment],
    *,
    free_tier: bool = False,
    pricing: Pricing | None = None,
) -> list[dict[str, Any]]:
    """Where each of ``others`` costs the same as ``baseline``, with both bills at that rate."""
    p = pricing or load_pricing()
    out = []
    for other in others:
        rate = break_even(baseline, other, free_tier=free_tier, pricing=p)
        entry: dict[str, Any] = {"baseline": baseline.label, "other": other.label, "files_per_day": rate}
        if rate is not None:
            n = files_per_month(rate, p)
            entry["monthly_usd"] = monthly_cost(baseline, n, free_tier=free_tier, pricing=p).total
            entry["baseline_components"] = monthly_cost(
                baseline, n, free_tier=free_tier, pricing=p
            ).components
            entry["other_components"] = monthly_cost(other, n, free_tier=free_tier, pricing=p).components
        out.append(entry)
    return out


# Assumption: half of a run's measured per-file time is CPU (the work model's default split).
MEASURED_CPU_SHARE = 0.5


def default_rates() -> np.ndarray:
    return np.logspace(0, 8, 161)  # 1 to 100 million files a day


def deployment_for(name: str, strategy: StrategyResult) -> Deployment | None:
    """The AWS deployment a run's strategy stands for, with its measured per-file compute time.

    Local folder strategies (inotify, folder polls) have no AWS bill and give None, as does a
    kind this version does not know (a results file from a newer one).
    """
    try:
        recipe = DEPLOYMENTS[Kind(strategy.kind)]
    except ValueError:
        return None
    if strategy.backend == "folder" or recipe is None:
        return None
    function = strategy.parameters.get("function")
    function = function if isinstance(function, dict) else {}
    billed_ms = strategy.counter("billed_ms")
    processing = strategy.processing_s.p50 or 0.1
    per_file_ms = max(1.0, billed_ms / max(1, strategy.files)) if billed_ms else processing * 1000
    # a measured wall time on this machine's full core: split by the labelled CPU-share assumption
    work = Work.from_duration(per_file_ms / 1000.0, MEASURED_CPU_SHARE)
    common: dict[str, Any] = {
        "name": name,
        "memory_mb": int(function.get("memory_mb", 128)),
        "arch": str(function.get("architecture", "x86_64")),
        "cpu_s": work.cpu_s,
        "wait_s": work.wait_s,
    }
    return recipe(strategy, common)
