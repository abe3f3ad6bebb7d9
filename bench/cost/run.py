"""One run's exact counts priced at AWS rates (live runs and simulations alike)."""

from __future__ import annotations

from typing import Any

from bench.cost.model import Pricing, price_run


def run_cost(entry: dict[str, Any], pricing: Pricing, instance_hours: float | None = None) -> dict[str, Any]:
    """The run priced at AWS rates, and the same scaled to a million files at the run's own rate."""
    if entry.get("backend") == "folder":
        return {
            "pricing": pricing.label,
            "run_usd": {"total": 0.0},
            "per_million_files": None,
            "note": "a local folder: no AWS bill (the machine's own cost is not modelled)",
        }
    breakdown = price_run(entry, pricing=pricing, instance_hours=instance_hours)
    processed = entry["processed"] + entry["failed"]
    return {
        "pricing": pricing.label,
        "run_usd": breakdown.as_dict(),
        "per_million_files": breakdown.total / processed * 1e6 if processed else None,
        "note": "the run's exact counts at AWS prices, no free tier; per_million_files holds at this run's "
        "arrival rate only (a poller's instance time does not scale with files)",
    }
