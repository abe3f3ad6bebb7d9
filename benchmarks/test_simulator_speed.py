"""How fast the simulator is: a 30-day month at a million files a day (30M files) through four
strategies, next to the single-core yardstick of the same size (a bare numpy pass over the same
arrivals and strategies, ``bench.simulate.comparison.bare_numpy_month``) timed just before and
after each of three runs; the per-round ratios' spread sets the regression allowance. A
benchmark, not a timed unit test: pytest-benchmark records the numbers
(``pytest benchmarks -m slow``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from memory import PeakMemory
from timing import bracketed, ratios

from bench.results.model import Run
from bench.scenario.spec import load_scenario
from bench.simulate.comparison import bare_numpy_month
from bench.simulate.parallel import keep_freed_memory
from bench.simulate.runner import SimulationOptions, simulate_scenario

pytestmark = pytest.mark.slow
ROUNDS = 3


def month_of_four_strategies():  # type: ignore[no-untyped-def]
    scenario = load_scenario("monthly")
    keep = {"poll-1min", "s3-lambda", "s3-sqs-lambda", "hybrid"}
    data = scenario.model_dump()
    data["strategies"] = [s for s in data["strategies"] if s["name"] in keep]
    return type(scenario).model_validate(data)


def test_a_month_at_a_million_files_a_day(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    keep_freed_memory()
    scenario = month_of_four_strategies()
    options = SimulationOptions(days=30, files_per_day=1_000_000, max_records=20_000)
    files = 30_000_000
    summaries: list[Run] = []

    def simulate() -> None:
        summaries.append(simulate_scenario(scenario, tmp_path / str(len(summaries)), options))

    with PeakMemory() as peak:
        ours, reference = bracketed(ROUNDS, simulate, lambda: bare_numpy_month(files, 4))
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # timed above, in turn with the yardstick
    files = next(iter(summaries[0].strategies.values())).files
    benchmark.extra_info.update(
        {
            "files": files,
            "simulator_s": min(ours),
            "strategy_files_per_s": files * len(summaries[0].strategies) / min(ours),
            "peak_pss_mb": round(peak.mb),
            "bare_numpy_month_s": min(reference),
        }
    )
    record_ratio(
        min(ours) / min(reference),
        min(reference),
        means="simulator s (every core) / single-core bare numpy pass s, same files and strategies",
        spread=ratios(ours, reference),
    )
    assert files == pytest.approx(30_000_000, rel=0.01)
    assert peak.mb < 2 * 1024
