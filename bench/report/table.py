"""The table printed at the end of a run: one row per strategy."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bench.cost.model import Pricing, load_pricing
from bench.cost.run import TABLE_REQUIREMENTS, monthly_at
from bench.results.model import Run, StrategyResult

# The monthly bill column prices each strategy's deployment at this stated rate, never at the run's
# own (a 10 s run at 20 files/s spreads a poller's idle cost over 200 files and flatters it). The
# run's own dollars stay in summary.json (``strategies.<name>.cost``).
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


UNSTABLE_MARK = "(!)"
UNBOUNDED_CELL = "unbounded"
UNSTABLE_CAPTION = (
    f"{UNSTABLE_MARK} unstable: utilisation = rate x service time / servers >= 1, so the backlog and the "
    "latency grow without bound for as long as the load lasts (no percentile of it is shown)"
)


def unstable_strategies(summary: Run) -> dict[str, str]:
    """Strategies whose servers cannot keep up, with their utilisation as text (``u=1.16``)."""
    return {
        name: "u=inf" if s.utilisation is None else f"u={s.utilisation:.2f}"
        for name, s in summary.strategies.items()
        if s.stable is False
    }


def summary_table(summary: Run, pricing: Pricing | None = None) -> Table:
    """One row per strategy; dollars from the counts with ``pricing`` (the bundled table by default),
    by the same function as the charts and ``pve decide``."""
    scenario = summary.scenario
    profile = summary.latency_profile.name
    backends = sorted({s.backend for s in summary.strategies.values()})
    title = f"{scenario.name} ({summary.kind}) on {' + '.join(backends)}, latency profile '{profile}'"
    bucket = summary.simulation.bucket if summary.simulation is not None else None
    if bucket is not None:
        title += f"\n{bucket.label}"
    infeasible = {n: s.why_not for n, s in summary.strategies.items() if not s.feasible}
    caption = summary_caption(summary)
    for name, why in infeasible.items():
        caption += f"\n* {name} cannot run as configured: {why}"
    unstable = unstable_strategies(summary)
    if unstable:
        caption += "\n" + UNSTABLE_CAPTION + ": " + ", ".join(f"{n} {u}" for n, u in unstable.items())
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    table.add_column("strategy", no_wrap=True)
    # short headers, spelled out in the caption's legend: the table fits a 100-column terminal
    for column in ("files", "ok", "fail", "miss", "p50", "p95", "p99", "inv", "cold", "req", "req/file"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("$/mo", justify="right", no_wrap=True)
    for name, s in summary.strategies.items():
        latency = s.latency_s
        monthly = monthly_bill(name, s, pricing)
        quantiles = (
            [UNBOUNDED_CELL] * 3
            if name in unstable
            else [seconds(latency.p50), seconds(latency.p95), seconds(latency.p99)]
        )
        marks = (f" {UNSTABLE_MARK}" if name in unstable else "") + (" *" if name in infeasible else "")
        table.add_row(
            name + marks + (f" {BOUND_MARK}" if harness_bound(s) else ""),
            str(s.files),
            str(s.processed),
            str(s.failed),
            str(s.missed),
            *quantiles,
            str(s.invocations),
            str(s.cold_starts),
            str(s.api_calls_total),
            f"{s.api_calls_total / max(1, s.files):.2f}",
            ("cannot run" if cannot_run_at_monthly_rate(name, s) else "-")
            if monthly is None
            else f"{monthly:,.2f}",
        )
    return table


def harness_bound(strategy: StrategyResult) -> bool:
    return strategy.harness is not None and strategy.harness.bound


def bound_footnotes(summary: Run) -> list[str]:
    """One line per harness-bound strategy, with its first reasons."""
    return [
        f"{BOUND_MARK} {name}: harness-bound, its latency measures this machine, not the strategy ("
        + "; ".join(s.harness.reasons[:2] if s.harness else [])
        + ")"
        for name, s in summary.strategies.items()
        if harness_bound(s)
    ]


def summary_caption(summary: Run) -> str:
    lines = [
        "ok/fail/miss = files processed, failed with a reason, missed; p50/p95/p99 = latency, written "
        "-> processed; inv = function invocations; cold = cold starts; req = API calls made by the "
        f"strategy (writer excluded); $/mo = the strategy deployed on AWS for a month "
        f"({load_pricing().month_s / 3600:,.0f} h, AWS's convention) at "
        f"{MONTHLY_AT_FILES_PER_DAY:,} files/day through the cost model (list prices, no free tier), not "
        "at this run's rate; each built to pve decide's default requirements ("
        f"{TABLE_REQUIREMENTS.describe().split(' (defaults:')[0]}) with 0.1 MB files",
        *bound_footnotes(summary),
        *aws_footnotes(summary),
        *(
            f"{name}: cannot run at {MONTHLY_AT_FILES_PER_DAY:,} files/day as deployed on AWS: {why}"
            for name, s in summary.strategies.items()
            if (why := cannot_run_at_monthly_rate(name, s))
        ),
    ]
    return "\n".join(lines)


def aws_footnotes(summary: Run) -> list[str]:
    """An aws-backend run that did not reach AWS says so; so do REPORT lines still missing."""
    info = summary.aws
    if info is None:
        return []
    lines = []
    if not info.endpoint_is_aws:
        lines.append(
            f"not AWS: every request went to {info.endpoint} (functions run by {info.functions_run_by})"
        )
    partial = [n for n, s in summary.strategies.items() if s.aws is not None and s.aws.reports_partial]
    if partial:
        lines.append(f"{', '.join(partial)}: REPORT lines still missing when the wait ended (partial)")
    return lines


def cannot_run_at_monthly_rate(name: str, strategy: StrategyResult) -> str:
    """Why the strategy, deployed on AWS, could not run at the table's stated rate ('' if it could)."""
    return monthly_at(name, strategy, MONTHLY_AT_FILES_PER_DAY)[1]


def monthly_bill(name: str, strategy: StrategyResult, pricing: Pricing | None = None) -> float | None:
    """USD for a month at ``MONTHLY_AT_FILES_PER_DAY``, built to the default requirements like
    ``pve decide`` (None for a local folder: no AWS bill, or for a deployment that cannot run at
    that rate: see ``cannot_run_at_monthly_rate``)."""
    return monthly_at(name, strategy, MONTHLY_AT_FILES_PER_DAY, pricing)[0]


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
            latency = seconds(row["latency_p50_s"].iloc[0])
            if "stable" in row and not bool(row["stable"].iloc[0]):
                u = row["utilisation"].iloc[0]
                latency = f"{UNSTABLE_MARK} unbounded" + ("" if u is None else f", u={u:.2f}")
            mark = " *" if "feasible" in row and not bool(row["feasible"].iloc[0]) else ""
            cells.append(f"{latency} / ${row['bill_usd'].iloc[0]:,.2f}{mark}")
        table.add_row(str(name), *cells)
    if "stable" in frame and not frame["stable"].astype(bool).all():
        table.caption = UNSTABLE_CAPTION
        table.caption_justify = "left"
    return table
