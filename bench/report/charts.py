"""Charts drawn from result files alone (so ``pve report`` can redraw them any time)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from bench.report.table import unstable_strategies


def _caption(summary: dict) -> str:
    profile = summary.get("latency_profile", {}).get("name", "?")
    kind = summary.get("kind", "live")
    scenario = summary["scenario"]
    caption = f"{scenario['name']} - {kind}, backend {scenario['backend']}, latency profile '{profile}'"
    unstable = unstable_strategies(summary)
    if unstable:
        caption += (
            "\nunstable (rate x service time / servers >= 1; latency grows without bound): "
            + ", ".join(f"{name} {u}" for name, u in unstable.items())
        )
    return caption


def _save_with_caption(fig: plt.Figure, summary: dict, path: Path) -> Path:
    """Write a one-run chart with the run's caption along the bottom, and free the figure."""
    fig.text(0.01, 0.01, _caption(summary), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.05 if "\n" in fig.texts[-1].get_text() else 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def latency_cdf(records: pd.DataFrame, summary: dict, path: Path) -> Path:
    """The latency CDF of every strategy on one chart (log x axis when it spans decades)."""
    fig, ax = plt.subplots(figsize=(8, 4.8))
    unstable = unstable_strategies(summary)
    spans = []
    for name in summary["strategies"]:
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
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title("Latency CDF per strategy", loc="left")
    return _save_with_caption(fig, summary, path)


def cost_sweep_chart(table: pd.DataFrame, document: dict, path: Path) -> Path:
    """Monthly cost against files per day (log axes): the whole bill, and the part spent on finding
    the files (the bill minus the GET and output PUT every strategy pays), break-even rates marked."""
    fig, (total_ax, overhead_ax) = plt.subplots(1, 2, figsize=(12, 5.6), sharex=True)
    colours = {}
    for name, rows in table.groupby("deployment", sort=False):
        style = "--" if str(rows["kind"].iloc[0]).startswith("poll") else "-"
        (line,) = total_ax.plot(rows["files_per_day"], rows["monthly_usd"], style, label=name, linewidth=1.6)
        overhead_ax.plot(
            rows["files_per_day"], rows["discovery_usd"], style, color=line.get_color(), linewidth=1.6
        )
        colours[name] = line.get_color()
    notes = []
    for number, entry in enumerate((e for e in document["break_even"] if e.get("files_per_day")), start=1):
        rate = entry["files_per_day"]
        total_ax.plot(
            [rate],
            [entry["monthly_usd"]],
            "o",
            color=colours.get(entry["other"], "black"),
            markeredgecolor="black",
            markersize=6,
            zorder=5,
        )
        total_ax.annotate(
            str(number),
            xy=(rate, entry["monthly_usd"]),
            xytext=(-4, 6),
            textcoords="offset points",
            fontsize=8,
            fontweight="bold",
        )
        notes.append(f"({number}) {entry['other']}: {rate:,.0f} files/day")
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
    tier = "with the always-free tier" if document.get("free_tier") else "no free tier"
    fig.suptitle(f"Monthly cost against arrival rate ({tier})", x=0.01, ha="left")
    lines = [f"Break-even with '{document['baseline']}':"] if notes else ["No break-even in range."]
    lines += ["    ".join(notes[i : i + 3]) for i in range(0, len(notes), 3)]
    fig.text(0.01, 0.025, "\n".join(lines), fontsize=7.5, va="bottom")
    fig.text(0.01, 0.005, f"prices: {document['pricing']}", fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.1, 1, 0.96))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def timeline(records: pd.DataFrame, summary: dict, path: Path) -> Path:
    """Files written against files processed over time, per strategy: polling's staircase."""
    names = list(summary["strategies"])
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
        ax.set_title(f"{name} ({summary['strategies'][name]['kind']})", loc="left", fontsize=9)
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(loc="upper left", fontsize="small")
    axes[-1, 0].set_xlabel("seconds since the first file was written")
    fig.suptitle("Arrivals against processing: polling's staircase, events' shadow", x=0.01, ha="left")
    fig.text(0.01, 0.005, _caption(summary), fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.02, 1, 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def requests_per_file(summary: dict, path: Path) -> Path:
    """API requests per file by operation (stacked), and invocations per file, per strategy."""
    names = list(summary["strategies"])
    operations = sorted({op for s in summary["strategies"].values() for op in s["api_calls"]})
    fig, ax = plt.subplots(figsize=(max(8, 1.2 * len(names) + 5), 4.8))
    bottoms = np.zeros(len(names))
    files = np.array([max(1, s["files"]) for s in summary["strategies"].values()], dtype=float)
    for op in operations:
        values = np.array([s["api_calls"].get(op, 0) for s in summary["strategies"].values()]) / files
        if values.any():
            ax.bar(names, values, bottom=bottoms, label=op)
            bottoms += values
    invocations = np.array([s.get("invocations", 0) for s in summary["strategies"].values()]) / files
    ax.plot(names, invocations, "kD", label="Lambda invocations per file", markersize=6)
    ax.set_ylabel("per file")
    ax.set_title("Requests and invocations per file", loc="left")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(True, axis="y", alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return _save_with_caption(fig, summary, path)


def latency_vs_interval(summary: dict, path: Path) -> Path | None:
    """Poll latency (median, 5th-95th percentile bars) against the poll interval, events as bands.

    Drawn only when the scenario polls at two or more intervals. The dotted line is the textbook
    expectation for a listing at a uniformly random phase: half an interval on average.
    """
    polls = [
        (s["parameters"]["interval_s"], s)
        for s in summary["strategies"].values()
        if s["kind"] == "poll" and "interval_s" in s.get("parameters", {})
    ]
    if len({interval for interval, _ in polls}) < 2:
        return None
    polls.sort(key=lambda item: item[0])
    fig, ax = plt.subplots(figsize=(8, 4.8))
    intervals = np.array([i for i, _ in polls])
    p50 = np.array([s["latency_s"]["p50"] or np.nan for _, s in polls])
    p95 = np.array([s["latency_s"]["p95"] or np.nan for _, s in polls])
    mean = np.array([s["latency_s"]["mean"] or np.nan for _, s in polls])
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
    for name, s in summary["strategies"].items():
        if s["kind"] in ("poll", "scheduled-poll") or s["latency_s"]["p50"] is None:
            continue
        ax.axhspan(s["latency_s"]["p50"], s["latency_s"]["p95"], alpha=0.15)
        ax.axhline(s["latency_s"]["p50"], linewidth=0.8)
        ax.annotate(
            f"{name} p50-p95",
            xy=(intervals[0], s["latency_s"]["p50"]),
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
