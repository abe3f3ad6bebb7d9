"""A cost sweep's folder: ``cost_sweep.csv``, ``break_even.json`` (each break-even as a range, with
what flips it), ``sweep.json`` (how it was made), ``monthly_cost`` and ``sensitivity`` charts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.atomic import write_atomically, write_text_atomically
from bench.cost.assumptions import Assumptions, load_assumptions
from bench.cost.model import Deployment, Pricing
from bench.cost.sensitivity import FLIPS_ON_RULE, break_even_range
from bench.cost.sweep import break_evens, cost_table, default_rates
from bench.report.charts import cost_sweep_chart, tornado_chart
from bench.requirements import Requirements


@dataclass(frozen=True)
class Ranges:
    """How the break-evens' ranges are found: over which assumptions, with how many joint draws."""

    assumptions: Assumptions | None = None
    samples: int = 64
    seed: int = 0
    requirements: Requirements | None = None  # what every option was built to (sweep.json says so)


def write_sweep(
    folder: Path,
    deployments: Sequence[Deployment],
    baseline: Deployment,
    *,
    free_tier: bool,
    pricing: Pricing,
    command: str,
    fmt: str = "png",
    ranges_over: Ranges | None = None,
) -> dict[str, Any]:
    """Write the sweep's files; return the document (``break_even``: the point estimates with both
    bills, ``ranges``: what ``break_even.json`` holds)."""
    how = ranges_over or Ranges()
    samples, seed = how.samples, how.seed
    a = how.assumptions or load_assumptions()
    folder.mkdir(parents=True, exist_ok=True)
    table = cost_table(deployments, default_rates(), free_tier=free_tier, pricing=pricing, assumptions=a)
    write_atomically(
        folder / "cost_sweep.csv", lambda temp: table.to_csv(temp, index=False, float_format="%.6g")
    )
    others = [d for d in deployments if d is not baseline]
    ranges = [
        break_even_range(
            other, baseline, assumptions=a, samples=samples, seed=seed, free_tier=free_tier, pricing=pricing
        )
        for other in others
    ]
    write_text_atomically((folder / "break_even.json"), json.dumps(ranges, indent=2) + "\n")
    document = {
        "command": command,
        "pricing": pricing.label,
        "assumptions_file": a.path,
        "requirements": (how.requirements or Requirements()).as_dict(),
        "free_tier": free_tier,
        "baseline": baseline.label,
        "flips_on_rule": FLIPS_ON_RULE,
        "assumptions": {name: item.as_dict() for name, item in a.items.items()},
        "deployments": [d.knobs() for d in deployments],
        "break_even": break_evens(baseline, others, free_tier=free_tier, pricing=pricing),
        "ranges": ranges,
    }
    write_text_atomically((folder / "sweep.json"), json.dumps(document, indent=2) + "\n")
    cost_sweep_chart(table, document, folder / f"monthly_cost.{fmt}")
    tornado_chart(ranges, folder / f"sensitivity.{fmt}")
    return document
