"""How much a simulated chunk holds at once (issue 26: a 300-million-file month under 1 GB).

A month is simulated five million arrivals at a time, and every array a model makes for a chunk
is the chunk's size (40 MB at 5 million floats): the month's peak memory is the most of them alive
at once, in each worker. numpy reports its arrays to ``tracemalloc``, so the peak of one strategy's
pass is measured here in units of one chunk-sized float array. It does not depend on the machine's
load, so this is a unit test, not a benchmark. The chunk is larger than the 2 million values the
latency statistics keep exactly, as a month's are.
"""

from __future__ import annotations

import tracemalloc

import pytest

from bench.scenario.spec import load_scenario
from bench.simulate.runner import SimulationOptions, prepare, simulate_strategies

CHUNK = 2_500_000
# 0.3 days at 10 million files a day: a chunk of 2.5 million arrivals, then the rest (carried state)
OPTIONS = SimulationOptions(days=0.3, files_per_day=10_000_000, max_records=600, chunk_files=CHUNK)
MOST_ARRAYS = 7.5  # measured 2026-12-07: polls 6.2, S3 -> Lambda 5.2, hybrid 5.4, SQS 7.2 (8.4-10.2 before)


@pytest.fixture(scope="module")
def setup():  # type: ignore[no-untyped-def]
    return prepare(load_scenario("monthly"), OPTIONS)


@pytest.mark.parametrize("name", ["poll-1min", "poll-1s", "s3-lambda", "s3-sqs-lambda", "hybrid"])
def test_a_strategys_pass_holds_few_chunk_sized_arrays_at_once(setup, name: str) -> None:  # type: ignore[no-untyped-def]
    index = [s.name for s in setup.scenario.strategies].index(name)
    tracemalloc.start()
    try:
        (run,) = simulate_strategies(setup, [index])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert run.tally.files == pytest.approx(3_000_000, rel=0.01)
    arrays = peak / (8 * CHUNK)
    assert arrays < MOST_ARRAYS, f"{name}: {arrays:.1f} chunk-sized arrays alive at the peak"
