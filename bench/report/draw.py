"""Draw every chart of a results folder from its files alone."""

from __future__ import annotations

from pathlib import Path

from bench.cost.deployments import row as deployment_row
from bench.cost.model import load_pricing
from bench.cost.sweep import break_evens, cost_table, default_rates, deployment_for
from bench.errors import InputError
from bench.report import charts
from bench.results.files import Results, read_results


def draw_charts(folder: str | Path, fmt: str = "png") -> list[Path]:
    """(Re)draw the charts of ``folder`` next to its results; returns the files written."""
    results = read_results(folder)
    return draw_results(results, fmt)


def draw_results(results: Results, fmt: str = "png") -> list[Path]:
    if fmt not in ("png", "svg"):
        raise InputError(f"chart format must be png or svg, got {fmt!r}")
    out, summary, records = results.folder, results.summary, results.records
    drawn = [charts.latency_cdf(records, summary, out / f"latency_cdf.{fmt}")]
    if summary.is_live and len(records):
        drawn.append(charts.timeline(records, summary, out / f"timeline.{fmt}"))
    drawn.append(charts.requests_per_file(summary, out / f"requests_per_file.{fmt}"))
    sweep = charts.latency_vs_interval(summary, out / f"latency_vs_interval.{fmt}")
    if sweep is not None:
        drawn.append(sweep)
    projected = monthly_projection(results, out / f"monthly_cost.{fmt}")
    if projected is not None:
        drawn.append(projected)
    return drawn


def monthly_projection(results: Results, path: Path) -> Path | None:
    """Each strategy's monthly bill against arrival rate, as deployed on AWS with the per-file
    compute this run measured; break-even rates against the first polling strategy."""
    deployments = [
        d for name, s in results.summary.strategies.items() if (d := deployment_for(name, s)) is not None
    ]
    if not deployments:
        return None
    pricing = load_pricing()
    table = cost_table(deployments, default_rates(), pricing=pricing)
    polls = [d for d in deployments if deployment_row(d.kind).polls]
    baseline = polls[0] if polls else deployments[0]
    document = {
        "pricing": pricing.label,
        "free_tier": False,
        "baseline": baseline.label,
        "break_even": break_evens(baseline, [d for d in deployments if d is not baseline], pricing=pricing),
    }
    return charts.cost_sweep_chart(table, document, path)
