"""How fast the simulator is: a 30-day month at a million files a day (30M files) through four
strategies, next to a bare numpy pass of the same size. A benchmark, not a timed unit test:
pytest-benchmark records the numbers (``pytest benchmarks -m slow``); the target is under 15 s on
2 cores with under 8 GB peak memory."""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from bench.scenario.spec import load_scenario
from bench.simulate.comparison import bare_numpy_pass
from bench.simulate.runner import SimulationOptions, simulate_scenario

pytestmark = pytest.mark.slow


def month_of_four_strategies():  # type: ignore[no-untyped-def]
    scenario = load_scenario("monthly")
    keep = {"poll-1min", "s3-lambda", "s3-sqs-lambda", "hybrid"}
    data = scenario.model_dump()
    data["strategies"] = [s for s in data["strategies"] if s["name"] in keep]
    return type(scenario).model_validate(data)


def test_a_month_at_a_million_files_a_day(benchmark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = month_of_four_strategies()
    options = SimulationOptions(days=30, files_per_day=1_000_000, max_records=20_000)
    summary = benchmark.pedantic(
        simulate_scenario, args=(scenario, tmp_path, options), rounds=1, iterations=1
    )
    files = next(iter(summary.strategies.values())).files
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    benchmark.extra_info.update(
        {
            "files": files,
            "strategy_files_per_s": files * len(summary.strategies) / benchmark.stats.stats.mean,
            "peak_rss_mb": round(peak_mb),
            "bare_numpy_pass_s": bare_numpy_pass(files),
        }
    )
    assert files == pytest.approx(30_000_000, rel=0.01)
    assert peak_mb < 8 * 1024
