"""The table printed at the end of a run: one row per strategy."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench.cost.model import files_per_month, load_pricing, monthly_cost
from bench.cost.sweep import deployment_for

# The monthly bill column prices each strategy's deployment at this stated rate, never at the run's
# own (a 10 s run at 20 files/s spreads a poller's idle cost over 200 files and flatters it).
MONTHLY_AT_FILES_PER_DAY = 100_000
BOUND_MARK = "\u2020"  # a dagger after the name: harness-bound (see the footnote)


def seconds(value: float | None) -> str:
    """Compact human form: ``7ms``, ``599ms``, ``1.03s``, ``2.5min``."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f}ms"
    if value < 120:
        return f"{value:.2f}s"
    return f"{value / 60:.1f}min"


def summary_table(summary: dict[str, Any]) -> Table:
    scenario = summary["scenario"]
    profile = summary.get("latency_profile", {}).get("name", "?")
    kind = summary.get("kind", "live")
    backends = sorted({s.get("backend", scenario["backend"]) for s in summary["strategies"].values()})
    table = Table(
        title=f"{scenario['name']} ({kind}) on {' + '.join(backends)}, latency profile '{profile}'",
        title_justify="left",
        caption=summary_caption(summary),
        caption_justify="left",
    )
    table.add_column("strategy", no_wrap=True)
    for column in ("files", "ok", "failed", "missed", "p50", "p95", "p99", "invokes", "cold", "requests"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("req/file", justify="right", no_wrap=True)
    table.add_column(f"$/mo@{MONTHLY_AT_FILES_PER_DAY // 1000}k/d", justify="right", no_wrap=True)
    for name, s in summary["strategies"].items():
        latency = s["latency_s"]
        files = max(1, int(s.get("files", 0)))
        monthly = monthly_bill(name, s)
        row = [
            f"{name} {BOUND_MARK}" if harness_bound(s) else name,
            str(s["files"]),
            str(s["processed"]),
            str(s["failed"]),
            str(s.get("missed", 0)),
            seconds(latency["p50"]),
            seconds(latency["p95"]),
            seconds(latency["p99"]),
            str(s.get("invocations", 0)),
            str(s.get("cold_starts", 0)),
            str(s.get("api_calls_total", 0)),
            f"{int(s.get('api_calls_total', 0)) / files:.2f}",
            "-" if monthly is None else f"{monthly:,.2f}",
        ]
        table.add_row(*row)
    return table


def harness_bound(strategy: dict[str, Any]) -> bool:
    return bool(strategy.get("harness", {}).get("bound", False))


def bound_footnotes(summary: dict[str, Any]) -> list[str]:
    """One line per harness-bound strategy, with its first reasons."""
    return [
        f"{BOUND_MARK} {name}: harness-bound, its latency measures this machine, not the strategy ("
        + "; ".join(s["harness"].get("reasons", [])[:2])
        + ")"
        for name, s in summary["strategies"].items()
        if harness_bound(s)
    ]


def summary_caption(summary: dict[str, Any]) -> str:
    lines = [
        "latency = written -> processed; requests = API calls made by the strategy (writer excluded); "
        f"$/month = the strategy deployed on AWS for a 30-day month at {MONTHLY_AT_FILES_PER_DAY:,} "
        "files/day through the cost model (list prices, no free tier), not this run's rate",
        *bound_footnotes(summary),
    ]
    return "\n".join(lines)


def monthly_bill(name: str, strategy: dict[str, Any]) -> float | None:
    """USD for a month at ``MONTHLY_AT_FILES_PER_DAY`` (None for a local folder: no AWS bill)."""
    deployment = deployment_for(name, strategy)
    if deployment is None:
        return None
    pricing = load_pricing()
    return monthly_cost(deployment, files_per_month(MONTHLY_AT_FILES_PER_DAY, pricing), pricing=pricing).total


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
