"""The table printed at the end of a run: one row per strategy."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench.cost.model import Pricing
from bench.cost.run import run_costs
from bench.results.model import Run


def seconds(value: float | None) -> str:
    """Compact human form: ``7ms``, ``599ms``, ``1.03s``, ``2.5min``."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 120:
        return f"{value:.2f}s"
    return f"{value / 60:.1f}min"


def summary_table(summary: Run, pricing: Pricing | None = None) -> Table:
    """One row per strategy; dollars from the counts with ``pricing`` (the bundled table by default),
    by the same function as the charts and ``pve decide``."""
    scenario = summary.scenario
    profile = summary.latency_profile.name
    backends = sorted({s.backend for s in summary.strategies.values()})
    table = Table(
        title=f"{scenario.name} ({summary.kind}) on {' + '.join(backends)}, latency profile '{profile}'",
        title_justify="left",
        caption="latency = written -> processed; requests = API calls made by the strategy (writer excluded)",
        caption_justify="left",
    )
    table.add_column("strategy", no_wrap=True)
    for column in ("files", "ok", "failed", "missed", "p50", "p95", "p99", "invokes", "cold", "requests"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("$/1M files", justify="right", no_wrap=True)
    costs = run_costs(summary, pricing)
    for name, s in summary.strategies.items():
        latency = s.latency_s
        cost = costs[name].per_million_files
        table.add_row(
            name,
            str(s.files),
            str(s.processed),
            str(s.failed),
            str(s.missed),
            seconds(latency.p50),
            seconds(latency.p95),
            seconds(latency.p99),
            str(s.invocations),
            str(s.cold_starts),
            str(s.api_calls_total),
            "-" if cost is None else f"{cost:,.2f}",
        )
    return table


def comparison_table(frame: Any) -> Table:
    """Simulated rates side by side: one row per strategy, latency and bill per rate."""
    rates = sorted(frame["files_per_day"].unique())
    table = Table(
        title="Simulated: median latency / bill for the simulated period (USD)", title_justify="left"
    )
    table.add_column("strategy", no_wrap=True)
    for rate in rates:
        table.add_column(f"{rate:,.0f}/day", justify="right", no_wrap=True)
    for name, rows in frame.groupby("strategy", sort=False):
        cells = []
        for rate in rates:
            row = rows[rows["files_per_day"] == rate]
            if row.empty:
                cells.append("-")
                continue
            cells.append(f"{seconds(row['latency_p50_s'].iloc[0])} / ${row['bill_usd'].iloc[0]:,.2f}")
        table.add_row(str(name), *cells)
    return table
