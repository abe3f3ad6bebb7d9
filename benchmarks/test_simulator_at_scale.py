"""A month at ten million files a day (300 million arrivals) through every strategy of the
``monthly`` scenario, in bounded memory (issue 14 item 4).

Arrivals are drawn and simulated five million at a time (``bench.simulate.arrivals``), latency
quantiles come from a streaming histogram (``bench.simulate.streaming``), and per-file records
are sampled, so memory does not grow with the month. Reported: peak RSS of this process, wall
time, and the ratio to a bare numpy pass over the same number of arrivals, also chunked (one
pass over 300 million at once would itself need ~10 GB). Progress goes to stderr, a line per
chunk; run it alone:

    PVE_SCALE_DAYS=30 python -m pytest benchmarks/test_simulator_at_scale.py -m slow -s \\
        --benchmark-json /tmp/scale.json

CI runs 3 days of the same traffic (30 million arrivals, a few minutes): memory is bounded when a
month peaks where three days do (measured: 822 MB for 1 day, 826 MB for 3, 997 MB for 30), so the
short run guards the property and the month stays one environment variable away.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

import pytest

from bench.scenario.spec import load_scenario
from bench.simulate.arrivals import CHUNK_FILES
from bench.simulate.comparison import bare_numpy_pass
from bench.simulate.runner import SimulationOptions, simulate_scenario

pytestmark = pytest.mark.slow
FILES_PER_DAY, DAYS = 10_000_000, int(os.environ.get("PVE_SCALE_DAYS", "3"))
MEMORY_LIMIT_MB = 4 * 1024  # bounded: well under what 300M arrivals held at once would take


def chunked_bare_numpy_pass(n: int, chunk: int = CHUNK_FILES) -> float:
    """The bare pass over ``n`` files, ``chunk`` at a time (the simulator's own chunking)."""
    total, done = 0.0, 0
    while done < n:
        size = min(chunk, n - done)
        total += bare_numpy_pass(size, seed=done)
        done += size
    return total


def progress(done: int, expected: float) -> None:
    print(f"  simulated {done:,} of ~{expected:,.0f} arrivals ({done / expected:.0%})", file=sys.stderr)


def test_a_month_at_ten_million_files_a_day(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("monthly")
    options = SimulationOptions(days=DAYS, files_per_day=FILES_PER_DAY, max_records=20_000, on_chunk=progress)
    clock = time.perf_counter()
    summary = benchmark.pedantic(
        simulate_scenario, args=(scenario, tmp_path, options), rounds=1, iterations=1
    )
    wall = time.perf_counter() - clock
    files = next(iter(summary.strategies.values())).files
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reference = chunked_bare_numpy_pass(files)
    benchmark.extra_info.update(
        {
            "files": files,
            "strategies": len(summary.strategies),
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(peak_mb),
            "bare_numpy_pass_s": round(reference, 3),
        }
    )
    record_ratio(
        wall / reference, reference, means="simulator s (all strategies) / chunked bare numpy pass s"
    )
    assert files == pytest.approx(DAYS * FILES_PER_DAY, rel=0.01)
    assert peak_mb < MEMORY_LIMIT_MB
