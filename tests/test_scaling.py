"""Scaling as AWS documents it, at its edges; sizing; and a queue that cannot keep up is named."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.cost.scaling import UNBOUNDED, poll_sizing, poll_workers, sqs_mapping_load, stability
from bench.live.stability import live_stability
from bench.results.model import Run, StrategyResult
from bench.scenario.spec import parse_scenario
from bench.simulate.runner import SimulationOptions, simulate_scenario
from bench.simulate.scaling import SqsTimeline
from event_handlers.runtime.async_invoke import AsyncConfig, AsyncInvoker
from event_handlers.runtime.function import FunctionConfig, LocalFunction
from event_handlers.runtime.latency import Distribution
from event_handlers.runtime.scaling import (
    SQS_RULES,
    SqsScalingState,
    empty_receives_per_s,
    function_concurrency_limit,
    sqs_idle_pollers,
    sqs_mapping_cap,
    sqs_start,
    sqs_step,
)
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig


def _grow(state: SqsScalingState, cap: int) -> SqsScalingState:
    return sqs_step(state, messages_remain=True, in_use=state.batches, received=True, elapsed_s=60, cap=cap)


# -- the rules ------------------------------------------------------------------------------------
def test_the_mapping_starts_with_five_batches_and_adds_300_a_minute_up_to_1000() -> None:
    cap = sqs_mapping_cap()
    assert cap == 1000
    state = sqs_start(cap)
    levels = [state.batches]
    for _ in range(5):
        state = _grow(state, cap)
        levels.append(state.batches)
    assert levels == [5, 305, 605, 905, 1000, 1000]


def test_half_a_minute_of_backlog_adds_half_as_many() -> None:
    state = sqs_step(sqs_start(1000), messages_remain=True, in_use=5, received=True, elapsed_s=30, cap=1000)
    assert state.batches == 155


@pytest.mark.parametrize(
    ("maximum", "reserved", "cap"),
    [(None, None, 1000), (50, None, 50), (None, 100, 100), (200, 20, 20), (None, 3, 3), (None, 5000, 1000)],
)
def test_maximum_concurrency_reserved_concurrency_and_the_account_limit_cap_it(
    maximum: int | None, reserved: int | None, cap: int
) -> None:
    assert sqs_mapping_cap(maximum, reserved) == cap
    state = sqs_start(cap)
    assert state.batches == min(5, cap)
    for _ in range(5):
        state = _grow(state, cap)
    assert state.batches == cap


def test_it_scales_back_to_what_is_in_use_but_not_below_five() -> None:
    busy = SqsScalingState(305)
    after = sqs_step(busy, messages_remain=False, in_use=12.3, received=True, elapsed_s=60, cap=1000)
    assert after.batches == 18  # 12.3 in use, each at most 70% busy (an assumption)
    quiet = sqs_step(after, messages_remain=False, in_use=0.4, received=True, elapsed_s=60, cap=1000)
    assert quiet.batches == 5


def test_an_idle_queue_is_polled_by_two_after_a_quiet_minute_unless_maximum_concurrency_is_set() -> None:
    state = sqs_start(1000)
    assert sqs_idle_pollers(state, maximum_concurrency_set=False, cap=1000) == 5
    state = sqs_step(state, messages_remain=False, in_use=0, received=False, elapsed_s=60, cap=1000)
    assert sqs_idle_pollers(state, maximum_concurrency_set=False, cap=1000) == 2
    assert sqs_idle_pollers(state, maximum_concurrency_set=True, cap=1000) == 5
    woken = sqs_step(state, messages_remain=False, in_use=0.1, received=True, elapsed_s=60, cap=1000)
    assert sqs_idle_pollers(woken, maximum_concurrency_set=False, cap=1000) == 5


def test_every_figure_names_its_source_and_assumptions_say_so() -> None:
    facts = SQS_RULES.as_dict()
    assert "services-sqs-scaling" in str(facts["added_per_minute"])
    assert str(facts["quiet_before_low_s"]).count("assumption") == 1  # type: ignore[index]
    assert function_concurrency_limit(None) == 1000
    assert function_concurrency_limit(7) == 7


def test_empty_receives_follow_the_idle_pollers_and_vanish_under_load() -> None:
    assert empty_receives_per_s(2, 0.0, 20) == pytest.approx(0.1)  # two pollers, one 20 s poll each
    assert empty_receives_per_s(5, 0.0, 0) == pytest.approx(5.0)  # short polls counted as 1 s
    assert empty_receives_per_s(4, 11.6, 20) < 1e-20
    assert empty_receives_per_s(0, 0.0, 20) == 0.0


# -- sizing (what pve decide and the cost model call) ------------------------------------------------
def test_the_mapping_at_10m_files_a_day_runs_the_batches_the_work_needs() -> None:
    load = sqs_mapping_load(10_000_000 / 86400, 0.1)
    assert load.in_use == pytest.approx(11.574, rel=1e-3)
    assert load.batches == 17  # 11.6 in use, at most 70% busy each
    assert load.stability.stable
    idle = sqs_mapping_load(0.0, 0.1)
    assert idle.receives_per_s == pytest.approx(2 / 20)  # AWS's low-traffic optimisation
    assert sqs_mapping_load(0.0, 0.1, maximum_concurrency=10).receives_per_s == pytest.approx(5 / 20)
    one = sqs_mapping_load(1.0, 0.1)  # 1 msg/s: one receive per message, idle polls nearly all fill
    assert one.receives_per_s == pytest.approx(1.0 + empty_receives_per_s(5 - 0.1, 1.0, 20))
    assert not sqs_mapping_load(50.0, 1.0, reserved_concurrency=10).stability.stable


def test_poll_workers_are_sized_for_the_rate() -> None:
    assert poll_workers(0.0, 0.1) == 1
    assert poll_workers(11.574, 0.1) == 2  # 1.16 busy / 0.7
    assert poll_workers(115.74, 0.1) == 17
    sized = poll_sizing(115.74, 0.1)
    assert sized.utilisation < 0.7
    assert sized.instances == 3  # 5.8 vCPUs of CPU at half the time, two vCPUs an instance
    with pytest.raises(ValueError, match="target"):
        poll_workers(1.0, 0.1, target=0)


def test_utilisation_of_one_or_more_is_unstable() -> None:
    assert stability(10.0, 0.1, 2).stable
    at_one = stability(10.0, 0.1, 1)
    assert not at_one.stable
    assert at_one.fields() == {"stable": False, "utilisation": 1.0, "servers": 1, "latency_note": UNBOUNDED}
    none = stability(1.0, 0.1, 0)
    assert math.isinf(none.utilisation)
    assert none.fields()["utilisation"] is None


# -- the simulator ----------------------------------------------------------------------------------
def test_the_timeline_adds_300_after_a_minute_with_messages_left_and_scales_back() -> None:
    timeline = SqsTimeline(0.0, 600.0, 1000)
    available = np.linspace(0.0, 59.0, 6000)  # 100 a second, 0.1 s each: 10 busy, five run
    timeline.add(available, np.full(available.size, 0.1))
    assert timeline.levels[0] == 5
    assert timeline.levels[1] == 305  # messages remained: +300, and the backlog drains
    timeline.advance(300.0)
    assert timeline.levels[3] == 5
    assert timeline.peak == 305


def _scenario(strategies: list[dict[str, Any]]) -> Any:
    return parse_scenario(
        {
            "name": "scale",
            "latency_profile": "aws",
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 10.0, "duration_s": 3600}},
            "strategies": strategies,
        },
        "test",
    )


# the per-file service time these scaling checks are sized for (the work model would make Lambda's
# 0.74 s at 128 MB: the utilisation the assertions name is the point, so it is pinned)
TENTH_OF_A_SECOND = Distribution("constant", {"value_s": 0.1})


def test_a_simulated_sqs_mapping_keeps_up_where_one_fixed_poller_is_named_unstable(tmp_path: Path) -> None:
    scenario = _scenario(
        [
            {"name": "aws-scaled", "kind": "s3-sqs-lambda"},
            {"name": "one-poller", "kind": "s3-sqs-lambda", "pollers": 1},
            {"name": "sized-poll", "kind": "poll", "interval_s": 10, "cursor": "start-after"},
            {"name": "one-worker", "kind": "poll", "interval_s": 10, "cursor": "start-after", "workers": 1},
        ]
    )
    options = SimulationOptions(days=0.5, files_per_day=1_200_000, processing=TENTH_OF_A_SECOND)
    # 13.9 files/s x 0.1 s: 1.39 busy
    summary = simulate_scenario(scenario, tmp_path, options)
    s = summary.strategies
    assert s["aws-scaled"].stable
    assert s["aws-scaled"].latency_s.p50 < 2.0
    assert s["aws-scaled"].counters["sqs_peak_batches"] >= 5
    assert s["sized-poll"].stable
    assert s["sized-poll"].counters["workers"] == 2
    for name in ("one-poller", "one-worker"):
        assert s[name].stable is False
        assert s[name].utilisation == pytest.approx(1.389, rel=0.01)
        assert s[name].latency_note == UNBOUNDED
        assert s[name].latency_s.p50 > 60  # the backlog, which the mark stands in for


def test_async_events_beyond_reserved_concurrency_are_throttled_then_run(tmp_path: Path) -> None:
    scenario = _scenario([{"name": "capped", "kind": "s3-lambda", "function": {"reserved_concurrency": 1}}])
    options = SimulationOptions(days=0.05, files_per_day=700_000, processing=TENTH_OF_A_SECOND)
    summary = simulate_scenario(scenario, tmp_path, options)
    capped = summary.strategies["capped"]
    assert capped.stable  # 8.1 files/s x 0.1 s on one: 0.81
    assert capped.counters["throttled"] > 0
    assert capped.processed == capped.files


# -- the local runtime --------------------------------------------------------------------------------
def test_the_local_mapping_runs_five_pollers_capped_by_reserved_concurrency(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    free = LocalFunction(FunctionConfig(), lambda: lambda e, c: None)
    mapping = SqsEventSourceMapping(free, sqs, url, SqsMappingConfig(wait_time_s=1))
    assert (mapping.level, mapping.cap) == (5, 1000)
    capped = LocalFunction(FunctionConfig(reserved_concurrency=3), lambda: lambda e, c: None)
    assert SqsEventSourceMapping(capped, sqs, url, SqsMappingConfig(wait_time_s=1)).level == 3
    fixed = SqsEventSourceMapping(free, sqs, url, SqsMappingConfig(wait_time_s=1, pollers=2))
    assert fixed.level == 2


def test_the_local_mapping_scales_up_while_messages_remain_within_the_thread_cap(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    fn = LocalFunction(FunctionConfig(), lambda: lambda e, c: time.sleep(0.05))
    for i in range(0, 400, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": str(i + j)} for j in range(10)]
        )
    config = SqsMappingConfig(batch_size=10, wait_time_s=1, scale_interval_s=0.3, local_max_pollers=8)
    mapping = SqsEventSourceMapping(fn, sqs, url, config).start()
    deadline = time.monotonic() + 10
    while mapping.level < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    mapping.stop()
    assert mapping.level == 8  # AWS's 305, within this machine's eight threads
    assert mapping.peak_batches == 305
    assert mapping.local_cap_reached


def _run_async(
    config: AsyncConfig, reserved: int | None, events: int = 16
) -> tuple[AsyncInvoker, LocalFunction]:
    fn = LocalFunction(FunctionConfig(reserved_concurrency=reserved), lambda: lambda e, c: time.sleep(0.05))
    invoker = AsyncInvoker(fn, config).start()
    for i in range(events):
        invoker.submit({"n": i})
    assert invoker.wait_idle(timeout=20)
    invoker.stop()
    return invoker, fn


def test_async_invokers_grow_while_events_wait_and_throttle_beyond_reserved_concurrency() -> None:
    grown, fn = _run_async(AsyncConfig(workers=1, max_workers=8), None)
    assert grown.peak_workers == 8
    assert fn.counters.snapshot()["invocations"] == 16
    fixed, _ = _run_async(AsyncConfig(workers=2), None)
    assert fixed.peak_workers == 2
    _capped, fn = _run_async(
        AsyncConfig(workers=1, max_workers=8, throttle_backoff_s=0.01, throttle_backoff_cap_s=0.05), 2
    )
    counts = fn.counters.snapshot()
    assert counts["throttles"] > 0  # threads beyond the function's limit were throttled, then retried
    assert counts["invocations"] == 16


def test_live_runs_are_checked_against_the_servers_they_had() -> None:
    scenario = parse_scenario(
        {
            "name": "live",
            "workload": {"arrivals": {"process": "constant", "rate_per_s": 10.0, "count": 50}},
            "strategies": [
                {"name": "one", "kind": "poll", "interval_s": 1, "workers": 1},
                {"name": "sized", "kind": "poll", "interval_s": 1},
                {"name": "events", "kind": "s3-lambda"},
            ],
        },
        "test",
    )
    result = StrategyResult(kind="poll", backend="moto", files=50, processed=50, processing_s={"mean": 0.2})
    one, sized, events = (live_stability(s, scenario, result) for s in scenario.strategies)
    assert not one.stable
    assert one.utilisation == pytest.approx(2.0)
    assert sized.servers == 2  # sized before the run for an assumed 100 ms a file: 1 busy / 0.7
    assert not sized.stable  # files took 200 ms: named, not averaged
    assert events.servers == 32
    assert events.stable


def test_the_table_marks_an_unstable_strategy_and_shows_no_percentile_of_its_backlog() -> None:
    from rich.console import Console

    from bench.report.table import summary_table

    def strategy(stable: bool) -> StrategyResult:
        return StrategyResult(
            kind="poll",
            backend="moto",
            parameters={"interval_s": 2.0},
            files=10,
            processed=10,
            latency_s={"p50": 6802.0, "p95": 13000.0, "p99": 13500.0},
            stable=stable,
            utilisation=0.5 if stable else 1.157,
        )

    summary = Run(
        scenario={"name": "s"},
        latency_profile={"name": "aws"},
        strategies={"slow": strategy(False), "fine": strategy(True)},
    )
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    text = console.export_text()
    assert "slow (!)" in text
    assert "u=1.16" in text
    assert "unbounded" in text
    assert text.count("113.4min") == 1  # only the stable one keeps its percentiles


def test_a_poller_whose_listings_outgrow_its_interval_is_unstable_too(tmp_path: Path) -> None:
    scenario = _scenario([{"name": "watermark-1s", "kind": "poll", "interval_s": 1, "cursor": "watermark"}])
    summary = simulate_scenario(scenario, tmp_path, SimulationOptions(days=0.02, files_per_day=500_000))
    poll = summary.strategies["watermark-1s"]
    assert poll.feasible is False  # every listing pages through the whole bucket
    assert poll.stable is False
    assert poll.servers == 1  # the lister, not the workers, is what cannot keep up
    assert poll.utilisation > 1
    assert poll.utilisation == pytest.approx(poll.counters["listing_s_max"] / 1.0, rel=0.05)
