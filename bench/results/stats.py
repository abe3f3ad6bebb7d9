"""Summary statistics over records. Pure: arrays and frames in, plain numbers out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

QUANTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}  # p999: the delivery tail


def distribution_stats(values: Any) -> dict[str, float | None]:
    """p50, p95, p99, p99.9 (``p999``), mean and max of the finite values (None for each if none)."""
    array = np.asarray(values, dtype=float)
    array = array[np.isfinite(array)]
    if array.size == 0:
        return {**dict.fromkeys(QUANTILES), "mean": None, "max": None}
    stats: dict[str, float | None] = {name: float(np.percentile(array, q)) for name, q in QUANTILES.items()}
    stats["mean"] = float(array.mean())
    stats["max"] = float(array.max())
    return {k: (None if v is None else round(v, 6)) for k, v in stats.items()}


def outcome_counts(records: pd.DataFrame) -> dict[str, int]:
    outcomes = records["outcome"].value_counts()
    return {
        "files": len(records),
        "processed": int(outcomes.get("processed", 0)),
        "failed": int(outcomes.get("failed", 0)),
        "missed": int(outcomes.get("missed", 0)),
        "duplicates": int(records["duplicates"].sum()),
    }


def strategy_stats(records: pd.DataFrame) -> dict[str, Any]:
    """What the records of one strategy say: outcomes, latency, detection delay, paths."""
    processed = records[records["outcome"] == "processed"]
    paths = processed["path"].replace("", "unknown").value_counts()
    return {
        **outcome_counts(records),
        "latency_s": distribution_stats(processed["latency_s"]),
        "detection_s": distribution_stats(processed["detected_at"] - processed["written_at"]),
        "processing_s": distribution_stats(processed["finished_at"] - processed["started_at"]),
        "paths": {str(k): int(v) for k, v in paths.items()},
    }
