"""``pve calibrate``: fit a latency profile (delivery delays, processing, listing) to a live run.

The fitted profile describes *this machine on this backend*: moto's in-process delivery, this
CPU's processing time, moto's listing speed. It is what the simulator needs to reproduce a live
run, and it is labelled as such; it is not AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.atomic import write_text_atomically
from bench.errors import InputError
from bench.results.files import Results
from bench.scenario.kinds import Kind
from bench.scenario.spec import KIND_SPECS

QUANTILES = np.linspace(0.0, 1.0, 101)
MAX_PAIRS = 2000


@dataclass(frozen=True)
class Calibration:
    """What a kind's live files can teach the simulator (the calibrate facet of a kind)."""

    route: str | None = None  # the profile route its detection delay measures (None: it polls)
    path: str | None = None  # only files handled on this path (a hybrid's events, not its sweep)
    polls: bool = False  # its task times are a poller's, free of delivery: the processing fit
    lists: bool = False  # its cycles time the listing (a long-running loop on S3)
    queueing: bool = False  # its delays include waits behind a queue's poller

    def rows(self, records: pd.DataFrame, strategy: str) -> pd.DataFrame:
        rows = records[records["strategy"] == strategy]
        return rows if self.path is None else rows[rows["path"] == self.path]


def _route(kind: Kind) -> str | None:
    return KIND_SPECS[kind].route


CALIBRATION: dict[Kind, Calibration] = {
    Kind.POLL: Calibration(polls=True, lists=True),
    Kind.SCHEDULED_POLL: Calibration(polls=True),
    Kind.S3_LAMBDA: Calibration(_route(Kind.S3_LAMBDA)),
    Kind.S3_SQS_LAMBDA: Calibration(_route(Kind.S3_SQS_LAMBDA), queueing=True),
    Kind.S3_EVENTBRIDGE_LAMBDA: Calibration(_route(Kind.S3_EVENTBRIDGE_LAMBDA)),
    # the whole delay (moto's topic and queue hops included) is fitted on the queue's last hop, as
    # for S3 -> SQS; where both ran, the first strategy's fit is the route's
    Kind.S3_SNS_SQS_LAMBDA: Calibration(_route(Kind.S3_SNS_SQS_LAMBDA), queueing=True),
    Kind.INOTIFY: Calibration(_route(Kind.INOTIFY)),
    Kind.HYBRID: Calibration(_route(Kind.HYBRID), path="events"),
}


def _empirical(values: np.ndarray, source: str) -> dict[str, Any] | None:
    values = values[np.isfinite(values)]
    if values.size < 5:
        return None
    qs = np.quantile(np.clip(values, 0.0, None), QUANTILES)
    return {
        "distribution": "empirical",
        "quantiles": [round(float(q), 4) for q in QUANTILES],
        "values_s": [round(float(v), 6) for v in qs],
        "source": source,
    }


