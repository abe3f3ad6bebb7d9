"""The simulator: queue arithmetic against naive loops, theory, and the live schema it writes."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.cli import main
from bench.results.files import read_results
from bench.scenario.spec import parse_scenario
from bench.scenario.workload import plan_workload
from bench.simulate.arrivals import arrival_chunks, scaled_arrivals
from bench.simulate.queues import (
    at_most_concurrent,
    bulk_batches,
    group_cumsum,
    many_servers,
    peak_concurrency,
    single_server,
    window_batches,
)
from bench.simulate.runner import SimulationOptions, simulate_scenario
from bench.simulate.streaming import StreamingStats
from bench.simulate.validate import theory_check
from event_handlers.runtime.latency import Distribution

times = st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=60)


def naive_single_server(available: list[float], service: list[float], free: float = -math.inf) -> list[float]:
    out = []
    for a, s in zip(available, service, strict=True):
        free = max(free, a) + s
        out.append(free)
    return out


@settings(max_examples=200, deadline=None)
@given(times, st.data())
def test_lindley_closed_form_equals_the_recursion(arrivals: list[float], data: st.DataObject) -> None:
    available = sorted(arrivals)
    service = data.draw(
        st.lists(st.floats(0, 10, allow_nan=False), min_size=len(available), max_size=len(available))
    )
    free = data.draw(st.one_of(st.just(-math.inf), st.floats(0, 50)))
    got = single_server(np.array(available), np.array(service), free)
    assert np.allclose(got, naive_single_server(available, service, free))


def naive_peak(start: list[float], finish: list[float]) -> int:
    events = sorted([(s, 1) for s in start] + [(f, -1) for f in finish], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@settings(max_examples=300, deadline=None)
@given(times, st.data())
def test_at_most_concurrent_is_the_peak_compared_with_the_servers(
    starts: list[float], data: st.DataObject
) -> None:
    durations = data.draw(
        st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.5]), min_size=len(starts), max_size=len(starts))
    )
    servers = data.draw(st.integers(min_value=0, max_value=8))
    start = np.array(sorted(starts))
    finish = start + np.array(durations)
    assert at_most_concurrent(start, finish, servers) == (naive_peak(list(start), list(finish)) <= servers)


@settings(max_examples=200, deadline=None)
@given(times, st.data())
def test_peak_concurrency_matches_a_sweep_line(starts: list[float], data: st.DataObject) -> None:
    durations = data.draw(st.lists(st.floats(0.001, 20), min_size=len(starts), max_size=len(starts)))
    finish = [s + d for s, d in zip(starts, durations, strict=True)]
    assert peak_concurrency(np.array(starts), np.array(finish)) == naive_peak(starts, finish)


def test_many_servers_is_exact_below_the_limit_and_approximate_above() -> None:
    available = np.array([0.0, 0.1, 0.2])
    start, exact = many_servers(available, np.array([1.0, 1.0, 1.0]), servers=3)
    assert exact
    assert np.array_equal(start, available)
    start, exact = many_servers(available, np.array([1.0, 1.0, 1.0]), servers=1)
    assert not exact
    assert start[2] > available[2]


def test_bulk_batches_idle_and_busy() -> None:
    # five messages each finding the poller idle: five batches
    available = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    assert bulk_batches(available, np.array([-np.inf, 0.1, 1.1, 2.1, 3.1]), 10) == 5
    # 25 messages in one busy period, batches of 10: the first alone, then 10, 10, 4
    available = np.zeros(25)
    previous = np.concatenate(([-np.inf], np.ones(24)))
    assert bulk_batches(available, previous, 10) == 1 + 3


def test_window_batches_close_on_time_or_size() -> None:
    available = np.array([0.0, 0.5, 0.9, 2.0, 2.1, 2.2, 2.3])
    assert list(window_batches(available, batch_size=10, window_s=1.0)) == [0, 3]
    assert list(window_batches(available, batch_size=2, window_s=1.0)) == [0, 2, 3, 5]


def test_group_cumsum_restarts_at_each_group() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    starts = np.array([True, False, True, False, False])
    assert list(group_cumsum(values, starts)) == [1.0, 3.0, 3.0, 7.0, 12.0]


def test_streaming_quantiles_are_exact_when_small_and_close_when_large() -> None:
    rng = np.random.default_rng(0)
    values = rng.lognormal(0, 1, 50_000)
    small = StreamingStats()
    small.add(values)
    assert small.quantiles((0.5,))[0] == pytest.approx(np.percentile(values, 50))
    large = StreamingStats(keep_exact_up_to=10)
    for part in np.array_split(values, 7):
        large.add(part)
    assert not large.exact
    for q, got in zip((0.5, 0.95, 0.99), large.quantiles((0.5, 0.95, 0.99)), strict=True):
        assert got == pytest.approx(np.quantile(values, q), rel=0.003)
    assert large.summary()["mean"] == pytest.approx(values.mean(), abs=1e-6)


def test_small_simulations_see_the_live_arrivals() -> None:
    scenario = parse_scenario(
        {
            "name": "s",
            "seed": 9,
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 5, "count": 50}},
            "strategies": [{"name": "p", "kind": "poll", "interval_s": 1}],
        },
        "t",
    )
    live = np.array([f.arrival_s for f in plan_workload(scenario.workload, scenario.seed).files])
    [chunk] = list(arrival_chunks(scenario.workload.arrivals, scenario.seed))
    assert np.array_equal(chunk, live)


def test_long_horizons_are_chunked() -> None:
    spec = scaled_arrivals(
        parse_scenario(
            {
                "name": "s",
                "workload": {"arrivals": {"process": "poisson", "rate_per_s": 5, "count": 5}},
                "strategies": [{"name": "p", "kind": "poll", "interval_s": 1}],
            },
            "t",
        ).workload.arrivals,
        days=1,
        files_per_day=100_000,
    )
    chunks = list(arrival_chunks(spec, 1, chunk_files=30_000))
    total = sum(c.size for c in chunks)
    assert len(chunks) >= 3
    assert total == pytest.approx(100_000, rel=0.02)
    assert all(np.all(np.diff(c) >= 0) for c in chunks)
    assert all(a[-1] <= b[0] for a, b in itertools.pairwise(chunks))


def test_poll_detection_delay_is_uniform_over_the_interval() -> None:
    check = theory_check(interval_s=10.0, files=20_000)
    assert check.holds
    assert check.mean_delay_s == pytest.approx(5.0, abs=0.15)


def test_simulated_results_use_the_live_schema(tmp_path: Path) -> None:
    scenario = parse_scenario(
        {
            "name": "sim",
            "seed": 3,
            "latency_profile": "aws",
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 1, "count": 10}},
            "strategies": [
                {"name": "poll-60s", "kind": "poll", "interval_s": 60, "cursor": "start-after"},
                {"name": "s3-lambda", "kind": "s3-lambda"},
                {"name": "sqs", "kind": "s3-sqs-lambda"},
                {
                    "name": "hybrid",
                    "kind": "hybrid",
                    "sweep_interval_s": 600,
                    "grace_s": 60,
                    "event_loss": 0.1,
                },
                {"name": "scheduled", "kind": "scheduled-poll", "interval_s": 60},
            ],
        },
        "t",
    )
    options = SimulationOptions(
        days=1, files_per_day=20_000, processing=Distribution("constant", {"value_s": 0.05})
    )
    summary = simulate_scenario(scenario, tmp_path, options)
    assert summary.kind == "simulated"
    results = read_results(tmp_path)
    for name, s in summary.strategies.items():
        assert s.files == pytest.approx(20_000, rel=0.03), name
        assert s.processed == s.files, name
        assert s.api_calls["s3.GetObject"] >= s.files, name
        assert s.cost is not None, name
        assert s.cost.monthly_usd is not None, name
    poll = summary.strategies["poll-60s"]
    assert poll.poll_cycles == pytest.approx(86400 / 60, abs=3)
    assert poll.api_calls["s3.ListObjectsV2"] >= poll.poll_cycles
    assert poll.latency_s.mean == pytest.approx(30, abs=3)  # T/2 plus small processing
    s3 = summary.strategies["s3-lambda"]
    assert s3.invocations == s3.files
    assert s3.latency_s.p50 == pytest.approx(1.345 + 0.05, rel=0.05)  # TriggerBench p50 + processing
    hybrid = summary.strategies["hybrid"]
    assert hybrid.paths["sweep"] == pytest.approx(0.1 * hybrid.files, rel=0.15)
    assert len(results.records) == sum(s.files for s in summary.strategies.values())  # none sampled out
    assert set(results.records["strategy"]) == set(summary.strategies)


def test_cli_simulate_and_validate_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["simulate", "quickstart", "--out", str(tmp_path / "q"), "--processing-ms", "5", "--quiet"]) == 0
    )
    summary = json.loads((tmp_path / "q" / "summary.json").read_text())
    assert summary["kind"] == "simulated"
    assert summary["strategies"]["poll-1s"]["processed"] == 200


def test_processing_time_grows_with_file_size(tmp_path: Path) -> None:
    def p50(rows: int) -> float:
        scenario = parse_scenario(
            {
                "name": "size",
                "seed": 1,
                "workload": {
                    "arrivals": {"process": "constant", "rate_per_s": 0.1, "count": 50},
                    "content": {"kind": "csv", "rows": rows},
                },
                "strategies": [{"name": "events", "kind": "s3-lambda"}],
            },
            "t",
        )
        options = SimulationOptions(
            processing=Distribution("constant", {"value_s": 0.01, "per_byte_s": 1e-6})
        )
        p50 = simulate_scenario(scenario, tmp_path / str(rows), options).strategies["events"].latency_s.p50
        assert p50 is not None
        return p50

    small, large = p50(10), p50(10_000)
    assert large - small == pytest.approx((make_size(10_000) - make_size(10)) * 1e-6, rel=0.05)


def make_size(rows: int) -> int:
    from bench.scenario.spec import Content
    from bench.scenario.workload import make_content

    return len(make_content(Content(kind="csv", rows=rows), 0, 1))


def test_validation_holds_on_the_committed_reference_runs(tmp_path: Path) -> None:
    """The reference quickstart and interval-sweep, calibrated and simulated again here."""
    from bench.simulate.validate import live_against_simulated

    root = Path(__file__).resolve().parent.parent / "results" / "reference"
    rows = [
        row
        for name in ("quickstart", "interval-sweep")
        for row in live_against_simulated(read_results(root / name), tmp_path, replicas=10)
    ]
    assert len(rows) == 11
    assert all(row.requests_equal for row in rows)
    assert all(row.holds for row in rows), [(r.strategy, r.p50_off, r.p95_off) for r in rows if not r.holds]


def test_simultaneous_starts_beyond_the_workers_are_seen_without_sorting() -> None:
    from bench.simulate.queues import more_at_once_than

    assert more_at_once_than(np.array([0.0, 1.0, 1.0, 1.0, 2.0]), servers=2)
    assert not more_at_once_than(np.array([0.0, 1.0, 1.0, 2.0, 2.0]), servers=2)


def test_a_quantile_interval_covers_the_true_quantile_about_95_times_in_100() -> None:
    from bench.simulate.validate import quantile_interval

    rng = np.random.default_rng(7)
    truth = -np.log(0.05)  # the p95 of an exponential with mean 1
    covered = 0
    for _ in range(400):
        low, high = quantile_interval(rng.exponential(size=200), 0.95)
        covered += low <= truth <= high
    assert 0.92 <= covered / 400 <= 0.99


def test_a_simulated_quantile_holds_within_10_percent_or_inside_the_live_interval() -> None:
    from bench.simulate.validate import LiveComparison

    counts = {"s3.ListObjectsV2": 1, "s3.GetObject": 2, "s3.PutObject": 2}

    def row(p95_sim: float, interval: tuple[float, float]) -> LiveComparison:
        return LiveComparison("s", "x", 1.0, 1.0, 0.027, p95_sim, counts, counts, (0.9, 1.1), interval)

    assert row(0.0285, (0.0284, 0.0286)).holds  # 5.6% off
    assert row(0.030, (0.025, 0.040)).holds  # 11% off, but the run cannot tell 30 ms from 27 ms
    assert not row(0.030, (0.026, 0.028)).holds
    assert not LiveComparison(
        "s", "x", 1.0, 1.0, 1.0, 1.0, counts, {**counts, "s3.GetObject": 3}, (0.9, 1.1), (0.9, 1.1)
    ).holds


def test_simulate_and_decide_share_one_work_model(tmp_path: Path) -> None:
    """The same workload (100,000 files a day, 0.05 s CPU + 0.05 s wait, 128 MB, the scenario's
    files, kept as the simulation keeps them): S3 -> Lambda's simulated p50 is decide's within 10%, and the
    simulation's monthly projection is decide's bill within 2% (it was 7.4x off: a flat 100 ms
    against 0.743 s at 128 MB)."""
    from bench import Requirements, decide_workload
    from bench.scenario.spec import load_scenario

    scenario = load_scenario("steady").with_overrides(latency_profile="aws")
    summary = simulate_scenario(scenario, tmp_path, SimulationOptions(days=0.05, files_per_day=100_000))
    assert summary.simulation is not None
    assert summary.simulation.processing["kind"] == "work"
    simulated = summary.strategies["s3-lambda"]
    kept = summary.simulation.bucket.listed_days
    size = summary.simulation.processing["file_size_mb"]  # its wait holds the transfer (50 MB/s)
    decision = decide_workload(
        100_000,
        Requirements.build(keep_days=kept),
        memory_mb=128,
        retention="keep",
        samples=2,
        file_size_mb=size,
        wait_s=summary.simulation.processing["wait_s"] - size / 50.0,
    )
    direct = next(o for o in decision.options if o.name == "S3 -> Lambda")
    assert simulated.latency_s.p50 == pytest.approx(direct.latency.p50, rel=0.10)
    assert simulated.cost is not None
    assert simulated.cost.monthly_usd is not None
    assert simulated.cost.monthly_usd["total"] == pytest.approx(direct.monthly_point, rel=0.02)
