"""Arrival times for the simulator, in chunks, from the same seeded processes as live runs.

Up to ``chunk_files`` arrivals the workload's own generator is used, so a simulation of a live
scenario sees exactly the arrivals the live run wrote. Longer horizons are drawn chunk by chunk
(a month at a million files a day is thirty million arrivals), from the same process definitions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from bench.errors import InputError
from bench.scenario.spec import MAX_SPAN_S, Arrivals
from bench.scenario.workload import arrival_times

CHUNK_FILES = 5_000_000


def scaled_arrivals(spec: Arrivals, *, days: float | None, files_per_day: float | None) -> Arrivals:
    """The scenario's process stretched to ``days`` at ``files_per_day`` (count dropped)."""
    changes: dict[str, object] = {}
    if days is not None:
        changes["duration_s"] = days * 86400.0
        changes["count"] = None
    if files_per_day is not None:
        rate = files_per_day / 86400.0
        if spec.process == "bursts":
            changes["burst_interval_s"] = spec.burst_size / rate
        else:
            changes["rate_per_s"] = rate
    if not changes:
        return spec
    data = spec.model_dump()
    data.update(changes)
    return Arrivals.model_validate(data)


def settle_replay(spec: Arrivals) -> Arrivals:
    """A replayed trace with its count and period filled in from the trace when the scenario leaves
    them out (the simulator's horizon and steady-state bucket come from them, as for any process)."""
    if spec.process != "replay" or (spec.count is not None and spec.duration_s is not None):
        return spec
    times = arrival_times(spec, np.random.default_rng(0))  # a trace draws nothing
    if not times.size:
        raise InputError(f"replay file {spec.replay_path}: no arrivals")
    data = spec.model_dump()
    data["count"] = spec.count if spec.count is not None else int(times.size)
    period = min(float(times[-1]) + 1.0, MAX_SPAN_S)
    data["duration_s"] = spec.duration_s if spec.duration_s is not None else period
    return Arrivals.model_validate(data)


def expected_count(spec: Arrivals) -> float:
    if spec.count is not None:
        return float(spec.count)
    rate = (
        spec.burst_size / spec.burst_interval_s if spec.process == "bursts" else float(spec.rate_per_s or 0)
    )
    if spec.process == "onoff":
        rate *= spec.on_s / (spec.on_s + spec.off_s)
    return rate * float(spec.duration_s or 0.0)


def arrival_chunks(spec: Arrivals, seed: int, chunk_files: int = CHUNK_FILES) -> Iterator[np.ndarray]:
    """Sorted arrival times (scenario seconds), ``chunk_files`` at a time."""
    if spec.process == "replay" or expected_count(spec) <= chunk_files:
        yield arrival_times(spec, np.random.default_rng(seed))
        return
    if spec.process not in ("poisson", "constant", "onoff", "diurnal"):
        raise InputError(
            f"a long simulation of {spec.process!r} arrivals is not supported; use a count "
            f"under {chunk_files:,} or a poisson, constant, onoff or diurnal process"
        )
    rng = np.random.default_rng(seed)
    horizon = float(spec.duration_s) if spec.duration_s is not None else math.inf
    limit = spec.count if spec.count is not None else None
    produced, clock = 0, 0.0
    rate = float(spec.rate_per_s or 1.0)
    transform = _transform(spec, horizon)
    while True:
        n = chunk_files if limit is None else min(chunk_files, limit - produced)
        if n <= 0:
            return
        if spec.process == "constant":
            unit = (produced + np.arange(n)) / rate
        else:  # in place: one 40 MB array per chunk, not three (clock + c[i] either way)
            unit = rng.exponential(1.0 / rate, n)
            np.cumsum(unit, out=unit)
            unit += clock
            clock = float(unit[-1])
        times = transform(unit)
        del unit
        inside = int(np.searchsorted(times, horizon, side="right"))  # sorted: those inside are a prefix
        if inside:
            yield times[:inside]  # a view, not a copy
        produced += n
        if inside < times.size:
            return
        del times  # while the next chunk is drawn, only the consumer holds this one


def _transform(spec: Arrivals, horizon: float):  # type: ignore[no-untyped-def]
    """Map a homogeneous process onto the scenario's (the same formulas as ``bench.scenario.workload``)."""
    if spec.process == "onoff":
        return lambda t: t + np.floor(t / spec.on_s) * spec.off_s
    if spec.process == "diurnal":
        mean = float(spec.rate_per_s or 1.0)
        a = (spec.peak_to_trough - 1.0) / (spec.peak_to_trough + 1.0)
        period = spec.period_s
        end = (horizon if math.isfinite(horizon) else 86400.0 * 365) + period
        grid = np.linspace(0.0, end, max(1000, int(end / period * 2000)))
        integral = mean * (grid - a * period / (2 * math.pi) * np.sin(2 * math.pi * grid / period))
        return lambda t: np.interp(t * mean, integral, grid)
    return lambda t: t
