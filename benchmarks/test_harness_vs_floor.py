"""What the live harness costs per file, against moto's floor (a bare put+get+put loop).

CPU seconds, not wall time: a live run follows its schedule, so its wall time is the workload's,
whereas the CPU this process spends per file is what the harness (writer, runtime, handler,
recorder, health sampler) and moto cost together. Setup (deploying the function, queues and
rules) is included, spread over the run's files; Python's first imports of moto's backends are
not (an untimed warm-up run pays them). Ratio = harness CPU per file / floor CPU per
file, both measured in the same run (lower is better; 1.0 would be a free harness)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.live.capacity import measure_floor
from bench.live.runner import run_scenario
from bench.results.model import Run
from bench.scenario.spec import parse_scenario

pytestmark = pytest.mark.slow
FILES, RATE = 150, 20.0  # well under the floor, so every file is processed even on a busy machine


def floor_cpu_per_file(files: int = 200, samples: int = 3) -> float:
    """The bare loop's CPU per file, best of ``samples`` (it moved by a third between runs)."""
    best = float("inf")
    for _ in range(samples):
        started = time.process_time()
        measure_floor("moto", files)
        best = min(best, (time.process_time() - started) / files)
    return best


def scenario(strategy: dict[str, object], count: int = FILES):  # type: ignore[no-untyped-def]
    return parse_scenario(
        {
            "name": "harness-cost",
            "seed": 11,
            "drain_timeout_s": 120,
            "workload": {
                "arrivals": {"process": "constant", "rate_per_s": RATE, "count": count},
                "content": {"kind": "csv", "rows": 20},
            },
            "strategies": [strategy],
        },
        "benchmark",
    )


STRATEGIES: dict[str, dict[str, object]] = {
    "poll-1s": {"name": "poll-1s", "kind": "poll", "interval_s": 1.0, "cursor": "start-after"},
    "s3-lambda": {"name": "s3-lambda", "kind": "s3-lambda"},
    "s3-sqs-lambda": {"name": "s3-sqs-lambda", "kind": "s3-sqs-lambda"},
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_harness_cpu_per_file_vs_the_moto_floor(benchmark, record_ratio, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    # a short untimed run first: the first run of a kind in a process also imports moto's backends
    # for it (about a third of its CPU for the SQS route), a cost no later file pays
    run_scenario(scenario(STRATEGIES[name], count=10), tmp_path / "warm-up")
    reference = floor_cpu_per_file()
    cpu: list[float] = []

    def play() -> Run:
        started = time.process_time()
        summary = run_scenario(scenario(STRATEGIES[name]), tmp_path / f"run-{len(cpu)}")
        cpu.append(time.process_time() - started)
        return summary

    summary = benchmark.pedantic(play, rounds=1, iterations=1)
    entry = summary.strategies[name]
    assert entry.processed == FILES
    per_file = cpu[0] / FILES
    benchmark.extra_info.update(
        {
            "cpu_s_per_file": per_file,
            "harness_bound": bool(entry.harness and entry.harness.bound),
            "files": FILES,
        }
    )
    record_ratio(
        per_file / reference, reference, means="CPU s per file in a live run / in the bare moto loop"
    )
