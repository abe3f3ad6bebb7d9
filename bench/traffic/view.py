"""The terminal view of a traffic profile: a table per read, a sparkline of arrivals per UTC hour and
a size histogram per prefix (small charts that need no window)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.table import Table

from bench.cost.model import Pricing, load_pricing
from bench.traffic.profile import PrefixProfile

BLOCKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0.0)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[min(8, round(v / top * 8))] for v in values)


def human_bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"


def _count(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.2g}"


def when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))


def list_usd_per_month(p: PrefixProfile, pricing: Pricing) -> float:
    """What the LIST requests already in the log cost a month (what polling pays today)."""
    return p.lists_per_day * pricing.hours_per_month / 24.0 * pricing["s3_put_copy_post_list"]


def profile_table(profiles: Sequence[PrefixProfile], pricing: Pricing | None = None) -> Table:
    pricing = pricing or load_pricing()
    window = profiles[0].window_days if profiles else 0.0
    several = len({p.bucket for p in profiles}) > 1
    table = Table(
        title=f"Traffic per prefix ({window:,.2f} days observed; times UTC)",
        title_justify="left",
        caption="files/day over the whole window (one shorter than a day is rated as a day); peak hour/min: "
        "files in the busiest clock hour/minute "
        "(x 1440 for the minute is the rate feasibility and latency are judged at); dispersion: "
        "variance/mean of files per minute (1 = Poisson, >1 = bursty); LIST $/month: the listings in the "
        f"log at {pricing.label} (requests only)",
        caption_justify="left",
    )
    for column in (
        "prefix", "files", "files/day", "peak hour", "peak min", "dispersion", "overwrites", "deletes",
        "LISTs/day", "LIST $/month", "objects", "size p50", "size p95",
    ):  # fmt: skip
        table.add_column(
            column, justify="left" if column == "prefix" else "right", no_wrap=column == "prefix"
        )
    for p in profiles:
        name = f"{p.bucket}/{p.prefix}" if several else p.name
        table.add_row(
            name,
            f"{p.creates:,}",
            f"{p.files_per_day:,.0f}",
            f"{p.busiest_hour[1]:,}",
            f"{p.busiest_minute[1]:,}",
            f"{p.dispersion:,.1f}",
            f"{p.overwrites:,}",
            f"{p.deletes:,}",
            f"{p.lists_per_day:,.0f}",
            f"{list_usd_per_month(p, pricing):,.2f}",
            f"{p.objects_live:,}",
            human_bytes(p.sizes.p50),
            human_bytes(p.sizes.p95),
        )
    return table


def profile_charts(p: PrefixProfile) -> list[str]:
    """Two lines per prefix: files per UTC hour of day, and the log2 size histogram."""
    name = f"{p.bucket}/{p.prefix}" if p.bucket else p.name
    lines = [
        f"{name}: busiest hour from {when(p.busiest_hour[0])}, busiest minute {when(p.busiest_minute[0])}",
        f"{' ' * len(name)}  files per UTC hour 00-23 |{sparkline(p.hourly)}| "
        f"up to {_count(max(p.hourly))}/h",
    ]
    if p.sizes.count:
        lines.append(
            f"{' ' * len(name)}  sizes (x2 per step) {human_bytes(p.sizes_low)}"
            f" |{sparkline(p.size_bins)}| {human_bytes(p.sizes.max)}"
        )
    return lines
