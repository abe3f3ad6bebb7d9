"""Is a live run measuring the strategy, or the harness and the machine it runs on?

While a strategy runs, a sampler thread watches the process's CPU and the runtime's backlog
(files written but not yet final); the writer keeps each write's start delay and the client
factory times every request. ``judge_health`` (pure) turns those into a verdict with reasons,
against thresholds stated once in ``HarnessThresholds``. A strategy marked bound is not slow: its
numbers say how fast this machine could play the workload, so they must not be compared as a
finding (``pve compare`` refuses; the table and the charts say so).

A backlog is judged against what the strategy's design holds back on purpose (issue 22): a poller
keeps every file written since its last cycle until its next one, a delivery delay keeps every
file still in flight. ``design_hold_s`` says for how long a strategy holds a file by design and
``design_backlog`` how many files the workload wrote within that long; only growth beyond that
is the runtime falling behind. Without it a calm poll-5s run at 20 files/s was called bound.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bench.results.model import HarnessCheck, RequestTimes
from bench.scenario.spec import Strategy, kind_spec

DELIVERY_QUANTILE = 0.99  # a delivery delay holds a file this long at most, as the profile draws it


@dataclass(frozen=True)
class HarnessThresholds:
    """When a run's numbers are the harness's, not the strategy's (documented in the README).

    * ``writer_lag_p95_s``: the writer starts 95% of its writes within this of their schedule
      (issue 14: "the writer keeps up within 100 ms"); a later writer means files arrived later
      and more bunched than the scenario says.
    * ``writer_lag_max_s``: no write starts later than this.
    * ``cpu_cores``: the process used at least this many cores over the run: one Python process
      holds the GIL, so about one core is all it can use; at 0.9 it is saturated.
    * ``backlog_growth`` and ``backlog_min_files``: the backlog (written, not yet final) in the
      second half of the writing is on average more than this factor above the first half and by
      more than this many files and more than the strategy's design holds (``design_backlog``):
      the runtime is falling behind, not settling or waiting by design (a poller's saw-tooth
      rises by up to a cycle's files, a delivery delay's ramp by the files in flight).
    * ``request_p95_s``: 95% of the backend's requests (long polls excluded) answer within this;
      moto in-process answers a small PUT or GET in a few milliseconds on an idle core.
    """

    writer_lag_p95_s: float = 0.100
    writer_lag_max_s: float = 1.0
    cpu_cores: float = 0.9
    backlog_growth: float = 1.5
    backlog_min_files: int = 10
    request_p95_s: float = 0.050
    min_writing_s: float = 2.0  # the backlog trend needs at least this much writing to mean anything


THRESHOLDS = HarnessThresholds()


@dataclass
class HealthSamples:
    """What the sampler saw: (seconds since start, backlog) pairs and the CPU over the run."""

    times_s: list[float] = field(default_factory=list)
    backlog: list[int] = field(default_factory=list)
    cpu_s: float = 0.0  # process CPU over the writing (the whole run if it never finished)
    wall_s: float = 0.0
    load_after: float | None = None


class HealthMonitor:
    """Samples the backlog every ``interval_s`` in a daemon thread; ``stop`` returns the samples."""

    def __init__(
        self, written: Callable[[], int], final: Callable[[], int], *, interval_s: float = 0.2
    ) -> None:
        self._written, self._final, self.interval_s = written, final, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pve-health", daemon=True)
        self.samples = HealthSamples()
        self._t0 = self._cpu0 = 0.0
        self.writing: tuple[float, float] | None = None

    def start(self) -> HealthMonitor:
        self._t0, self._cpu0 = time.monotonic(), time.process_time()
        self._thread.start()
        return self

    def writer_done(self, lead_s: float) -> None:
        """Mark the end of the writing (which began ``lead_s`` after ``start``): the backlog trend
        and the CPU share are judged over the writing only (a long idle drain would dilute it)."""
        self.writing = (lead_s, time.monotonic() - self._t0)
        self.samples.cpu_s = time.process_time() - self._cpu0
        self.samples.wall_s = self.writing[1]

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        self.samples.times_s.append(time.monotonic() - self._t0)
        self.samples.backlog.append(max(0, self._written() - self._final()))

    def stop(self) -> HealthSamples:
        self._stop.set()
        self._thread.join(2.0)
        if self.writing is None:  # the writer never finished: CPU over the whole run
            self.samples.cpu_s = time.process_time() - self._cpu0
            self.samples.wall_s = time.monotonic() - self._t0
        self.samples.load_after = _load_average()
        return self.samples


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:  # not on every platform
        return None


def request_stats(seconds: dict[str, list[float]]) -> dict[str, RequestTimes]:
    """Per role: requests timed, p50, p95 and max seconds."""
    out: dict[str, RequestTimes] = {}
    for role, values in sorted(seconds.items()):
        if not values:
            continue
        array = np.asarray(values)
        out[role] = RequestTimes(
            n=int(array.size),
            p50=round(float(np.percentile(array, 50)), 6),
            p95=round(float(np.percentile(array, 95)), 6),
            max=round(float(array.max()), 6),
        )
    return out


def design_hold_s(spec: Strategy, profile: Any | None = None) -> float:
    """Seconds a strategy holds a new file back by design before it can be final.

    A poller: its interval, plus how old a file must be (``min_age_s``) and its jitter, since a
    file written just after a cycle waits for the next. A batching window holds a batch open.
    A delivery route: the latency profile's delay over its legs (their 99th percentiles added,
    a bound on the draw the live runtime adds). A hybrid's sweep is its reconciliation, not its
    delivery, so only its events' route counts.
    """
    hold = spec.settings_hold_s
    if profile is not None:
        hold += sum(
            profile.distribution(route).quantile(DELIVERY_QUANTILE) for route in kind_spec(spec.kind).routes
        )
    return hold


def design_backlog(arrivals_s: Sequence[float], hold_s: float) -> int:
    """The most files written within any ``hold_s`` of each other: what a strategy that holds a
    file ``hold_s`` by design may leave unprocessed at a time while keeping up (a poisson or
    bursty workload bunches files, so the mean rate alone would understate it)."""
    if hold_s <= 0 or not arrivals_s:
        return 0
    times = np.sort(np.asarray(arrivals_s, dtype=float))
    ends = np.searchsorted(times, times + hold_s, side="right")
    return int((ends - np.arange(times.size)).max())


def backlog_halves(
    samples: HealthSamples, writing: tuple[float, float] | None
) -> tuple[float | None, float | None]:
    """Mean backlog over the first and second half of the writing window (seconds since the
    monitor started; None when there is nothing to say)."""
    if writing is None or not samples.times_s:
        return None, None
    start, end = writing
    middle = (start + end) / 2
    times = np.asarray(samples.times_s)
    backlog = np.asarray(samples.backlog, dtype=float)
    first = backlog[(times >= start) & (times < middle)]
    second = backlog[(times >= middle) & (times <= end)]
    if first.size == 0 or second.size == 0:
        return None, None
    return round(float(first.mean()), 2), round(float(second.mean()), 2)


def judge_health(
    *,
    writer_lags_s: list[float],
    samples: HealthSamples,
    writing: tuple[float, float] | None,
    request_seconds: dict[str, list[float]],
    thresholds: HarnessThresholds = THRESHOLDS,
    cores: int | None = None,
    design_files: int = 0,
) -> HarnessCheck:
    """Pure: the run's measurements in, the verdict and its reasons out. ``design_files`` is
    the backlog the strategy's design holds while keeping up (``design_backlog``)."""
    t = thresholds
    lags = np.asarray(writer_lags_s) if writer_lags_s else np.zeros(1)
    lag_p95, lag_max = float(np.percentile(lags, 95)), float(lags.max())
    cpu = samples.cpu_s / samples.wall_s if samples.wall_s > 0 else 0.0
    first, second = backlog_halves(samples, writing)
    writing_s = None if writing is None else writing[1] - writing[0]
    requests = request_stats(request_seconds)
    reasons: list[str] = []
    if lag_p95 > t.writer_lag_p95_s:
        reasons.append(
            f"the writer fell behind its schedule (p95 {lag_p95 * 1000:.0f} ms > "
            f"{t.writer_lag_p95_s * 1000:.0f} ms)"
        )
    elif lag_max > t.writer_lag_max_s:
        reasons.append(f"a write started {lag_max:.2f} s late (> {t.writer_lag_max_s:g} s)")
    if cpu >= t.cpu_cores:
        reasons.append(
            f"the process used {cpu:.2f} CPU cores (>= {t.cpu_cores:g}; one Python process gets about one)"
        )
    if (
        writing_s is not None
        and writing_s >= t.min_writing_s
        and first is not None
        and second is not None
        and second > first * t.backlog_growth
        and second - first >= max(t.backlog_min_files, design_files)
    ):
        held = f", more than the {design_files} its design holds" if design_files else ""
        reasons.append(
            f"the backlog grew while writing (mean {first:.0f} -> {second:.0f} files written but not "
            f"yet processed{held}): the runtime fell behind"
        )
    slow = {
        role: r.p95
        for role, r in requests.items()
        if role != "setup" and r.p95 > t.request_p95_s and r.n >= 20
    }
    if slow:
        worst = max(slow, key=lambda role: slow[role])
        reasons.append(
            f"the backend's requests were slow ({worst}: p95 {slow[worst] * 1000:.0f} ms > "
            f"{t.request_p95_s * 1000:.0f} ms)"
        )
    load = samples.load_after
    n_cores = cores or os.cpu_count() or 1
    if reasons and load is not None and load > n_cores:
        reasons.append(f"the machine was shared: 1-min load average {load:.1f} on {n_cores} cores")
    return HarnessCheck(
        bound=bool(reasons),
        reasons=reasons,
        writer_lag_p95_s=round(lag_p95, 6),
        writer_lag_max_s=round(lag_max, 6),
        cpu_cores_used=round(cpu, 3),
        backlog_max=max(samples.backlog, default=0),
        backlog_first_half=first,
        backlog_second_half=second,
        backlog_design=design_files,
        request_s=requests,
        load_average=load,
        cores=n_cores,
        thresholds={k: float(v) for k, v in asdict(t).items()},
    )


def merge_health(verdicts: list[HarnessCheck]) -> HarnessCheck:
    """Several repetitions: bound if any was, with every distinct reason; metrics of the worst."""
    if not verdicts:
        return HarnessCheck()
    worst = max(verdicts, key=lambda v: (v.bound, v.writer_lag_p95_s))
    reasons = list(dict.fromkeys(r for v in verdicts for r in v.reasons))
    return worst.model_copy(update={"bound": any(v.bound for v in verdicts), "reasons": reasons})
