"""``capacity.png``: p95 latency and writer lag against the offered rate, the floor marked (and
each event route's own floors, dash-dot in its colour).

Grid points are circles, the bisection's points (``stage`` "refine") diamonds; a cross marks a
point that failed a criterion. Each strategy's label gives its knee and the bracket it lies in.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from bench.atomic import write_atomically, write_text_atomically


def capacity_chart(document: dict[str, Any], path: Path) -> Path:
    """Two panels sharing the offered rate: each strategy's p95 latency, and the writer's p95 lag."""
    floor = document["floor"]
    criteria = document["criteria"]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 6.5))
    for name, strategy in document["strategies"].items():
        points = sorted(strategy["points"], key=lambda p: p["rate_per_s"])
        rates = [p["rate_per_s"] for p in points]
        p95s = [p["p95_s"] or float("nan") for p in points]
        (line,) = top.plot(rates, p95s, label=knee_label(name, strategy))
        bottom.plot(rates, [p["writer_lag_p95_s"] for p in points], color=line.get_color())
        for own in document.get("route_floors", {}).get(strategy["kind"], []):  # in its colour
            top.axvline(own["files_per_s"], color=line.get_color(), linestyle="-.", linewidth=0.8, alpha=0.6)
        for stage, marker in (("grid", "o"), ("refine", "D")):
            staged = [p for p in points if p.get("stage", "grid") == stage]
            for ax, field in ((top, "p95_s"), (bottom, "writer_lag_p95_s")):
                ax.scatter(
                    [p["rate_per_s"] for p in staged],
                    [p[field] or float("nan") for p in staged],
                    marker=marker,
                    s=22,
                    color=line.get_color(),
                )
        failed = [p for p in points if not p["ok"]]
        top.scatter(
            [p["rate_per_s"] for p in failed],
            [p["p95_s"] or float("nan") for p in failed],
            marker="x",
            s=70,
            color=line.get_color(),
        )
    for ax in (top, bottom):
        ax.axvline(floor["files_per_s"], color="black", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
    top.axhline(criteria["event_p95_s_at_most"], color="grey", linestyle=":", linewidth=1)
    bottom.axhline(criteria["writer_lag_p95_s_at_most"], color="grey", linestyle=":", linewidth=1)
    top.text(floor["files_per_s"], top.get_ylim()[1], " floor", va="top", fontsize=8)
    top.set_ylabel("p95 latency (s)")
    bottom.set_ylabel("writer p95 lag (s)")
    bottom.set_xlabel("offered rate (files/s, constant arrivals, instant profile)")
    top.legend(fontsize="small", loc="upper left")
    top.set_title(
        f"Capacity of {document['scenario']} on {document['backend']}: x = a criterion failed, "
        "diamonds = bisection",
        loc="left",
        fontsize=10,
    )
    note = document.get("note", "")
    caption = textwrap.fill(
        f"floor: bare put+get+put loop on moto in-process, {floor['files_per_s']:.0f} files/s "
        f"({floor['per_file_s'] * 1000:.1f} ms/file), dashed; dash-dot, in a strategy's colour: its "
        f"route's own floors (the least work the route needs per file); dotted: the criteria. {note}",
        150,
    )
    fig.text(0.01, 0.01, caption, fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.02 + 0.018 * caption.count("\n") + 0.02, 1, 1))
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=120))
    finally:
        plt.close(fig)
    return path


def knee_label(name: str, strategy: dict[str, Any]) -> str:
    """``name (knee 76.2/s, 0.76x; < 78.1; 0.80-0.95x its route floors)``: the knee, against the
    floor, the bracket's top, and against the route's own floors where they were measured."""
    knee = strategy["knee_files_per_s"]
    if knee is None:
        return f"{name} (no rate held)"
    bracket = strategy.get("knee_bracket_files_per_s") or [knee, None]
    top = "" if bracket[1] is None else f"; < {bracket[1]:g}"
    own = [r for r in (strategy.get("knee_vs_route_floors") or {}).values() if r is not None]
    mine = "" if not own else f"; {min(own):.2f}-{max(own):.2f}x its route floors"
    return f"{name} (knee {knee:g}/s, {strategy['knee_vs_floor']:.2f}x{top}{mine})"


def save_capacity(document: dict[str, Any], out: Path) -> list[Path]:
    """``capacity.json`` and ``capacity.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "capacity.json"
    write_text_atomically(path, json.dumps(document, indent=2) + "\n")
    return [path, capacity_chart(document, out / "capacity.png")]
