"""Charts drawn from result files alone (so ``pve report`` can redraw them any time)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker
from matplotlib.typing import ColorType

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.atomic import write_atomically
from bench.cost.deployments import row as deployment_row
from bench.cost.sensitivity import two_sig
from bench.report.table import unstable_strategies
from bench.results.model import Run
from bench.scenario.kinds import Family, family
from bench.scenario.spec import is_polling


def _caption(summary: Run) -> str:
    scenario = summary.scenario
    caption = (
        f"{scenario.name} - {summary.kind}, backend {scenario.backend}, "
        f"latency profile '{summary.latency_profile.name}'"
    )
    bound = [n for n, s in summary.strategies.items() if s.harness is not None and s.harness.bound]
    if bound:
        caption += (
            f"\nHARNESS-BOUND (measures this machine, not the strategy): {', '.join(bound)}"
            " - see summary.json strategies.<name>.harness.reasons"
        )
    unstable = unstable_strategies(summary)
    if unstable:
        listed = ", ".join(f"{name} {u}" for name, u in unstable.items())
        caption += f"\nunstable (rate x service time / servers >= 1; latency grows without bound): {listed}"
    bucket = summary.simulation.bucket if summary.simulation is not None else None
    return f"{caption}\n{bucket.label}" if bucket is not None else caption


def _save_with_caption(fig: plt.Figure, summary: Run, path: Path) -> Path:
    """Write a one-run chart with the run's caption along the bottom, and free the figure."""
    caption = _caption(summary)
    fig.text(0.01, 0.01, caption, fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.03 * (caption.count("\n") + 1), 1, 1))
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=120))
    finally:
        plt.close(fig)
    return path


