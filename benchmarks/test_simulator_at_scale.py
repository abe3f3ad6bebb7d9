"""A month at ten million files a day (300 million arrivals) through every strategy of the
``monthly`` scenario, on every core, in bounded memory (issue 14 item 4, issue 26 item 1).

Arrivals are drawn and simulated five million at a time (``bench.simulate.arrivals``), latency
quantiles come from a streaming histogram (``bench.simulate.streaming``), per-file records are
sampled, and the strategies are shared among worker processes (``bench.simulate.parallel``), so
memory does not grow with the month. The month runs as ``pve simulate monthly`` in a fresh
process. Reported: peak memory of that process and its workers together (their summed PSS,
``memory.py``), wall time (the whole command's), and the ratio to the single-core yardstick:
a bare numpy pass over the same number of arrivals and strategies, chunked the same way
(``bench.simulate.comparison.bare_numpy_month``; at 1.0x the simulation does all its models' work,
on every core, in the time one core takes for the bare part). Both run with freed memory kept for
reuse (``keep_freed_memory``), as the simulator's workers do. Also stored: the CPU seconds of both
(user + system, every process), whose ratio a shared machine moves far less than the wall's (the
wall goal of 1.0x needs a CPU ratio of at most the number of cores). Progress goes to stderr, a
line per chunk; run it alone:

    PVE_SCALE_DAYS=30 python -m pytest benchmarks/test_simulator_at_scale.py -m slow -s \\
        --benchmark-json /tmp/scale.json

CI runs 3 days of the same traffic (30 million arrivals): memory is bounded when a month peaks
where three days do, so the short run guards the property and the month stays one environment
variable away.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from memory import tree_pss_mb

from bench.results.model import Run
from bench.simulate.arrivals import CHUNK_FILES
from bench.simulate.comparison import bare_numpy_month
from bench.simulate.parallel import default_jobs, keep_freed_memory

pytestmark = pytest.mark.slow
FILES_PER_DAY, DAYS = 10_000_000, int(os.environ.get("PVE_SCALE_DAYS", "3"))
# issue 26's goal: under 1 GB for the month, workers included. Measured 2026-12-07 on the 2-core VM
# (summed PSS; memory does not depend on the load): 698 MB at 3 days, 845 MB at 30 days; before the
# chunks' temporaries were cut, 1,034-1,214 MB at 3 days and 927 MB at 30 days with the first cuts
MEMORY_GOAL_MB = 1024


def cpu_s() -> float:
    """User + system seconds of this process and of its reaped children (the simulator's workers):
    the work done, whatever else shares the cores."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def simulate_month(out: Path) -> float:
    """``pve simulate monthly`` as a user runs it, in a fresh process: the peak memory (its PSS and
    its workers', summed) is the simulator's own, not this test process's, which holds whatever the
    tests before it loaded (a slow-suite run measured 1,250 MB in process against 698 MB alone)."""
    command = [sys.executable, "-m", "bench", "simulate", "monthly", "--days", str(DAYS)]
    command += ["--files-per-day", str(FILES_PER_DAY), "--max-records", "20000", "--out", str(out)]
    process = subprocess.Popen(command)  # progress goes to stderr, a line per chunk
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_pss_mb(process.pid))
        time.sleep(0.2)
    assert process.returncode == 0, f"{' '.join(command)} exited {process.returncode}"
    return peak


def test_a_month_at_ten_million_files_a_day(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clock, cpu = time.perf_counter(), cpu_s()
    peak_mb = benchmark.pedantic(simulate_month, args=(tmp_path / "month",), rounds=1, iterations=1)
    wall, cpu = time.perf_counter() - clock, cpu_s() - cpu
    summary = Run.model_validate_json((tmp_path / "month" / "summary.json").read_text())
    files = next(iter(summary.strategies.values())).files
    keep_freed_memory()  # as the simulator's workers do: the yardstick gets the same allocator
    reference_cpu = time.process_time()
    reference = bare_numpy_month(files, len(summary.strategies), CHUNK_FILES)
    reference_cpu = time.process_time() - reference_cpu
    benchmark.extra_info.update(
        {
            "files": files,
            "strategies": len(summary.strategies),
            "jobs": default_jobs(),
            "wall_s": round(wall, 1),
            "cpu_s": round(cpu, 1),  # every process's user + system seconds: load does not move it much
            "peak_pss_mb": round(peak_mb),
            "bare_numpy_month_s": round(reference, 3),
            "bare_numpy_month_cpu_s": round(reference_cpu, 3),
            "cpu_ratio": round(cpu / reference_cpu, 3),  # at <= jobs, the wall goal is in reach
            "load_1min": round(os.getloadavg()[0], 2),
        }
    )
    record_ratio(
        wall / reference,
        reference,
        means="simulator wall s (all strategies, every core) / single-core bare numpy pass s "
        "over the same arrivals and strategies",
    )
    assert files == pytest.approx(DAYS * FILES_PER_DAY, rel=0.01)
    assert peak_mb < MEMORY_GOAL_MB, f"peak {peak_mb:,.0f} MB summed PSS, over issue 26's 1 GB"
