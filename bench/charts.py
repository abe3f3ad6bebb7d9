"""Charts drawn from result files alone (so ``pve report`` can redraw them any time)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def _caption(summary: dict) -> str:
    profile = summary.get("latency_profile", {}).get("name", "?")
    kind = summary.get("kind", "live")
    scenario = summary["scenario"]
    return f"{scenario['name']} - {kind}, backend {scenario['backend']}, latency profile '{profile}'"


def latency_cdf(records: pd.DataFrame, summary: dict, path: Path) -> Path:
    """The latency CDF of every strategy on one chart (log x axis when it spans decades)."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    spans = []
    for name in summary["strategies"]:
        values = np.sort(
            records.loc[
                (records["strategy"] == name) & (records["outcome"] == "processed"), "latency_s"
            ].to_numpy(dtype=float)
        )
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        spans.append(values)
        ax.step(values, np.arange(1, values.size + 1) / values.size, where="post", label=name)
    if spans:
        low = min(float(v[v > 0].min()) if (v > 0).any() else 1e-3 for v in spans)
        high = max(float(v.max()) for v in spans)
        if high / max(low, 1e-6) > 50:
            ax.set_xscale("log")
    ax.set_xlabel("latency: written -> processed (s)")
    ax.set_ylabel("share of files")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("Latency CDF per strategy", loc="left")
    fig.text(0.01, 0.01, _caption(summary), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
