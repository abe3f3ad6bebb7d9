"""How fast can this machine play a workload live? The floor, and each strategy's knee.

The floor is what one file costs any strategy at the least: a bare, single-thread loop of
PUT (the writer), GET and PUT (the task's read and its output) on the same backend, measured in
the same run. A strategy's knee is the highest offered rate at which every file is processed,
the writer keeps its schedule (p95 start delay within ``WRITER_OK_S``) and the latency says the
runtime kept up: for the event routes under the ``instant`` profile, p95 within
``EVENT_P95_SLACK_S`` of the floor's per-file time; for a poll, p95 within ``POLL_P95_INTERVALS``
intervals (a poll that keeps up finds a file within one interval and finishes that cycle's files
before the next is due; later, its cycles run behind). Without the poll's rule a poll falling
further behind every cycle passed whenever the drain let it catch up after the writing stopped.

The grid of offered rates is coarse (steps of 0.1-0.25x the floor), so after it each strategy is
played alone at the midpoint between its knee and the first rate above it that failed, a few times
(bisection): a knee at 0.78x is then reported as such, not as the 0.65x the grid passed last.
A strategy that failed even the grid's lowest rate is searched below it the same way.

Before and after the sweep each event route's own floor is measured too (``bench.live.route_floor``: the
least work the route needs per file, without the runtime around it), so that a knee below the
in-process floor says which part is the route's by construction (the SQS route's receive and
delete, notification building) and which the live harness's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import InputError
from bench.live.backends import fresh_backend
from bench.live.heap import settled_heap_frozen
from bench.live.progress import ProgressReporter, QuietProgress
from bench.live.route_floor import RouteFloor, route_floors
from bench.live.runner import run_scenario
from bench.results.model import StrategyResult
from bench.scenario.kinds import FAMILIES, Family, family
from bench.scenario.spec import NEEDS_MOTO_IN_PROCESS, Scenario

WRITER_OK_S = 0.100  # issue 14: "the writer keeps up within 100 ms"
EVENT_P95_SLACK_S = 0.050  # event routes' p95 within 50 ms of the floor's per-file time
POLL_P95_INTERVALS = 2.0  # a poll's p95 within two of its intervals: it finished each cycle in time
# the kinds judged as event routes: a notification reaches a function through AWS (bench.scenario.kinds)
EVENT_KINDS = frozenset(str(k) for k, f in FAMILIES.items() if f.lambda_delivered)
DEFAULT_FRACTIONS = (0.25, 0.5, 0.65, 0.8, 0.9, 1.0, 1.2)
FLOOR_DRIFT_OK = 0.2  # floors before and after the sweep further apart than this: ratios unreliable
DEFAULT_REFINE_STEPS = 3  # bisection steps per strategy after the grid (a 0.15x step -> under 0.02x)
MIN_REFINE_GAP = 0.01  # stop bisecting when the bracket is narrower than this fraction of the floor


@dataclass(frozen=True)
class Floor:
    """A bare put+get+put loop's rate on one backend."""

    backend: str
    files: int
    seconds: float

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds

    @property
    def per_file_s(self) -> float:
        return self.seconds / self.files

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "files_per_s": round(self.files_per_s, 2),
            "per_file_s": round(self.per_file_s, 6),
        }


def measure_floor(backend: str = "moto", files: int = 300, body: bytes = b"a,b\n1,2\n" * 40) -> Floor:
    """Time ``files`` rounds of put + get + put, one thread, on a fresh ``backend``."""
    with fresh_backend(backend, bucket="pve-floor") as env:
        s3 = env.client("s3", "writer")
        for i in range(10):  # warm the client and moto's code paths
            s3.put_object(Bucket=env.bucket, Key=f"warm/{i}", Body=body)
        with settled_heap_frozen():  # as a live run's timed part is (bench.live.heap)
            started = time.perf_counter()
            for i in range(files):
                key = f"incoming/{i:08d}.csv"
                s3.put_object(Bucket=env.bucket, Key=key, Body=body)
                data = s3.get_object(Bucket=env.bucket, Key=key)["Body"].read()
                s3.put_object(Bucket=env.bucket, Key=f"summaries/{i:08d}.json", Body=data[:64])
            return Floor(backend, files, time.perf_counter() - started)