def latency_cdf(records: pd.DataFrame, summary: Run, path: Path) -> Path:
    """The latency CDF of every strategy on one chart (log x axis when it spans decades)."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    unstable = unstable_strategies(summary)
    spans = []
    for name in summary.strategies:
        values = np.sort(
            records.loc[
                (records["strategy"] == name) & (records["outcome"] == "processed"), "latency_s"
            ].to_numpy(dtype=float)
        )
        values = values[np.isfinite(values)]
        if values.size == 0:
            continue
        spans.append(values)
        label = f"{name} (unstable, {unstable[name]})" if name in unstable else name
        ax.step(values, np.arange(1, values.size + 1) / values.size, where="post", label=label)
    if spans:
        low = min(float(v[v > 0].min()) if (v > 0).any() else 1e-3 for v in spans)
        high = max(float(v.max()) for v in spans)
        if high / max(low, 1e-6) > 50:
            ax.set_xscale("log")
    ax.set_xlabel("latency: written -> processed (s)")
    ax.set_ylabel("share of files")
    ax.set_ylim(0, 1.02)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize="small")
    else:  # no strategy processed a file: say so instead of an empty legend (and its warning)
        ax.text(0.5, 0.5, "no file was processed", transform=ax.transAxes, ha="center")
    ax.set_title("Latency CDF per strategy", loc="left")
    return _save_with_caption(fig, summary, path)


def _feasible_runs(rows: pd.DataFrame) -> list[tuple[bool, pd.DataFrame]]:
    """Consecutive stretches of a deployment's rows that are all feasible or all not (each
    stretch overlaps the next by one point, so the drawn line stays continuous)."""
    flags = rows["feasible"].astype(bool).to_numpy() if "feasible" in rows else np.ones(len(rows), bool)
    runs: list[tuple[bool, pd.DataFrame]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or flags[i] != flags[start]:
            runs.append((bool(flags[start]), rows.iloc[max(0, start - 1) : i]))
            start = i
    return runs


def cost_sweep_chart(table: pd.DataFrame, document: dict, path: Path) -> Path:
    """Monthly cost against files per day (log axes): the whole bill, and the part spent on finding
    the files (the bill minus the GET and output PUT every strategy pays), break-even rates marked
    with their range when the document has one. Stretches where a configuration cannot run are
    drawn dotted and grey, with the reason in the legend."""
    fig, (total_ax, overhead_ax) = plt.subplots(1, 2, figsize=(12, 5.8), sharex=True)
    colours, infeasible_notes = _sweep_lines(table, total_ax, overhead_ax)
    notes = _break_even_marks(table, document, colours, total_ax)
    for ax, title in (
        (total_ax, "the whole bill"),
        (overhead_ax, "finding the files (bill minus GET + output PUT)"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-3)
        ax.set_xlabel("files per day")
        ax.grid(True, which="both", alpha=0.25)
        ax.set_title(title, loc="left", fontsize=10)
    total_ax.set_ylabel("USD per month")
    total_ax.legend(fontsize="small", loc="upper left")
    if infeasible_notes:
        handles = [plt.Line2D([], [], linestyle=":", color="grey")] * len(infeasible_notes)
        overhead_ax.legend(
            handles,
            infeasible_notes,
            fontsize=6.5,
            loc="lower right",
            title="dotted grey: cannot run",
            title_fontsize=7,
        )
    tier = "with the always-free tier" if document.get("free_tier") else "no free tier"
    fig.suptitle(f"Monthly cost against arrival rate ({tier})", x=0.01, ha="left")
    lines = (
        [f"Break-even with '{document['baseline']}' (point, range over the assumptions):"]
        if notes
        else ["No break-even in range."]
    )
    lines += ["    ".join(notes[i : i + 2]) for i in range(0, len(notes), 2)]
    fig.text(0.01, 0.025, "\n".join(lines), fontsize=7.5, va="bottom")
    fig.text(0.01, 0.005, f"prices: {document['pricing']}", fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.12, 1, 0.96))
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=120))
    finally:
        plt.close(fig)
    return path


def _sweep_lines(
    table: pd.DataFrame, total_ax: plt.Axes, overhead_ax: plt.Axes
) -> tuple[dict[str, ColorType], list[str]]:
    """Each deployment's bill and discovery cost against the rate: solid (events) or dashed (polls)
    where it can run, dotted grey where it cannot. Returns each deployment's colour and the legend
    lines of the stretches that cannot run."""
    colours: dict[str, ColorType] = {}
    infeasible_notes: list[str] = []
    for name, rows in table.groupby("deployment", sort=False):
        style = "--" if deployment_row(str(rows["kind"].iloc[0])).polls else "-"  # a poller: dashed
        colour = None
        for feasible, run in _feasible_runs(rows):
            if not feasible:
                continue
            (line,) = total_ax.plot(
                run["files_per_day"],
                run["monthly_usd"],
                style,
                label=name if colour is None else None,
                linewidth=1.6,
                color=colour,
            )
            colour = line.get_color()
            overhead_ax.plot(run["files_per_day"], run["discovery_usd"], style, color=colour, linewidth=1.6)
        if colour is None:  # never feasible in range: keep a colour for its legend entry
            (line,) = total_ax.plot([], [], style, label=name)
            colour = line.get_color()
        colours[str(name)] = colour
        for feasible, run in _feasible_runs(rows):
            if not feasible:
                infeasible_notes.append(_cannot_run_stretch(str(name), run, colour, total_ax, overhead_ax))
    return colours, infeasible_notes


def _cannot_run_stretch(
    name: str, run: pd.DataFrame, colour: ColorType, total_ax: plt.Axes, overhead_ax: plt.Axes
) -> str:
    """A stretch that cannot run: dotted grey, an x where it starts; its legend line says why."""
    first = run[~run["feasible"].astype(bool)].iloc[0]
    reason = str(first.get("why_not", "")).split("; ")[0]
    label = textwrap.fill(f"{name}: cannot run from {_two_sig(first['files_per_day'])}/day ({reason})", 70)
    total_ax.plot(run["files_per_day"], run["monthly_usd"], ":", color="grey", alpha=0.8, linewidth=1.4)
    overhead_ax.plot(run["files_per_day"], run["discovery_usd"], ":", color="grey", alpha=0.8)
    total_ax.plot([first["files_per_day"]], [first["monthly_usd"]], "x", color=colour, markersize=7, zorder=5)
    return label


def _break_even_marks(
    table: pd.DataFrame, document: dict, colours: dict[str, ColorType], total_ax: plt.Axes
) -> list[str]:
    """Numbered dots at the break-even rates, a band over their range; returns the numbered notes."""
    ranges = {(r["option"], r["against"]): r for r in document.get("ranges", [])}
    notes = []
    for number, entry in enumerate((e for e in document["break_even"] if e.get("files_per_day")), start=1):
        rate = entry["files_per_day"]
        colour = colours.get(entry["other"], "black")
        span = ranges.get((entry["other"], entry["baseline"]), {}).get("files_per_day")
        note = f"({number}) {entry['other']}: {_two_sig(rate)} files/day"
        if span and span.get("low") is not None:
            high = span["high"] if span.get("high") is not None else table["files_per_day"].max()
            total_ax.plot(
                [span["low"], high], [entry["monthly_usd"]] * 2, "-", color=colour, linewidth=4, alpha=0.3
            )
            top = _two_sig(span["high"]) if span.get("high") is not None else "never"
            note += f" ({_two_sig(span['low'])}-{top})"
        total_ax.plot(
            [rate], [entry["monthly_usd"]], "o", color=colour, markeredgecolor="black", markersize=6, zorder=5
        )
        total_ax.annotate(
            str(number),
            xy=(rate, entry["monthly_usd"]),
            xytext=(-4, 6),
            textcoords="offset points",
            fontsize=8,
            fontweight="bold",
        )
        notes.append(note)
    return notes


def _two_sig(x: float | None) -> str:
    return two_sig(x)


def _finite_rates(entry: dict) -> list[float]:
    found = [entry["files_per_day"]["point"]]
    found += [r for ends in entry["one_at_a_time"].values() for r in ends.values()]
    found += [entry.get("joint", {}).get(q) for q in ("p10", "p90")]
    return [float(r) for r in found if r is not None]


UNIT_SUFFIXES = {"_s": "s", "_ms": "ms", "_mb": "MB", "_gb": "GB", "_usd": "$", "_days": "days"}


def readable_name(name: str) -> str:
    """An assumption's or choice's name as a chart label: ``list_per_page_s`` -> ``list per page (s)``."""
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{name[: -len(suffix)].replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def tornado_chart(ranges: list[dict], path: Path) -> Path:
    """One panel per pair: how far each assumption, alone at either end of its interval, moves the
    break-even rate (log scale); a hatched bar reaching the right edge means the crossing vanishes
    ("never"). The vertical line is the point estimate; the grey band the joint Monte Carlo's
    10-90%. Pairs that never cross anywhere in the ranges get no panel (named in the title)."""
    panels = [r for r in ranges if _finite_rates(r)]
    never = [f"{r['option']} vs {r['against']}" for r in ranges if not _finite_rates(r)]
    cols = 2
    rows_n = max(1, (len(panels) + cols - 1) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(13, 2.4 + 2.6 * rows_n), squeeze=False)
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    for ax, entry in zip(axes.flat, panels, strict=False):
        point = entry["files_per_day"]["point"]
        finite = _finite_rates(entry)
        low, high = min(finite) / 2, max(finite) * 2
        base = point if point is not None else high

        def pos(r: float | None, high: float = high) -> float:
            return high if r is None else r

        bars = []
        for name, ends in entry["one_at_a_time"].items():
            values = [pos(r) for r in ends.values()] + [base]
            vanishes = any(r is None for r in ends.values()) != (point is None)
            bars.append((name, min(values), max(values), vanishes, ends))
        bars.sort(key=lambda b: np.log(b[2]) - np.log(b[1]))
        for y, (name, lo, hi, vanishes, ends) in enumerate(bars):
            ax.barh(
                y,
                max(hi - lo, lo * 0.01),
                left=lo,
                height=0.6,
                color="tab:red" if name in entry["flips_on"] else "tab:blue",
                alpha=0.75,
                hatch="//" if vanishes else None,
                edgecolor="black" if vanishes else None,
                linewidth=0.3,
            )
            label = ", ".join(f"{v}: {_two_sig(r)}" for v, r in ends.items())
            ax.annotate(label, xy=(hi, y), xytext=(3, -3), textcoords="offset points", fontsize=6)
        ax.set_yticks(range(len(bars)), [readable_name(b[0]) for b in bars], fontsize=7)
        joint = entry.get("joint", {})
        if joint.get("p10") is not None:
            top = joint["p90"] if joint.get("p90") is not None else high
            ax.axvspan(joint["p10"], top, color="grey", alpha=0.15)
        if point is not None:
            ax.axvline(point, color="black", linewidth=1)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlim(low, high * 3)
        ax.grid(True, axis="x", which="both", alpha=0.3)
        headline = f"point {_two_sig(point)}/day" if point is not None else "never at the point"
        title = f"{entry['option']}\nvs {entry['against']}: {headline}"
        ax.set_title(title, loc="left", fontsize=8)
        ax.set_xlabel("break-even, files per day (hatched to the right edge: never)", fontsize=7)
    title = "What moves each break-even: one assumption at a time (red: it flips the finding)"
    if never:
        title += "\nnever cross anywhere in the ranges: " + "; ".join(never)
    fig.suptitle(title, x=0.01, ha="left", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=110))
    finally:
        plt.close(fig)
    return path


def timeline(records: pd.DataFrame, summary: Run, path: Path) -> Path:
    """Files written against files processed over time, per strategy: polling's staircase."""
    names = list(summary.strategies)
    fig, axes = plt.subplots(len(names), 1, figsize=(9, 1.6 + 1.5 * len(names)), sharex=True, squeeze=False)
    for ax, name in zip(axes[:, 0], names, strict=True):
        rows = records[(records["strategy"] == name) & (records["repetition"] == 0)]
        start = float(np.nanmin(rows["written_at"])) if len(rows) else 0.0
        written = np.sort(rows["written_at"].to_numpy(dtype=float) - start)
        done = np.sort(rows.loc[rows["outcome"] == "processed", "finished_at"].to_numpy(dtype=float) - start)
        written, done = written[np.isfinite(written)], done[np.isfinite(done)]
        ax.step(
            written, np.arange(1, written.size + 1), where="post", color="black", linewidth=1, label="written"
        )
        ax.step(
            done, np.arange(1, done.size + 1), where="post", color="tab:red", linewidth=1.4, label="processed"
        )
        ax.set_ylabel("files", fontsize=8)
        ax.set_title(f"{name} ({summary.strategies[name].kind})", loc="left", fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize="small")
    axes[-1, 0].set_xlabel("seconds since the first file was written")
    fig.suptitle("Arrivals against processing: polling's staircase, events' shadow", x=0.01, ha="left")
    fig.text(0.01, 0.005, _caption(summary), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    try:
        write_atomically(path, lambda temp: fig.savefig(temp, dpi=110))
    finally:
        plt.close(fig)
    return path


def requests_per_file(summary: Run, path: Path) -> Path:
    """API requests per file by operation (stacked), and invocations per file, per strategy."""
    names = list(summary.strategies)
    strategies = list(summary.strategies.values())
    operations = sorted({op for s in strategies for op in s.api_calls})
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(names) + 5), 4.8))
    bottoms = np.zeros(len(names))
    files = np.array([max(1, s.files) for s in strategies], dtype=float)
    for op in operations:
        values = np.array([s.api_calls.get(op, 0) for s in strategies]) / files
        if values.any():
            ax.bar(names, values, bottom=bottoms, label=op)
            bottoms += values
    invocations = np.array([s.invocations for s in strategies]) / files
    ax.plot(names, invocations, "kD", label="Lambda invocations per file", markersize=6)
    ax.set_ylabel("per file")
    ax.set_title("Requests and invocations per file", loc="left")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return _save_with_caption(fig, summary, path)


