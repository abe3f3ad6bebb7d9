"""The table printed at the end of a run: one row per strategy."""

from __future__ import annotations

from typing import Any

from rich.table import Table


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
    title = f"{scenario['name']} ({kind}) on {' + '.join(backends)}, latency profile '{profile}'"
    bucket = summary.get("simulation", {}).get("bucket", {}).get("label")
    if bucket:
        title += f"\n{bucket}"
    infeasible = {n: s["why_not"] for n, s in summary["strategies"].items() if s.get("feasible") is False}
    caption = "latency = written -> processed; requests = API calls made by the strategy (writer excluded)"
    for name, why in infeasible.items():
        caption += f"\n* {name} cannot run as configured: {why}"
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("strategy", no_wrap=True)
    for column in ("files", "ok", "failed", "missed", "p50", "p95", "p99", "invokes", "cold", "requests"):
        table.add_column(column, justify="right", no_wrap=True)
    has_cost = any("cost" in s for s in summary["strategies"].values())
    if has_cost:
        table.add_column("$/1M files", justify="right", no_wrap=True)
    for name, s in summary["strategies"].items():
        latency = s["latency_s"]
        row = [
            f"{name} *" if name in infeasible else name,
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
        ]
        if has_cost:
            cost = s.get("cost", {}).get("per_million_files")
            row.append("-" if cost is None else f"{cost:,.2f}")
        table.add_row(*row)
    return table


def comparison_table(frame: Any) -> Table:
    """Simulated rates side by side: one row per strategy, latency and bill per rate."""
    rates = sorted(frame["files_per_day"].unique())
    title = "Simulated: median latency / bill for the simulated period (USD)"
    if "bucket" in frame:
        title += "; " + "; ".join(str(b) for b in frame["bucket"].dropna().unique())
    table = Table(
        title=title,
        title_justify="left",
        caption="* cannot run as configured (see why_not in summary.json)",
        caption_justify="left",
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
            mark = " *" if "feasible" in row and not bool(row["feasible"].iloc[0]) else ""
            cells.append(f"{seconds(row['latency_p50_s'].iloc[0])} / ${row['bill_usd'].iloc[0]:,.2f}{mark}")
        table.add_row(str(name), *cells)
    return table