@dataclass(frozen=True)
class CapacityPoint:
    """One strategy at one offered rate."""

    rate_per_s: float
    files: int
    processed: int
    writer_lag_p95_s: float
    writer_lag_max_s: float
    p50_s: float | None
    p95_s: float | None
    mean_batch_size: float | None
    cpu_cores_used: float | None
    harness_bound: bool
    ok: bool
    why_not: list[str]
    stage: str = "grid"  # "grid", or "refine": a bisection step after the grid
    # the function's environments: on one core, Lambda's scale-out is time-slicing, so more than
    # one at once (or a cold start after the first) says why an event route's p95 rose
    cold_starts: int | None = None
    peak_concurrency: int | None = None


def judge_point(
    kind: str, rate: float, strategy: StrategyResult, floor_per_file_s: float, stage: str = "grid"
) -> CapacityPoint:
    """Pure: did this strategy keep up at this rate, and if not, why."""
    harness = strategy.harness
    lag_p95 = harness.writer_lag_p95_s if harness else 0.0
    p95 = strategy.latency_s.p95
    why: list[str] = []
    if strategy.processed < strategy.files:
        why.append(f"{strategy.files - strategy.processed} file(s) not processed")
    if lag_p95 > WRITER_OK_S:
        why.append(f"writer p95 lag {lag_p95 * 1000:.0f} ms > {WRITER_OK_S * 1000:.0f} ms")
    interval = strategy.interval_s
    event_route = family(kind).lambda_delivered
    if not event_route and interval and p95 is not None and p95 > POLL_P95_INTERVALS * interval:
        why.append(
            f"p95 {p95:.2f} s > {POLL_P95_INTERVALS:g} x the {interval:g} s interval: cycles ran behind"
        )
    if event_route and (p95 is None or p95 > floor_per_file_s + EVENT_P95_SLACK_S):
        why.append(
            f"p95 {'-' if p95 is None else f'{p95 * 1000:.0f} ms'} > floor per file "
            f"{floor_per_file_s * 1000:.1f} ms + {EVENT_P95_SLACK_S * 1000:.0f} ms"
        )
    # messages per batch the mapping delivered (S3's s3:TestEvent included, as on AWS)
    batches, records = strategy.counter("batches"), strategy.counter("records")
    if not batches:  # counters of an older run: files per invocation
        batches, records = float(strategy.invocations), float(strategy.processed)
    batch = records / batches if family(kind) is Family.QUEUE and batches else None
    peak = strategy.counter("peak_invokers") or strategy.counter("sqs_peak_batches")
    return CapacityPoint(
        rate_per_s=rate,
        files=strategy.files,
        processed=strategy.processed,
        writer_lag_p95_s=lag_p95,
        writer_lag_max_s=harness.writer_lag_max_s if harness else 0.0,
        p50_s=strategy.latency_s.p50,
        p95_s=p95,
        mean_batch_size=None if batch is None else round(batch, 2),
        cpu_cores_used=harness.cpu_cores_used if harness else None,
        harness_bound=bool(harness and harness.bound),
        ok=not why,
        why_not=why,
        stage=stage,
        cold_starts=strategy.cold_starts if event_route else None,
        peak_concurrency=int(peak) if event_route and peak else None,
    )


def knee(points: list[CapacityPoint]) -> float | None:
    """The highest rate that held, with every lower rate holding too (None if the first failed)."""
    best = None
    for point in sorted(points, key=lambda p: p.rate_per_s):
        if not point.ok:
            break
        best = point.rate_per_s
    return best


def failed_below_a_hold(points: list[CapacityPoint]) -> tuple[float | None, list[float]]:
    """(the highest rate that held, the rates below it that failed). A failure under a rate that
    held is a chance event (a pause that seeded a cascade of cold starts, a slow moment of the
    machine) more than a limit: the knee stays the conservative one, and this says so."""
    held = [p.rate_per_s for p in points if p.ok]
    if not held:
        return None, []
    top = max(held)
    return top, sorted({p.rate_per_s for p in points if not p.ok and p.rate_per_s < top})


