"""Seeded workloads: when files arrive (arrival processes) and what they contain.

Arrival times are in *scenario* seconds; a run divides them by ``time_scale`` so that an hour of
arrivals can play in seconds while records keep both clocks. Everything is a pure function of
the scenario and its seed: two runs of one scenario write byte-identical files at the same times.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from bench.errors import InputError
from bench.scenario.spec import MAX_SPAN_S, Arrivals, Content, Workload

ODD_TAILS = ("", " with space", "+plus", "%percent", "-ünïcödé", "-emoji😀", "&a=b", "~tilde (1)")
EXTENSIONS = {"csv": ".csv", "image": ".png", "bytes": ".bin"}


@dataclass(frozen=True)
class FileSpec:
    """One file of the workload: its key and when it arrives (scenario seconds from the start)."""

    index: int
    key: str
    arrival_s: float
    corrupt: bool = False


@dataclass(frozen=True)
class PlannedWorkload:
    """The files of one workload, in arrival order, and how to make their bytes."""

    files: tuple[FileSpec, ...]
    content: Content
    time_scale: float
    seed: int

    def body(self, spec: FileSpec) -> bytes:
        return make_content(self.content, spec.index, self.seed, corrupt=spec.corrupt)

    @property
    def duration_s(self) -> float:
        """Scenario seconds from the first to the last arrival."""
        return self.files[-1].arrival_s if self.files else 0.0

    def real_offset(self, spec: FileSpec) -> float:
        return spec.arrival_s / self.time_scale


# -- arrival processes ---------------------------------------------------------------------------
def arrival_times(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times in scenario seconds."""
    generators = {
        "constant": _constant,
        "poisson": _poisson,
        "bursts": _bursts,
        "onoff": _onoff,
        "diurnal": _diurnal,
    }
    if spec.process == "replay":  # a trace honours count and duration_s as a process does
        times = replay_times(spec.replay_path or "")
    else:
        times = generators[spec.process](spec, rng)
    if spec.duration_s is not None:
        times = times[times <= spec.duration_s]
    if spec.count is not None:
        times = times[: spec.count]
    return times


def _target_count(spec: Arrivals, rate: float) -> int:
    """How many points to draw: the count, or enough to cover the duration with margin."""
    if spec.count is not None:
        return spec.count
    expected = rate * float(spec.duration_s or 0.0)
    return int(expected + 10 * math.sqrt(expected + 1) + 10)


def _constant(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    rate = float(spec.rate_per_s or 1.0)
    return np.arange(_target_count(spec, rate)) / rate


def _poisson(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    rate = float(spec.rate_per_s or 1.0)
    return np.cumsum(rng.exponential(1.0 / rate, _target_count(spec, rate)))


def _bursts(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    per_second = spec.burst_size / spec.burst_interval_s
    n = _target_count(spec, per_second)
    burst = np.arange(n) // spec.burst_size
    spread = rng.uniform(0.0, spec.burst_spread_s, n) if spec.burst_spread_s else np.zeros(n)
    return np.sort(burst * spec.burst_interval_s + spread)


def _onoff(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    rate = float(spec.rate_per_s or 1.0)
    duty = spec.on_s / (spec.on_s + spec.off_s)
    on_time = np.cumsum(rng.exponential(1.0 / rate, _target_count(spec, rate * duty)))
    return on_time + np.floor(on_time / spec.on_s) * spec.off_s


def _diurnal(spec: Arrivals, rng: np.random.Generator) -> np.ndarray:
    """Poisson with rate ``r(t) = mean * (1 - a cos(2 pi t / P))``, by inverting its integral."""
    mean = float(spec.rate_per_s or 1.0)
    a = (spec.peak_to_trough - 1.0) / (spec.peak_to_trough + 1.0)
    period = spec.period_s
    n = _target_count(spec, mean)
    unit = np.cumsum(rng.exponential(1.0, n))  # a unit-rate Poisson process
    horizon = unit[-1] / mean * 1.05 + period if n else period
    grid = np.linspace(0.0, horizon, max(1000, int(horizon / period * 2000)))
    integral = mean * (grid - a * period / (2 * math.pi) * np.sin(2 * math.pi * grid / period))
    return np.interp(unit, integral, grid)


def replay_times(path: str) -> np.ndarray:
    """Arrival times from a CSV with an ``arrival_s`` column (sorted for you)."""
    try:
        frame = pd.read_csv(Path(path))
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"cannot read replay file {path}: {exc}") from exc
    if "arrival_s" not in frame.columns:
        raise InputError(f"replay file {path} needs an 'arrival_s' column")
    times = pd.to_numeric(frame["arrival_s"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(times).all() or (times < 0).any() or (times > MAX_SPAN_S).any():
        raise InputError(
            f"replay file {path}: arrival_s must be numbers from 0 to {MAX_SPAN_S:g} (ten years)"
        )
    return np.sort(times)


# -- keys and contents -------------------------------------------------------------------------
def make_key(workload: Workload, index: int) -> str:
    """``<prefix><index, zero-padded><tail><ext>``: sorts in arrival order (for start-after)."""
    tail = ODD_TAILS[(index // 4) % len(ODD_TAILS)] if workload.key_style == "odd" and index % 4 == 3 else ""
    return f"{workload.prefix}{index:06d}{tail}{EXTENSIONS[workload.content.kind]}"


def plan_workload(workload: Workload, seed: int) -> PlannedWorkload:
    """Arrival times and keys for every file, from the scenario's seed."""
    rng = np.random.default_rng(seed)
    times = arrival_times(workload.arrivals, rng)
    every = workload.content.corrupt_every
    files = tuple(
        FileSpec(i, make_key(workload, i), float(t), corrupt=bool(every) and (i + 1) % every == 0)
        for i, t in enumerate(times)
    )
    return PlannedWorkload(files, workload.content, workload.time_scale, seed)


def make_content(content: Content, index: int, seed: int, *, corrupt: bool = False) -> bytes:
    """The bytes of file ``index``; the same for the same (content, index, seed)."""
    rng = np.random.default_rng([seed, index])
    if corrupt:
        # half the corrupt files are empty, half are bytes that are neither UTF-8 nor an image
        return b"" if (index // 2) % 2 == 0 else b"\xff\xfe\x00garbage\x80\x81" + rng.bytes(64)
    if content.kind == "csv":
        return _csv(content, rng)
    if content.kind == "image":
        return _image(content, rng)
    return rng.bytes(content.size_bytes)


def _csv(content: Content, rng: np.random.Generator) -> bytes:
    names = ["id", "label"] + [f"value_{i}" for i in range(max(0, content.columns - 2))]
    names = names[: content.columns]
    out = io.StringIO()
    out.write(",".join(names) + "\n")
    values = np.round(rng.normal(100.0, 25.0, (content.rows, max(0, content.columns - 2))), 3)
    for r in range(content.rows):
        cells = [str(r), f"item-{int(rng.integers(0, 1000))}"][: content.columns]
        cells += [repr(float(v)) for v in values[r]]
        out.write(",".join(cells) + "\n")
    return out.getvalue().encode()


def _image(content: Content, rng: np.random.Generator) -> bytes:
    image = Image.new("RGB", (content.width, content.height), tuple(int(c) for c in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = int(rng.integers(0, content.width)), int(rng.integers(0, content.height))
        x1, y1 = x0 + int(rng.integers(10, 200)), y0 + int(rng.integers(10, 200))
        draw.rectangle((x0, y0, x1, y1), fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
