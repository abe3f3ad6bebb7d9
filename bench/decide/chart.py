"""One chart for ``pve decide``: each option's monthly bill (point, and its range over the
assumptions) and its p95 latency against the arrival rate; what cannot run is drawn grey.

Drawn on a bare ``Figure`` (no pyplot: its import and backend selection cost more than the
drawing) with fixed margins (``tight_layout`` measured every tick label twice: a second of
``pve decide``'s three)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatter

from bench.atomic import write_atomically
from bench.decide.rank import OPTION_NAMES, Decision


def decide_chart(decisions: Sequence[Decision], path: Path, *, latency_p95_s: float | None = None) -> Path:
    fig = Figure(figsize=(13, 5.4))
    cost_ax, latency_ax = fig.subplots(1, 2)
    rates = [d.workload.files_per_day for d in decisions]
    for name in OPTION_NAMES:
        rows = [next(o for o in d.options if o.name == name) for d in decisions]
        nan = float("nan")  # what cannot run is not drawn as if it could: a gap, and a grey x on the axis
        points = [o.monthly_point if o.feasible else nan for o in rows]
        (line,) = cost_ax.plot(rates, points, "o-", linewidth=1.2, label=name, alpha=0.85, markersize=5)
        colour = line.get_color()
        cost_ax.fill_between(
            rates,
            [o.monthly_low if o.feasible else nan for o in rows],
            [o.monthly_high if o.feasible else nan for o in rows],
            color=colour,
            alpha=0.12,
        )
        latency_ax.plot(
            rates, [o.latency.p95 if o.feasible else nan for o in rows], "o-", color=colour, linewidth=1.2
        )
        cannot = [(rate, o) for rate, o in zip(rates, rows, strict=True) if not o.feasible]
        if cannot:
            cost_ax.plot(
                [r for r, _ in cannot],
                [0.02] * len(cannot),
                "x",
                color="grey",
                markersize=7,
                transform=cost_ax.get_xaxis_transform(),
            )
    for d in decisions:
        best = next((o for o in d.options if o.name == d.recommendation), None)
        if best is not None:
            cost_ax.plot(
                [d.workload.files_per_day],
                [best.monthly_point],
                "*",
                color="gold",
                markeredgecolor="black",
                markersize=14,
                zorder=6,
            )
    if latency_p95_s is not None:
        latency_ax.axhline(
            latency_p95_s, color="black", linestyle="--", linewidth=1, label=f"target p95 {latency_p95_s:g} s"
        )
        latency_ax.legend(fontsize="small", loc="upper left")
    for ax, title, label in (
        (
            cost_ax,
            "monthly bill: point, band = range over the assumptions; star = recommended",
            "USD per month",
        ),
        (latency_ax, "p95 latency, written -> processed (aws profile)", "seconds"),
    ):
        ax.set_xlim(min(rates) / 3, max(rates) * 3)  # before the log scale: one rate is a valid chart
        if not any(o.feasible for d in decisions for o in d.options):  # an empty log axis, said in words
            ax.set_ylim(1, 10)
            ax.text(0.5, 0.5, "no option can run at these rates", transform=ax.transAxes, ha="center")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("files per day")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.25)
        for axis in (ax.xaxis, ax.yaxis):  # plain labels: mathtext's parser costs more than the chart
            axis.set_major_formatter(FuncFormatter(_plain))
            axis.set_minor_formatter(LogFormatter(labelOnlyBase=False))  # labels some when few decades
        ax.set_title(title, loc="left", fontsize=9)
    cost_ax.legend(fontsize="x-small", loc="upper left")
    fig.suptitle(
        "pve decide: what each option costs and how fast it is (grey x along the axis: cannot run there)",
        x=0.01,
        ha="left",
    )
    fig.subplots_adjust(left=0.06, right=0.985, bottom=0.1, top=0.87, wspace=0.16)
    write_atomically(path, lambda temp: fig.savefig(temp, dpi=120))  # a bare Figure: nothing to close
    return path


def _plain(x: float, _pos: object = None) -> str:
    """A log axis's label without mathtext: 0.01, 1, 100, 10k, 1M, 10G."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:g}{suffix}"
    return f"{x:g}"