def bracket(points: list[CapacityPoint]) -> tuple[float, float] | None:
    """(knee, the first rate above it that failed): where the true knee lies; None when no rate
    held or none failed (then there is nothing to bisect)."""
    best = knee(points)
    if best is None:
        return None
    above = sorted(p.rate_per_s for p in points if p.rate_per_s > best and not p.ok)
    return (best, above[0]) if above else None


def next_refine_rate(points: list[CapacityPoint], floor_files_per_s: float) -> float | None:
    """The bisection's next rate (the bracket's midpoint, to 0.1 files/s), or None when there is
    no bracket or it is already narrower than ``MIN_REFINE_GAP`` of the floor. When no rate held,
    the bracket is (0, the lowest rate tried): the search goes below the grid instead of giving up."""
    span = bracket(points)
    if span is None and points and knee(points) is None:
        span = (0.0, min(p.rate_per_s for p in points))
    if span is None or span[1] - span[0] < MIN_REFINE_GAP * floor_files_per_s:
        return None
    mid = round((span[0] + span[1]) / 2, 1)
    return mid if span[0] < mid < span[1] else None


def strategy_entry(
    kind: str,
    points: list[CapacityPoint],
    floor_files_per_s: float,
    backend_floor: Floor | None = None,
    own_floors: list[RouteFloor] | None = None,
) -> dict[str, Any]:
    """One strategy's part of ``capacity.json``: its knee, where it lies, and every point by rate."""
    best = knee(points)
    span = bracket(points)
    top_held, failed_under = failed_below_a_hold(points)
    return {
        "kind": kind,
        "knee_files_per_s": best,
        "knee_vs_floor": None if best is None else round(best / floor_files_per_s, 3),
        # against the least work the route itself needs (bench.live.route_floor), each way played
        "knee_vs_route_floors": {
            f.label: None if best is None else round(best / f.files_per_s, 3) for f in own_floors or []
        },
        # over HTTP: against the one-thread floor of that backend (null in process)
        "knee_vs_backend_floor": None
        if best is None or backend_floor is None
        else round(best / backend_floor.files_per_s, 3),
        # the true knee lies in [knee, first failing rate above it]; null bound: none failed
        "knee_bracket_files_per_s": None if best is None else [best, None if span is None else span[1]],
        "refine_points": sum(p.stage == "refine" for p in points),
        # the knee is the highest rate with every lower one holding; these say where that is
        # conservative: the highest rate that held at all, and the rates under it that failed
        "highest_held_files_per_s": top_held,
        "failed_below_highest_held": failed_under,
        "points": [asdict(p) for p in sorted(points, key=lambda p: p.rate_per_s)],
    }


def verdict(point: CapacityPoint) -> str:
    text = "ok" if point.ok else "NO: " + "; ".join(point.why_not)
    if point.cold_starts is not None and point.cold_starts > 1:
        text += f" ({point.cold_starts} cold starts, up to {point.peak_concurrency or '?'} at once)"
    return text


def only(scenario: Scenario, name: str) -> Scenario:
    """``scenario`` with one of its strategies (a bisection step plays that strategy alone)."""
    return scenario.model_copy(update={"strategies": [s for s in scenario.strategies if s.name == name]})


def scenario_at(scenario: Scenario, rate: float, seconds: float, backend: str | None) -> Scenario:
    """``scenario`` with constant arrivals at ``rate`` for ``seconds``, instant profile, one repetition."""
    data = scenario.model_dump()
    data["name"] = f"{scenario.name}-capacity"
    data["latency_profile"] = "instant"
    data["repetitions"] = 1
    data["drain_timeout_s"] = max(10.0, min(60.0, seconds * 2))
    data["workload"]["time_scale"] = 1.0
    data["workload"]["arrivals"] = {
        "process": "constant",
        "rate_per_s": rate,
        "count": max(20, round(rate * seconds)),
    }
    if backend is not None:
        data["backend"] = backend
        for strategy in data["strategies"]:
            strategy["backend"] = None
        if backend == "moto-process":
            data["strategies"] = [s for s in data["strategies"] if s["kind"] not in NEEDS_MOTO_IN_PROCESS]
            if not data["strategies"]:
                raise InputError(
                    f"no strategy of {scenario.name!r} can run on moto-process "
                    f"({', '.join(sorted(NEEDS_MOTO_IN_PROCESS))} need moto in this process)"
                )
    return Scenario.model_validate(data)


