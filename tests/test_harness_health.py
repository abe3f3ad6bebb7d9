"""A live run says when its numbers measure the harness or the machine rather than the strategy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.live.health import (
    HarnessThresholds,
    HealthSamples,
    design_backlog,
    design_hold_s,
    judge_health,
)
from bench.live.runner import run_scenario
from bench.report.table import BOUND_MARK, summary_caption
from bench.results.compare import compare_results
from bench.results.files import Results
from bench.results.model import Run
from bench.scenario.spec import parse_scenario
from event_handlers.runtime.latency import load_profile


def samples(
    backlog: list[int], *, every_s: float = 0.2, cpu_s: float = 1.0, wall_s: float = 10.0
) -> HealthSamples:
    return HealthSamples(
        times_s=[i * every_s for i in range(len(backlog))], backlog=backlog, cpu_s=cpu_s, wall_s=wall_s
    )


def judge(**changes: Any) -> Any:
    args: dict[str, Any] = {
        "writer_lags_s": [0.001] * 100,
        "samples": samples([5] * 50),
        "writing": (0.0, 10.0),
        "request_seconds": {"writer": [0.002] * 100},
        "cores": 2,
    }
    args.update(changes)
    return judge_health(**args)


def test_a_healthy_run_is_not_bound() -> None:
    health = judge()
    assert not health.bound
    assert health.reasons == []


def test_a_writer_behind_its_schedule_binds_the_run() -> None:
    health = judge(writer_lags_s=[0.001] * 90 + [0.5] * 10)
    assert health.bound
    assert "writer fell behind" in health.reasons[0]
    assert health.writer_lag_p95_s == pytest.approx(0.5)


def test_the_writer_threshold_is_the_documented_100_ms() -> None:
    assert not judge(writer_lags_s=[0.099] * 100).bound
    assert judge(writer_lags_s=[0.101] * 100).bound


def test_a_saturated_process_binds_the_run() -> None:
    health = judge(samples=samples([5] * 50, cpu_s=9.5, wall_s=10.0))
    assert health.bound
    assert "CPU cores" in health.reasons[0]


def test_a_growing_backlog_binds_the_run_but_a_pollers_saw_tooth_does_not() -> None:
    growing = list(range(0, 500, 10))  # the runtime falls further behind every sample
    assert judge(samples=samples(growing)).bound
    saw_tooth = [(i % 25) * 4 for i in range(50)]  # a poller every 5 s: fills, then empties
    assert not judge(samples=samples(saw_tooth)).bound


def test_a_pollers_cycle_of_files_is_its_design_not_the_harness() -> None:
    # poll-5s at 20 files/s: the first half averages half a cycle, the second a whole one while
    # the cycle's 100 files are processed; that is the design holding files, not falling behind
    calm_poll = [min(i, 25) * 4 for i in range(25)] + [100 - (i % 25) * 2 for i in range(25)]
    assert judge(samples=samples(calm_poll)).bound  # judged without its design (the old verdict)
    health = judge(samples=samples(calm_poll), design_files=100)
    assert not health.bound, health.reasons
    assert health.backlog_design == 100


def test_a_backlog_past_the_design_still_binds_the_run() -> None:
    overload = list(range(0, 5000, 100))  # 1,500 files/s into a poller that drains far fewer
    health = judge(samples=samples(overload), design_files=750)
    assert health.bound
    assert "more than the 750 its design holds" in health.reasons[0]


def test_a_pollers_design_hold_is_its_cycle_and_a_routes_its_delivery_delay() -> None:
    scenario = _scenario(
        20.0,
        10,
        [
            {"name": "p", "kind": "poll", "interval_s": 5, "min_age_s": 1},
            {"name": "e", "kind": "s3-lambda"},
            {"name": "q", "kind": "s3-sqs-lambda", "batching_window_s": 0.5},
        ],
    )
    poll, events, sqs = scenario.strategies
    aws = load_profile("aws")
    assert design_hold_s(poll, aws) == 6.0  # a profile delays deliveries, never a poller
    assert design_hold_s(events, load_profile("instant")) == 0.0
    assert design_hold_s(events, aws) == pytest.approx(aws.distribution("s3_to_lambda").quantile(0.99))
    legs = sum(aws.distribution(r).quantile(0.99) for r in ("s3_to_sqs", "sqs_to_lambda"))
    assert design_hold_s(sqs, aws) == pytest.approx(0.5 + legs)


def test_the_design_backlog_counts_the_files_written_within_the_hold() -> None:
    assert design_backlog([0.05 * i for i in range(200)], 5.0) == 101  # 20/s for 5 s, both ends
    assert design_backlog([0.0] * 30 + [10.0 + i for i in range(5)], 2.0) == 30  # a burst counts whole
    assert design_backlog([0.1, 0.2], 0.0) == 0


def test_slow_backend_requests_bind_the_run_but_slow_setup_does_not() -> None:
    assert judge(request_seconds={"writer": [0.2] * 30}).bound
    assert not judge(request_seconds={"setup": [0.5] * 30, "writer": [0.002] * 30}).bound


def test_thresholds_are_recorded_with_the_verdict() -> None:
    health = judge(thresholds=HarnessThresholds(writer_lag_p95_s=0.5))
    assert health.model_dump()["thresholds"]["writer_lag_p95_s"] == 0.5


def _scenario(rate: float, count: int, strategies: list[dict[str, Any]], profile: str = "instant") -> Any:
    return parse_scenario(
        {
            "name": f"health-{rate:g}",
            "seed": 5,
            "drain_timeout_s": 8,
            "latency_profile": profile,
            "workload": {
                "arrivals": {"process": "constant", "rate_per_s": rate, "count": count},
                "content": {"kind": "csv", "rows": 5},
            },
            "strategies": strategies,
        },
        "test",
    )


def test_a_run_driven_past_this_machine_is_marked_bound(tmp_path: Path) -> None:
    # 2,000 files/s is over ten times what one put+get+put on moto in-process can do here
    summary = run_scenario(
        _scenario(
            2000.0, 600, [{"name": "poll", "kind": "poll", "interval_s": 0.5, "cursor": "start-after"}]
        ),
        tmp_path,
    )
    harness = summary.strategies["poll"].harness
    assert harness is not None
    assert harness.bound, harness
    assert any("writer fell behind" in r for r in harness.reasons)
    assert BOUND_MARK in summary_caption(summary)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["strategies"]["poll"]["harness"]["bound"] is True


def test_a_quiet_quickstart_like_run_is_not_bound(tmp_path: Path) -> None:
    summary = run_scenario(
        _scenario(10.0, 25, [{"name": "sqs", "kind": "s3-sqs-lambda", "wait_time_s": 1}]), tmp_path
    )
    harness = summary.strategies["sqs"].harness
    assert harness is not None
    assert not harness.bound, harness.reasons
    assert harness.writer_lag_p95_s < 0.1
    assert {"handler", "writer"} <= set(harness.request_s)


def test_a_delivery_delay_inside_the_writing_is_not_the_harness(tmp_path: Path) -> None:
    # a fixed 1.5 s delivery inside 3 s of writing: the backlog ramps to the files in flight, then
    # holds; judged without the delay (the old verdict) that ramp read as falling behind
    profile = tmp_path / "slow.toml"
    profile.write_text(
        'name = "slow"\ndescription = "a fixed delivery delay"\n'
        '[routes.s3_to_lambda]\ndistribution = "constant"\nvalue_s = 1.5\nsource = "test"\n'
    )
    summary = run_scenario(
        _scenario(20.0, 60, [{"name": "events", "kind": "s3-lambda"}], profile=str(profile)),
        tmp_path / "out",
    )
    harness = summary.strategies["events"].harness
    assert harness is not None
    assert harness.backlog_design >= 30
    assert harness.backlog_second_half is not None
    assert harness.backlog_first_half is not None
    assert not harness.bound, harness.reasons


def _results(bound: bool, latencies: list[float]) -> Results:
    records = pd.DataFrame({"strategy": "s", "outcome": "processed", "latency_s": latencies})
    strategy = {
        "latency_s": {"p95": max(latencies)},
        "api_calls_total": 1,
        "invocations": 1,
        "harness": {"bound": bound, "reasons": ["the writer fell behind its schedule"] if bound else []},
    }
    summary = {
        "scenario": {"name": "x"},
        "latency_profile": {"name": "instant"},
        "strategies": {"s": {"kind": "poll", "backend": "moto", "files": 50, "processed": 50, **strategy}},
    }
    return Results(Path("x"), records, Run.model_validate(copy.deepcopy(summary)))


def test_compare_refuses_significance_between_harness_bound_runs() -> None:
    fast, slow = [0.01 + i * 1e-4 for i in range(50)], [1.0 + i * 1e-3 for i in range(50)]
    clean, _ = compare_results(_results(False, fast), _results(False, slow))
    assert clean[0].significant
    comparisons, notes = compare_results(_results(False, fast), _results(True, slow))
    assert not comparisons[0].significant
    assert comparisons[0].harness_bound
    assert "harness-bound" in comparisons[0].verdict
    assert any("writer fell behind" in n for n in notes)
