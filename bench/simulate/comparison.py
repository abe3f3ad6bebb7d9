"""Several simulated rates side by side: latency and the period's bill per strategy and rate."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.atomic import write_atomically
from bench.cost.model import Pricing
from bench.cost.run import run_costs
from bench.results.model import Run
from bench.scenario.spec import is_polling


def comparison_frame(summaries: dict[float, Run], pricing: Pricing | None = None) -> pd.DataFrame:
    """One row per (strategy, files per day) from simulated summaries, priced by ``run_cost``."""
    rows = []
    for rate, summary in summaries.items():
        days = summary.simulation.days if summary.simulation is not None else None
        costs = run_costs(summary, pricing)
        for name, s in summary.strategies.items():
            monthly = costs[name].monthly_usd
            rows.append(
                {
                    "strategy": name,
                    "kind": s.kind,
                    "files_per_day": rate,
                    "days": days,
                    "files": s.files,
                    "latency_p50_s": s.latency_s.p50,
                    "latency_p95_s": s.latency_s.p95,
                    "latency_p99_s": s.latency_s.p99,
                    "latency_p999_s": s.latency_s.p999,
                    "feasible": s.feasible,
                    "why_not": s.why_not,
                    "bucket": _bucket(summary),
                    "invocations": s.invocations,
                    "requests": s.api_calls_total,
                    "bill_usd": costs[name].total_usd,
                    "model_monthly_usd": None if monthly is None else monthly.get("total"),
                    "seconds": s.simulation.seconds if s.simulation is not None else None,
                    "stable": s.stable is not False,
                    "utilisation": s.utilisation,
                }
            )
    return pd.DataFrame(rows)


def _bucket(summary: Run) -> str | None:
    """The start and retention, short (the file counts differ from rate to rate)."""
    bucket = summary.simulation.bucket if summary.simulation is not None else None
    if bucket is None:
        return None
    return f"{bucket.start} start, retention {bucket.retention}"


def write_comparison_csv(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "comparison.csv"
    write_atomically(path, lambda temp: frame.to_csv(temp, index=False, float_format="%.6g"))
    return path


def comparison_chart(frame: pd.DataFrame, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (lat, bill) = plt.subplots(1, 2, figsize=(12, 5))
    for name, rows in frame.groupby("strategy", sort=False):
        style = "--" if is_polling(str(rows["kind"].iloc[0])) else "-"
        (line,) = lat.plot(rows["files_per_day"], rows["latency_p50_s"], style + "o", label=name)
        lat.fill_between(
            rows["files_per_day"],
            rows["latency_p50_s"],
            rows["latency_p95_s"],
            color=line.get_color(),
            alpha=0.12,
        )
        bill.plot(rows["files_per_day"], rows["bill_usd"], style + "o", color=line.get_color(), label=name)
        unstable = rows[~rows["stable"].astype(bool)] if "stable" in rows else rows.iloc[0:0]
        if not unstable.empty:  # the median of a growing backlog: crossed out, not a latency
            lat.plot(unstable["files_per_day"], unstable["latency_p50_s"], "x", color="red", markersize=12)
    if "feasible" in frame and not frame["feasible"].astype(bool).all():  # grey x: cannot run as configured
        bad = frame[~frame["feasible"].astype(bool)]
        for ax, column in ((lat, "latency_p50_s"), (bill, "bill_usd")):
            ax.plot(
                bad["files_per_day"],
                bad[column],
                "x",
                color="grey",
                markersize=12,
                mew=2,
                label="cannot run as configured (why_not)",
            )
    for ax, label in (
        (lat, "latency, median (band to p95), s"),
        (bill, "bill for the simulated period, USD"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("files per day")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    lat.legend(fontsize="small")
    if "feasible" in frame and not frame["feasible"].astype(bool).all():
        bill.legend(handles=bill.get_lines()[-1:], fontsize="small", loc="upper left")
    days = frame["days"].dropna().unique()
    title = f"Simulated {'/'.join(f'{d:g}' for d in days)} day(s) per rate: latency and cost"
    if "bucket" in frame:
        title += "\n" + "; ".join(str(b) for b in frame["bucket"].dropna().unique())
    if "feasible" in frame and not frame["feasible"].all():
        title += "\ngrey x: cannot run as configured (listing longer than the interval, or past a limit)"
    if "stable" in frame and not frame["stable"].astype(bool).all():
        title += "\nred x: unstable (rate x service time / servers >= 1): that latency grows without bound"
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    fig.tight_layout()
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=120))
    finally:
        plt.close(fig)
    return path


def bare_numpy_pass(n: int, seed: int = 0) -> float:
    """Seconds for the irreducible work on ``n`` files: draw Poisson arrivals, one Lindley pass
    (cumulative sum and running maximum), the latencies and their mean. The simulator's speed
    is best read next to this."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    arrivals = np.cumsum(rng.exponential(1.0, n))
    service = np.full(n, 0.1)
    done = np.cumsum(service)
    finish = done + np.maximum.accumulate(arrivals - (done - service))
    (finish - arrivals).mean()
    return time.perf_counter() - started


def bare_numpy_month(n: int, strategies: int, chunk: int = 5_000_000, seed: int = 0) -> float:
    """Seconds, on one core, for the irreducible work of simulating ``n`` files through
    ``strategies`` strategies: the arrivals drawn once, ``chunk`` at a time (a month does not fit
    in memory at once), and for each strategy a service time per file, one Lindley pass and the
    latencies' mean. The yardstick of a simulation run on several cores: at 1.0x it does all the
    models' work in the time one core takes for this bare part."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    clock, done = 0.0, 0
    while done < n:
        size = min(chunk, n - done)
        arrivals = clock + np.cumsum(rng.exponential(1.0, size))
        clock = float(arrivals[-1])
        for _ in range(strategies):
            service = rng.exponential(0.1, size)
            finished = np.cumsum(service)
            finished += np.maximum.accumulate(arrivals - (finished - service))
            (finished - arrivals).mean()
        done += size
    return time.perf_counter() - started