def check_rates(scenario: Scenario, rates: list[float] | None, seconds: float, backend: str | None) -> None:
    """Refuse, before any floor is measured, offered rates and a duration no live run can play:
    each rate's run must fit this machine (``check_live``) and the backend must run a strategy."""
    from bench.scenario.limits import MAX_LIVE_S, check_live

    if not math.isfinite(seconds) or not 0 < seconds <= MAX_LIVE_S:
        raise InputError(f"--seconds must be a number above 0 up to {MAX_LIVE_S:g}, got {seconds}")
    for rate in rates or [1.0]:  # the default rates follow the floor; the backend is checked once
        played = scenario_at(scenario, rate, seconds, backend)
        check_live(played, f"--rates {rate:g} for --seconds {seconds:g}")


def floor_drift(before: Floor, after: Floor) -> float:
    """How far the machine's speed moved during a sweep: the floors' gap over the faster one."""
    fast = max(before.files_per_s, after.files_per_s)
    return abs(before.files_per_s - after.files_per_s) / fast


@dataclass(frozen=True)
class SweepOptions:
    """How a capacity sweep plays: which rates, how long each, on which backend, how carefully."""

    rates: list[float] | None = None  # offered files/s (default: fractions of the floor)
    seconds: float = 5.0  # each rate's run
    backend: str | None = None  # None: the scenario's own
    floor_files: int = 300  # files a floor measurement writes
    refine_steps: int = DEFAULT_REFINE_STEPS  # bisection steps per strategy after the grid


@dataclass
class _Sweep:
    """One sweep in progress: what it plays and what it has judged so far."""

    scenario: Scenario
    out_dir: Path
    options: SweepOptions
    progress: ProgressReporter
    say: Callable[[str], None]
    base: Floor  # the floor of the backend the strategies run on: it sets rates and the p95 bound
    kinds: dict[str, str] = field(default_factory=dict)
    points: dict[str, list[CapacityPoint]] = field(default_factory=dict)

    def at(self, rate: float) -> Scenario:
        return scenario_at(self.scenario, rate, self.options.seconds, self.options.backend)

    def play_grid(self, offered: list[float]) -> None:
        for rate in offered:
            summary = run_scenario(self.at(rate), self.out_dir / f"rate-{rate:g}", progress=self.progress)
            for name, entry in summary.strategies.items():
                point = judge_point(self.kinds[name], rate, entry, self.base.per_file_s)
                self.points[name].append(point)
                self.say(f"{rate:>8.1f}/s {name:<16} {verdict(point)}")

    def refine(self) -> None:
        """Bisect each strategy's knee, that strategy played alone."""
        for name in self.points:
            for _ in range(self.options.refine_steps):
                step = next_refine_rate(self.points[name], self.base.files_per_s)
                if step is None:
                    break
                played = only(self.at(step), name)
                summary = run_scenario(
                    played, self.out_dir / f"refine-{name}-{step:g}", progress=self.progress
                )
                point = judge_point(
                    self.kinds[name], step, summary.strategies[name], self.base.per_file_s, "refine"
                )
                self.points[name].append(point)
                self.say(f"{step:>8.1f}/s {name:<16} {verdict(point)} (bisection)")


