"""Draw every chart of a results folder from its files alone."""

from __future__ import annotations

from pathlib import Path

from bench import charts
from bench.results import Results, read_results


def draw_charts(folder: str | Path, fmt: str = "png") -> list[Path]:
    """(Re)draw the charts of ``folder`` next to its results; returns the files written."""
    results = read_results(folder)
    return draw_results(results, fmt)


def draw_results(results: Results, fmt: str = "png") -> list[Path]:
    if fmt not in ("png", "svg"):
        raise ValueError(f"chart format must be png or svg, got {fmt!r}")
    out = results.folder
    drawn = [charts.latency_cdf(results.records, results.summary, out / f"latency_cdf.{fmt}")]
    return drawn
