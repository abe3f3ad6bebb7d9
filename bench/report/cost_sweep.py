"""A cost sweep's folder: ``cost_sweep.csv``, ``break_even.json`` and the monthly-cost chart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.cost.model import Deployment, Pricing
from bench.cost.sweep import break_evens, cost_table, default_rates
from bench.report.charts import cost_sweep_chart


def write_sweep(
    folder: Path,
    deployments: Sequence[Deployment],
    baseline: Deployment,
    *,
    free_tier: bool,
    pricing: Pricing,
    command: str,
    fmt: str = "png",
) -> dict[str, Any]:
    """Write ``cost_sweep.csv``, ``break_even.json`` and the chart; return the break-even document."""
    folder.mkdir(parents=True, exist_ok=True)
    table = cost_table(deployments, default_rates(), free_tier=free_tier, pricing=pricing)
    table.to_csv(folder / "cost_sweep.csv", index=False, float_format="%.6g")
    others = [d for d in deployments if d is not baseline]
    document = {
        "command": command,
        "pricing": pricing.label,
        "free_tier": free_tier,
        "baseline": baseline.label,
        "deployments": [asdict(d) for d in deployments],
        "break_even": break_evens(baseline, others, free_tier=free_tier, pricing=pricing),
    }
    (folder / "break_even.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    cost_sweep_chart(table, document, folder / f"monthly_cost.{fmt}")
    return document
