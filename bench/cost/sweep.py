"""Monthly cost against arrival rate for each deployment, and where the curves cross."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bench.cost.model import (
    Deployment,
    Pricing,
    break_even,
    files_per_month,
    load_pricing,
    monthly_cost,
    s3_request_cost,
)


def cost_table(
    deployments: Sequence[Deployment],
    files_per_day: Iterable[float],
    *,
    free_tier: bool = False,
    pricing: Pricing | None = None,
) -> pd.DataFrame:
    """One row per (deployment, rate): the monthly total, the part spent finding files
    (``discovery_usd``: the total minus the GET and output PUTs every strategy pays), and every
    component."""
    p = pricing or load_pricing()
    rows = []
    for d in deployments:
        for rate in files_per_day:
            n = files_per_month(rate, p)
            cost = monthly_cost(d, n, free_tier=free_tier, pricing=p)
            shared = s3_request_cost({"GetObject": n, "PutObject": n * d.outputs_per_file}, pricing=p).total
            rows.append(
                {
                    "deployment": d.label,
                    "kind": d.kind,
                    "files_per_day": float(rate),
                    "monthly_usd": cost.total,
                    "discovery_usd": max(0.0, cost.total - shared),
                    **{f"usd.{k}": v for k, v in sorted(cost.components.items())},
                }
            )
    return pd.DataFrame(rows).fillna(0.0)


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


def default_rates() -> np.ndarray:
    return np.logspace(0, 8, 161)  # 1 to 100 million files a day


def deployment_for(name: str, strategy: dict[str, Any]) -> Deployment | None:
    """The AWS deployment a run's strategy stands for, with its measured per-file compute time.

    Local folder strategies (inotify, folder polls) have no AWS bill and give None.
    """
    kind, params = strategy["kind"], strategy.get("parameters", {})
    if strategy.get("backend") == "folder" or kind == "inotify":
        return None
    counters = strategy.get("counters", {})
    function = params.get("function", {}) if isinstance(params.get("function"), dict) else {}
    memory = int(function.get("memory_mb", 128))
    arch = str(function.get("architecture", "x86_64"))
    processing = strategy.get("processing_s", {}).get("p50") or 0.1
    files = max(1, int(strategy.get("files", 1)))
    per_file_ms = (
        max(1.0, float(counters.get("billed_ms", 0)) / files)
        if counters.get("billed_ms")
        else processing * 1000
    )
    common: dict[str, Any] = {"name": name, "memory_mb": memory, "arch": arch, "duration_ms": per_file_ms}
    if kind == "poll":
        return Deployment(
            "poll-ec2",
            interval_s=float(params["interval_s"]),
            cursor=str(params.get("cursor", "seen-set")),
            sweep_every=int(params.get("sweep_every", 60)),
            **common,
        )
    if kind == "scheduled-poll":
        return Deployment(
            "poll-scheduled-lambda",
            interval_s=max(60.0, float(params["interval_s"])),
            cursor=str(params.get("cursor", "watermark")),
            **common,
        )
    if kind == "s3-sqs-lambda":
        return Deployment(
            "s3-sqs-lambda",
            batch_size=int(params.get("batch_size", 10)),
            batching_window_s=float(params.get("batching_window_s", 0.0)),
            sqs_pollers=max(5, int(params.get("pollers") or 5)),  # AWS starts five and scales up
            sqs_wait_s=int(params.get("wait_time_s", 20)),
            **common,
        )
    if kind == "hybrid":
        lost = float(counters.get("notifications_lost", 0)) / files
        return Deployment(
            "hybrid",
            sweep_interval_s=float(params.get("sweep_interval_s", 3600.0)),
            sweep_cursor=str(params.get("cursor", "watermark")),
            missed_share=lost,
            **common,
        )
    if kind in ("s3-lambda", "s3-eventbridge-lambda"):
        return Deployment(kind, **common)
    return None
