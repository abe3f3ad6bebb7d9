"""The simulator on several cores: strategies in worker processes give the numbers of one process."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from bench.scenario.spec import load_scenario
from bench.simulate import parallel, runner
from bench.simulate.parallel import balanced_groups
from bench.simulate.runner import SimulationOptions, simulate_scenario

TIMINGS = {"seconds", "files_per_second", "started_at", "finished_at"}  # wall clock, not model numbers


def numbers(summary_path: Path) -> Any:
    """A summary without its wall-clock fields."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(summary_path.read_text()))


def month(jobs: int, out: Path, progress: list[int] | None = None) -> None:
    options = SimulationOptions(
        days=2,
        files_per_day=30_000,
        max_records=3_000,  # a sample: the records sampler must agree across workers too
        chunk_files=10_000,  # six chunks: state carried from chunk to chunk in every model
        jobs=jobs,
        on_chunk=None if progress is None else (lambda done, expected: progress.append(done)),
    )
    simulate_scenario(load_scenario("monthly"), out, options)


def test_many_processes_write_the_numbers_and_records_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "PARALLEL_MIN_WORK", 0)  # a small month, still in workers
    groups_used: list[int] = []
    real_run_groups = parallel.run_groups

    def spy(work: Any, groups: Any, on_progress: Any = None) -> Any:
        groups_used.append(len(groups))
        return real_run_groups(work, groups, on_progress)

    monkeypatch.setattr(runner, "run_groups", spy)
    progress: list[int] = []
    month(1, tmp_path / "one")
    month(3, tmp_path / "three", progress)
    assert groups_used == [1, 3]
    one, three = tmp_path / "one", tmp_path / "three"
    assert (one / "records.csv").read_bytes() == (three / "records.csv").read_bytes()
    assert numbers(one / "summary.json") == numbers(three / "summary.json")
    files = json.loads((one / "summary.json").read_text())["strategies"]["poll-1s"]["files"]
    assert progress == sorted(progress)
    assert progress[-1] == files  # every strategy passed every file


def test_strategies_are_shared_by_cost_heaviest_first() -> None:
    # the monthly scenario's six: three polls, S3 -> Lambda, SQS, hybrid
    assert balanced_groups([1.0, 1.0, 1.0, 2.0, 4.3, 2.2], 2) == [[1, 4], [0, 2, 3, 5]]  # 5.3 and 6.2
    assert balanced_groups([1.0, 1.0], 8) == [[0], [1]]  # never an empty worker
    assert balanced_groups([1.0, 2.0, 3.0], 1) == [[0, 1, 2]]


def fails(group: Any, progress: Any) -> list[int]:
    raise ValueError(f"boom in {list(group)}")


def test_a_worker_error_is_raised_in_the_parent() -> None:
    with pytest.raises(ValueError, match="boom in"):
        parallel.run_groups(fails, [[0], [1]])


def dies(group: Any, progress: Any) -> list[int]:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return []


def test_a_worker_that_dies_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match=r"worker \d died"):
        parallel.run_groups(dies, [[0], [1]])