def sweep_capacity(
    scenario: Scenario,
    out_dir: Path,
    options: SweepOptions | None = None,
    *,
    progress: ProgressReporter | None = None,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Measure the floor, play ``scenario`` at each offered rate, then bisect each strategy's knee
    ``options.refine_steps`` times (that strategy alone); return ``capacity.json``'s content."""
    options = options or SweepOptions()
    check_rates(scenario, options.rates, options.seconds, options.backend)  # before minutes of floors
    floor_start = measure_floor("moto", options.floor_files)
    say(
        f"in-process floor: {floor_start.files_per_s:.1f} files/s "
        f"({floor_start.per_file_s * 1000:.2f} ms per file)"
    )
    used_backend = options.backend or scenario.backend
    own_floor = None
    if used_backend != "moto":
        own_floor = measure_floor(used_backend, options.floor_files)
        say(f"{used_backend} floor (one thread): {own_floor.files_per_s:.1f} files/s")
    # rates and p95 are set by the floor of the backend the strategies run on (over HTTP, each
    # request costs the round trip); the knees are still ratioed to the in-process floor too
    sweep = _Sweep(scenario, out_dir, options, progress or QuietProgress(), say, own_floor or floor_start)
    offered = sorted(options.rates or [round(f * sweep.base.files_per_s, 1) for f in DEFAULT_FRACTIONS])
    played = sweep.at(offered[0])
    skipped = sorted({s.name for s in scenario.strategies} - {s.name for s in played.strategies})
    if skipped:
        say(f"not on {used_backend}: {', '.join(skipped)} (they need moto in this process)")
    sweep.points = {s.name: [] for s in played.strategies}
    sweep.kinds = {s.name: s.kind for s in played.strategies}
    own_start = {
        kind: route_floors(kind, used_backend, options.floor_files)
        for kind in sorted(set(sweep.kinds.values()))
    }
    sweep.play_grid(offered)
    sweep.refine()
    # This machine's speed drifts (a VM's neighbours): measure the floor again and take the faster
    # of the two, so a slow moment at the start never flatters the knees' ratios.
    floor_end = measure_floor("moto", options.floor_files)
    say(f"in-process floor again: {floor_end.files_per_s:.1f} files/s")
    floor = max(floor_start, floor_end, key=lambda f: f.files_per_s)
    drift = floor_drift(floor_start, floor_end)
    if drift > FLOOR_DRIFT_OK:
        say(f"the machine's speed changed by {drift:.0%} during the sweep: the ratios are unreliable")
    own = _route_floors_again(own_start, used_backend, options.floor_files, floor, say)
    return {
        "kind": "capacity",
        "scenario": scenario.name,
        "backend": used_backend,
        "floor": floor.as_dict(),
        "floor_samples_files_per_s": [
            round(floor_start.files_per_s, 2),
            round(floor_end.files_per_s, 2),
        ],  # before the sweep, after it; "floor" is the faster
        "floor_drift": round(drift, 3),
        "floor_stable": drift <= FLOOR_DRIFT_OK,
        "backend_floor": None if own_floor is None else own_floor.as_dict(),
        # each event route's least work per file on the same backend: the faster of before and after
        "route_floors": {
            kind: [f.as_dict(floor.files_per_s) for f in measured]
            for kind, measured in own.items()
            if measured
        },
        "skipped": skipped,
        "criteria": _criteria(sweep.base, options.seconds),
        "rates_per_s": offered,  # the grid; each strategy's bisection rates are its "refine" points
        "refine_steps": options.refine_steps,
        "strategies": {
            name: strategy_entry(
                sweep.kinds[name], pts, floor.files_per_s, own_floor, own.get(sweep.kinds[name])
            )
            for name, pts in sweep.points.items()
        },
    }


def _route_floors_again(
    before: dict[str, list[RouteFloor]], backend: str, files: int, floor: Floor, say: Callable[[str], None]
) -> dict[str, list[RouteFloor]]:
    """Each route's floors measured again after the sweep; as for the floor, the faster of the two."""
    own: dict[str, list[RouteFloor]] = {}
    for kind, first in before.items():
        after = route_floors(kind, backend, files)
        own[kind] = [max(b, a, key=lambda f: f.files_per_s) for b, a in zip(first, after, strict=True)]
        for measured in own[kind]:
            say(
                f"{kind} route floor ({measured.label}): {measured.files_per_s:.1f} files/s, "
                f"{measured.files_per_s / floor.files_per_s:.2f}x the floor"
            )
    return own


def _criteria(base: Floor, seconds: float) -> dict[str, Any]:
    return {
        "every_file_processed": True,
        "writer_lag_p95_s_at_most": WRITER_OK_S,
        "poll_p95_intervals_at_most": POLL_P95_INTERVALS,
        "event_p95_s_at_most": round(base.per_file_s + EVENT_P95_SLACK_S, 6),
        "event_kinds": sorted(EVENT_KINDS),
        "seconds_per_rate": seconds,
        "latency_profile": "instant",
    }
