"""The simulator's validation as table rows and detail lines for the terminal."""

from __future__ import annotations

from rich.table import Table

from bench.report.table import seconds
from bench.simulate.validate import CONFIDENCE, COUNTED, LiveComparison


def summary_rows(rows: list[LiveComparison]) -> list[list[str]]:
    return [
        [
            row.scenario,
            row.strategy,
            seconds(row.p50_live),
            seconds(row.p50_sim),
            f"{row.p50_off:.1%}",
            seconds(row.p95_live),
            seconds(row.p95_sim),
            f"{row.p95_off:.1%}",
            "yes" if row.requests_equal else "no",
            "yes" if row.holds else "NO",
        ]
        for row in rows
    ]


def detail_line(row: LiveComparison) -> str:
    """Request counts live/sim, and the live quantiles' confidence intervals."""
    requests = ", ".join(
        f"{op.split('.')[1]} {row.requests_live[op]}/{row.requests_sim[op]}" for op in COUNTED
    )
    intervals = ", ".join(
        f"{name} {seconds(low)}-{seconds(high)}"
        for name, (low, high) in (("p50", row.p50_interval), ("p95", row.p95_interval))
    )
    return f"live/sim {requests}; live {CONFIDENCE:.0%} CI {intervals}"


COLUMNS = (
    "scenario",
    "strategy",
    "p50 live",
    "p50 sim",
    "off",
    "p95 live",
    "p95 sim",
    "off",
    "requests equal",
    "holds",
)


def validation_table(title: str, caption: str, rows: list[LiveComparison]) -> Table:
    """One table of comparisons (in sample or out of sample); uncovered rows are marked."""
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for column in COLUMNS:
        table.add_column(
            column, justify="left" if column in ("scenario", "strategy") else "right", no_wrap=True
        )
    for row, cells in zip(rows, summary_rows(rows), strict=True):
        if row.uncovered:
            cells[-1] = "not covered"
        table.add_row(*cells)
    return table
