"""A month at ten million files a day (300 million arrivals) through every strategy of the
``monthly`` scenario, on every core, in bounded memory (issue 14 item 4, issue 26 item 1).

Arrivals are drawn and simulated five million at a time (``bench.simulate.arrivals``), latency
quantiles come from a streaming histogram (``bench.simulate.streaming``), per-file records are
sampled, and the strategies are shared among worker processes (``bench.simulate.parallel``), so
memory does not grow with the month. Reported: peak memory of this process and its workers
together (their summed PSS, ``memory.py``), wall time, and the ratio to the single-core yardstick:
a bare numpy pass over the same number of arrivals and strategies, chunked the same way
(``bench.simulate.comparison.bare_numpy_month``; at 1.0x the simulation does all its models' work,
on every core, in the time one core takes for the bare part). Both run with freed memory kept for
reuse (``keep_freed_memory``), as the simulator's workers do. Progress goes to stderr, a line per chunk;
run it alone:

    PVE_SCALE_DAYS=30 python -m pytest benchmarks/test_simulator_at_scale.py -m slow -s \\
        --benchmark-json /tmp/scale.json

CI runs 3 days of the same traffic (30 million arrivals): memory is bounded when a month peaks
where three days do, so the short run guards the property and the month stays one environment
variable away.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from memory import PeakMemory

from bench.scenario.spec import load_scenario
from bench.simulate.arrivals import CHUNK_FILES
from bench.simulate.comparison import bare_numpy_month
from bench.simulate.parallel import default_jobs, keep_freed_memory
from bench.simulate.runner import SimulationOptions, simulate_scenario

pytestmark = pytest.mark.slow
FILES_PER_DAY, DAYS = 10_000_000, int(os.environ.get("PVE_SCALE_DAYS", "3"))
MEMORY_GOAL_MB = 1024  # issue 26's goal: under 1 GB for the month, workers included (not met yet)
# what this version holds, with room: 1,214 MB summed PSS at 3 days on a quiet 2-core VM
# (2026-12-07); a regression past it fails, the goal is reported as an expected failure until met
MEMORY_GUARD_MB = 1536


def progress(done: int, expected: float) -> None:
    print(f"  simulated {done:,} of ~{expected:,.0f} arrivals ({done / expected:.0%})", file=sys.stderr)


def test_a_month_at_ten_million_files_a_day(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("monthly")
    options = SimulationOptions(days=DAYS, files_per_day=FILES_PER_DAY, max_records=20_000, on_chunk=progress)
    clock = time.perf_counter()
    with PeakMemory() as peak:
        summary = benchmark.pedantic(
            simulate_scenario, args=(scenario, tmp_path, options), rounds=1, iterations=1
        )
    wall = time.perf_counter() - clock
    files = next(iter(summary.strategies.values())).files
    keep_freed_memory()  # as the simulator's workers do: the yardstick gets the same allocator
    reference = bare_numpy_month(files, len(summary.strategies), CHUNK_FILES)
    benchmark.extra_info.update(
        {
            "files": files,
            "strategies": len(summary.strategies),
            "jobs": default_jobs(),
            "wall_s": round(wall, 1),
            "peak_pss_mb": round(peak.mb),
            "bare_numpy_month_s": round(reference, 3),
        }
    )
    record_ratio(
        wall / reference,
        reference,
        means="simulator wall s (all strategies, every core) / single-core bare numpy pass s "
        "over the same arrivals and strategies",
    )
    assert files == pytest.approx(DAYS * FILES_PER_DAY, rel=0.01)
    assert peak.mb < MEMORY_GUARD_MB
    if peak.mb >= MEMORY_GOAL_MB:
        pytest.xfail(f"issue 26's goal not met yet: peak {peak.mb:,.0f} MB >= {MEMORY_GOAL_MB:,} MB")