def latency_vs_interval(summary: Run, path: Path) -> Path | None:
    """Poll latency (median, 5th-95th percentile bars) against the poll interval, events as bands.

    Drawn only when the scenario polls at two or more intervals. The dotted line is the textbook
    expectation for a listing at a uniformly random phase: half an interval on average.
    """
    polls = [
        (s.interval_s, s)
        for s in summary.strategies.values()
        if family(s.kind) is Family.POLL and s.interval_s is not None
    ]
    if len({interval for interval, _ in polls}) < 2:
        return None
    polls.sort(key=lambda item: item[0])
    fig, ax = plt.subplots(figsize=(8, 4.8))
    intervals = np.array([i for i, _ in polls])
    p50 = np.array([s.latency_s.p50 or np.nan for _, s in polls])
    p95 = np.array([s.latency_s.p95 or np.nan for _, s in polls])
    mean = np.array([s.latency_s.mean or np.nan for _, s in polls])
    ax.errorbar(
        intervals,
        p50,
        yerr=[np.zeros_like(p50), np.clip(p95 - p50, 0, None)],
        fmt="o-",
        capsize=3,
        label="poll: median (bar to p95)",
    )
    ax.plot(intervals, mean, "s", color="tab:blue", alpha=0.5, label="poll: mean")
    ax.plot(intervals, intervals / 2, ":", color="grey", label="T/2 (theory, mean detection delay)")
    for name, s in summary.strategies.items():
        p50_s, p95_s = s.latency_s.p50, s.latency_s.p95
        if is_polling(s.kind) or p50_s is None:
            continue
        ax.axhspan(p50_s, p95_s if p95_s is not None else p50_s, alpha=0.15)
        ax.axhline(p50_s, linewidth=0.8)
        ax.annotate(
            f"{name} p50-p95",
            xy=(intervals[0], p50_s),
            fontsize=7,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("poll interval (s)")
    ax.set_ylabel("latency: written -> processed (s)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    ax.set_title("Latency against poll interval, events as bands", loc="left")
    return _save_with_caption(fig, summary, path)