def fit_profile(results: Results, name: str = "moto") -> dict[str, Any]:
    """A profile document fitted to ``results`` (a live run)."""
    summary = results.summary
    if not summary.is_live:
        raise InputError("calibrate from a live run, not a simulated one")
    records = results.records[results.records["outcome"] == "processed"]
    origin = (
        f"fitted by pve calibrate from {results.folder} ({results.scenario_name}, "
        f"{summary.finished_at or '?'})"
    )
    profile: dict[str, Any] = {
        "name": name,
        "description": f"Delivery, processing and listing times of one live run on "
        f"{summary.scenario.backend}: this machine, not AWS. {origin}.",
        "routes": {},
    }
    route_processing: dict[str, Any] = {}  # route -> paired samples
    for strategy, s in summary.strategies.items():
        rule = CALIBRATION[Kind(s.kind)]
        route = rule.route
        if route is None or route in profile["routes"]:
            continue
        rows = rule.rows(records, strategy)
        fitted = _empirical(
            (rows["detected_at"] - rows["written_at"]).to_numpy(dtype=float),
            f"detection delay of {strategy}; {origin}",
        )
        if fitted:
            profile["routes"][route] = fitted
        if rule.queueing:
            profile["sqs"] = {
                "delays_include_queueing": True,
                "source": "the delays were measured at the run's own load, waits behind the poller included",
            }
        # each file's delay and handler time (claim, task, close) as a pair: the simulator draws
        # whole pairs, so what the two share on a busy machine is kept
        delay = (rows["detected_at"] - rows["written_at"]).to_numpy(dtype=float)
        handled = (rows["finished_at"] - rows["detected_at"]).to_numpy(dtype=float)
        keep = np.isfinite(delay) & np.isfinite(handled)
        if keep.sum() >= 5:
            step = max(1, int(keep.sum()) // MAX_PAIRS)
            route_processing[route] = {
                "delay_s": [round(float(v), 6) for v in delay[keep][::step]],
                "handler_s": [round(float(v), 6) for v in np.maximum(0.0, handled[keep])[::step]],
                "source": f"per-file delivery delay and handler time, {strategy}; {origin}",
            }
    polls = records[
        records["strategy"].isin(
            [n for n, s in summary.strategies.items() if CALIBRATION[Kind(s.kind)].polls]
        )
    ]
    source, label = (polls, "poll strategies") if len(polls) >= 5 else (records, "all strategies")
    processing = _empirical(
        (source["finished_at"] - source["started_at"]).to_numpy(dtype=float),
        f"task time, {label}; {origin}",
    )
    if processing:
        profile["processing"] = processing
    if route_processing:
        profile["route_samples"] = route_processing
    listing = fit_listing(results)
    if listing:
        profile["listing"] = {**listing, "source": f"least squares on poll cycles; {origin}"}
    profile["cold_start"] = {
        "probability": 0.0,
        "source": "cold starts of a live run are in its measured delays",
    }
    return profile


def fit_listing(results: Results) -> dict[str, float] | None:
    """Listing time = base + per_object x objects listed, from each poll cycle's first detection."""
    xs, ys = [], []
    for strategy, s in results.summary.strategies.items():
        if not CALIBRATION[Kind(s.kind)].lists or s.backend == "folder" or not s.repetitions:
            continue
        starts = np.asarray(s.repetitions[0].cycle_starts or [], dtype=float)
        rows = results.records[
            (results.records["strategy"] == strategy) & (results.records["repetition"] == 0)
        ]
        if starts.size < 2 or rows.empty:
            continue
        detected = rows["detected_at"].to_numpy(dtype=float)
        written = np.sort(rows["written_at"].to_numpy(dtype=float))
        cycle = np.searchsorted(starts, detected, side="right") - 1
        ok = np.isfinite(detected) & (cycle >= 0)
        frame = pd.DataFrame({"cycle": cycle[ok], "lag": detected[ok] - starts[cycle[ok]]})
        for index, lag in frame.groupby("cycle")["lag"].min().items():
            xs.append(float(np.searchsorted(written, starts[int(index)])))
            ys.append(float(lag))
    if len(xs) < 3:
        return None
    slope, intercept = np.polyfit(np.asarray(xs), np.asarray(ys), 1)
    return {"base_s": round(max(0.0, float(intercept)), 6), "per_object_s": round(max(0.0, float(slope)), 9)}


def write_profile(profile: dict[str, Any], path: Path) -> Path:
    """Write a profile as TOML (routes as tables, quantile lists inline)."""
    lines = [f'name = "{profile["name"]}"', f"description = {_toml(profile['description'])}", ""]
    for route, spec in profile.get("routes", {}).items():
        lines.append(f"[routes.{route}]")
        lines += [f"{k} = {_toml(v)}" for k, v in spec.items()]
        lines.append("")
    for section in ("processing", "listing", "sqs", "cold_start"):
        if section in profile:
            lines.append(f"[{section}]")
            lines += [f"{k} = {_toml(v)}" for k, v in profile[section].items()]
            lines.append("")
    for route, spec in profile.get("route_samples", {}).items():
        lines.append(f"[route_samples.{route}]")
        lines += [f"{k} = {_toml(v)}" for k, v in spec.items()]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, "\n".join(lines))
    return path


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
