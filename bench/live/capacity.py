"""How fast can this machine play a workload live? The floor, and each strategy's knee.

The floor is what one file costs any strategy at the least: a bare, single-thread loop of
PUT (the writer), GET and PUT (the task's read and its output) on the same backend, measured in
the same run. A strategy's knee is the highest offered rate at which every file is processed,
the writer keeps its schedule (p95 start delay within ``WRITER_OK_S``) and, for the event routes
under the ``instant`` profile, the p95 latency stays within ``EVENT_P95_SLACK_S`` of the floor's
per-file time. Polls are judged on the first two only: their latency is their interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.errors import InputError
from bench.live.backends import fresh_backend
from bench.live.progress import ProgressReporter, QuietProgress
from bench.live.runner import run_scenario
from bench.results.model import StrategyResult
from bench.scenario.spec import NEEDS_MOTO_IN_PROCESS, Scenario

WRITER_OK_S = 0.100  # issue 14: "the writer keeps up within 100 ms"
EVENT_P95_SLACK_S = 0.050  # event routes' p95 within 50 ms of the floor's per-file time
EVENT_KINDS = frozenset({"s3-lambda", "s3-sqs-lambda", "s3-eventbridge-lambda", "hybrid"})
DEFAULT_FRACTIONS = (0.25, 0.5, 0.65, 0.8, 0.9, 1.0, 1.2)


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


def judge_point(kind: str, rate: float, strategy: StrategyResult, floor_per_file_s: float) -> CapacityPoint:
    """Pure: did this strategy keep up at this rate, and if not, why."""
    harness = strategy.harness
    lag_p95 = harness.writer_lag_p95_s if harness else 0.0
    p95 = strategy.latency_s.p95
    why: list[str] = []
    if strategy.processed < strategy.files:
        why.append(f"{strategy.files - strategy.processed} file(s) not processed")
    if lag_p95 > WRITER_OK_S:
        why.append(f"writer p95 lag {lag_p95 * 1000:.0f} ms > {WRITER_OK_S * 1000:.0f} ms")
    if kind in EVENT_KINDS and (p95 is None or p95 > floor_per_file_s + EVENT_P95_SLACK_S):
        why.append(
            f"p95 {'-' if p95 is None else f'{p95 * 1000:.0f} ms'} > floor per file "
            f"{floor_per_file_s * 1000:.1f} ms + {EVENT_P95_SLACK_S * 1000:.0f} ms"
        )
    # messages per batch the mapping delivered (S3's s3:TestEvent included, as on AWS)
    batches, records = strategy.counter("batches"), strategy.counter("records")
    if not batches:  # counters of an older run: files per invocation
        batches, records = float(strategy.invocations), float(strategy.processed)
    batch = records / batches if kind == "s3-sqs-lambda" and batches else None
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
    )


def knee(points: list[CapacityPoint]) -> float | None:
    """The highest rate that held, with every lower rate holding too (None if the first failed)."""
    best = None
    for point in sorted(points, key=lambda p: p.rate_per_s):
        if not point.ok:
            break
        best = point.rate_per_s
    return best


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


def sweep_capacity(
    scenario: Scenario,
    out_dir: Path,
    *,
    rates: list[float] | None = None,
    seconds: float = 5.0,
    backend: str | None = None,
    floor_files: int = 300,
    progress: ProgressReporter | None = None,
    say: Callable[[str], None] = lambda text: None,
) -> dict[str, Any]:
    """Measure the floor, then play ``scenario`` at each offered rate; return ``capacity.json``'s content."""
    progress = progress or QuietProgress()
    floor = measure_floor("moto", floor_files)
    say(f"in-process floor: {floor.files_per_s:.1f} files/s ({floor.per_file_s * 1000:.2f} ms per file)")
    used_backend = backend or scenario.backend
    own_floor = None
    if used_backend != "moto":
        own_floor = measure_floor(used_backend, floor_files)
        say(f"{used_backend} floor (one thread): {own_floor.files_per_s:.1f} files/s")
    offered = sorted(rates or [round(f * floor.files_per_s, 1) for f in DEFAULT_FRACTIONS])
    played = scenario_at(scenario, offered[0], seconds, backend)
    skipped = sorted({s.name for s in scenario.strategies} - {s.name for s in played.strategies})
    if skipped:
        say(f"not on {used_backend}: {', '.join(skipped)} (they need moto in this process)")
    points: dict[str, list[CapacityPoint]] = {s.name: [] for s in played.strategies}
    kinds = {s.name: s.kind for s in played.strategies}
    for rate in offered:
        summary = run_scenario(
            scenario_at(scenario, rate, seconds, backend), out_dir / f"rate-{rate:g}", progress=progress
        )
        for name, entry in summary.strategies.items():
            point = judge_point(kinds[name], rate, entry, floor.per_file_s)
            points[name].append(point)
            say(f"{rate:>8.1f}/s {name:<16} {'ok' if point.ok else 'NO: ' + '; '.join(point.why_not)}")
    return {
        "kind": "capacity",
        "scenario": scenario.name,
        "backend": used_backend,
        "floor": floor.as_dict(),
        "backend_floor": None if own_floor is None else own_floor.as_dict(),
        "skipped": skipped,
        "criteria": {
            "every_file_processed": True,
            "writer_lag_p95_s_at_most": WRITER_OK_S,
            "event_p95_s_at_most": round(floor.per_file_s + EVENT_P95_SLACK_S, 6),
            "event_kinds": sorted(EVENT_KINDS),
            "seconds_per_rate": seconds,
            "latency_profile": "instant",
        },
        "rates_per_s": offered,
        "strategies": {
            name: {
                "kind": kinds[name],
                "knee_files_per_s": knee(pts),
                "knee_vs_floor": None if knee(pts) is None else round(knee(pts) / floor.files_per_s, 3),  # type: ignore[operator]
                "points": [asdict(p) for p in pts],
            }
            for name, pts in points.items()
        },
    }
