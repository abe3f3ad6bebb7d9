"""The simulator's listing time, feasibility, retention and starting state, and the delivery tail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.cli import main
from bench.results.files import read_results
from bench.results.model import Run
from bench.scenario.retention import RetentionError, parse_retention, start_state
from bench.scenario.spec import ScenarioError, parse_scenario
from bench.simulate.runner import SimulationOptions, retained_days, simulate_scenario
from event_handlers.runtime.latency import Distribution

NO_WORK = Distribution("constant", {"value_s": 0.0})


def scenario(strategies: list[dict[str, Any]], bucket: dict[str, Any] | None = None, **extra: Any) -> Any:
    return parse_scenario(
        {
            "name": "state",
            "seed": 5,
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 1, "duration_s": 86400}},
            "bucket": bucket or {},
            "strategies": strategies,
            **extra,
        },
        "t",
    )


def simulate(tmp: Path, sc: Any, **options: Any) -> Run:
    defaults: dict[str, Any] = {"processing": NO_WORK, "list_base_s": 0.0, "list_per_object_s": 0.0}
    return simulate_scenario(sc, tmp, SimulationOptions(**{**defaults, **options}))


def detection(tmp: Path, name: str) -> np.ndarray:
    records = read_results(tmp).records
    rows = records[records["strategy"] == name]
    return (rows["detected_at"] - rows["written_at"]).to_numpy(dtype=float)


def test_listing_time_is_pages_times_the_per_page_time(tmp_path: Path) -> None:
    """A seen-set poller lists the whole prefix: 500,000 files already there are 500 pages, which
    at 0.1 s a page delay every detection by about 50 s more than from an empty bucket."""
    sc = scenario(
        [{"name": "seen", "kind": "poll", "interval_s": 600, "cursor": "seen-set"}],
        {"retention": "keep", "history_days": 500},  # 500 days at 1,000 files a day
    )
    steady = simulate(tmp_path / "steady", sc, days=0.1, files_per_day=1000, list_per_page_s=0.1)
    simulate(tmp_path / "empty", sc, days=0.1, files_per_day=1000, list_per_page_s=0.1, start="empty")
    assert steady.simulation.bucket.initial_objects == pytest.approx(500_000, rel=1e-6)
    extra = detection(tmp_path / "steady", "seen").mean() - detection(tmp_path / "empty", "seen").mean()
    assert extra == pytest.approx(501 * 0.1 - 1 * 0.1, abs=0.2)  # 500 (+1 for the day's ~100) pages
    counters = steady.strategies["seen"].counters
    assert counters["listing_pages_max"] == 501
    assert counters["listing_s_max"] == pytest.approx(50.1)
    assert steady.strategies["seen"].feasible is True  # 50 s of listing fits a 600 s interval


def test_a_full_sweep_takes_time(tmp_path: Path) -> None:
    """start-after lists only what is new, but every sweep_every cycles it lists everything: the
    files found by a sweep wait for the whole listing."""
    sc = scenario(
        [{"name": "sa", "kind": "poll", "interval_s": 10, "cursor": "start-after", "sweep_every": 6}],
        {"retention": "keep", "history_days": 1.0},  # 86,400 files: 87 pages
    )
    simulate(tmp_path / "slow", sc, days=0.05, files_per_day=86400, list_per_page_s=0.05)
    simulate(tmp_path / "free", sc, days=0.05, files_per_day=86400, list_per_page_s=0.0)
    waited = detection(tmp_path / "slow", "sa") - detection(tmp_path / "free", "sa")  # same arrivals, ticks
    sweeps = waited > 1.0
    assert waited[sweeps].min() == pytest.approx(87 * 0.05)  # 87 pages at the first sweep
    assert waited[sweeps].max() == pytest.approx(91 * 0.05)  # 91 once the period's 4,320 are in
    assert waited[~sweeps] == pytest.approx(np.full((~sweeps).sum(), 0.05))  # one page
    assert float(np.mean(sweeps)) == pytest.approx(1 / 6, abs=0.03)  # one cycle in six


def test_a_listing_longer_than_the_interval_is_infeasible_not_averaged(tmp_path: Path) -> None:
    """The issue's case: a seen-set poller keeping its files lists ~3,000 pages a cycle at 100k
    files/day (30 days kept), about 180 s at 60 ms a page, for a 60 s interval."""
    sc = scenario(
        [
            {"name": "seen-60s", "kind": "poll", "interval_s": 60, "cursor": "seen-set"},
            {"name": "inbox-60s", "kind": "poll", "interval_s": 60, "cursor": "inbox"},
            {
                "name": "hourly",
                "kind": "scheduled-poll",
                "interval_s": 3600,
                "cursor": "seen-set",
                "function": {"timeout_s": 60},
            },
        ],
        {"retention": "lifecycle:30"},
    )
    summary = simulate(tmp_path, sc, days=0.2, files_per_day=100_000, list_per_page_s=0.06)
    seen = summary.strategies["seen-60s"]
    assert seen.feasible is False
    assert "falls behind" in seen.why_not
    assert "3,0" in seen.why_not  # the pages
    assert seen.counters["listing_s_max"] == pytest.approx(3001 * 0.06, rel=0.01)
    assert summary.strategies["inbox-60s"].feasible is True
    assert summary.strategies["inbox-60s"].why_not is None
    hourly = summary.strategies["hourly"]
    assert hourly.feasible is False
    assert "timeout of 60 s" in hourly.why_not


def test_steady_state_bills_more_than_an_empty_start_for_a_poller_that_keeps_files(tmp_path: Path) -> None:
    sc = scenario(
        [
            {"name": "seen", "kind": "poll", "interval_s": 60, "cursor": "seen-set"},
            {"name": "events", "kind": "s3-lambda"},
        ],
        {"retention": "keep"},
    )
    steady = simulate(tmp_path / "s", sc, days=1, files_per_day=200_000)
    empty = simulate(tmp_path / "e", sc, days=1, files_per_day=200_000, start="empty")
    lists_steady = steady.strategies["seen"].api_calls["s3.ListObjectsV2"]
    lists_empty = empty.strategies["seen"].api_calls["s3.ListObjectsV2"]
    assert lists_steady == pytest.approx(lists_empty * 3, rel=0.05)  # mean 300k vs 100k files listed
    bill = {k: s.strategies["seen"].cost.run_usd["total"] for k, s in (("s", steady), ("e", empty))}
    assert bill["s"] > bill["e"] * 1.5
    assert (
        steady.strategies["events"].cost.run_usd["total"] == empty.strategies["events"].cost.run_usd["total"]
    )
    assert steady.strategies["seen"].cost.monthly_retention_days > (
        empty.strategies["seen"].cost.monthly_retention_days
    )
    assert "steady state" in steady.simulation.bucket.label
    assert "empty" in empty.simulation.bucket.label


def test_retention_decides_what_a_listing_sees(tmp_path: Path) -> None:
    strategies = [{"name": "seen", "kind": "poll", "interval_s": 60, "cursor": "seen-set"}]
    lists = {}
    for policy in ("keep", "lifecycle:1", "delete"):
        summary = simulate(
            tmp_path / policy.replace(":", "-"),
            scenario(strategies),
            days=3,
            files_per_day=50_000,
            retention=policy,
            start="empty",
        )
        lists[policy] = summary.strategies["seen"].api_calls
    cycles = 3 * 1440
    assert lists["delete"]["s3.ListObjectsV2"] == pytest.approx(cycles, abs=3)  # one page a cycle
    assert lists["delete"]["s3.DeleteObject"] == pytest.approx(150_000, rel=0.02)
    # lifecycle: grows for a day, then holds a day of files (50 pages); keep grows for 3 days
    assert lists["lifecycle:1"]["s3.ListObjectsV2"] == pytest.approx(cycles / 3 * (25 + 50 + 50), rel=0.03)
    assert lists["keep"]["s3.ListObjectsV2"] == pytest.approx(cycles * 75, rel=0.03)
    assert "s3.DeleteObject" not in lists["keep"]


def test_retention_and_start_parse_and_fail_clearly() -> None:
    assert parse_retention("lifecycle:7").days == 7
    assert parse_retention("keep-forever").kind == "keep"
    assert parse_retention("delete-after-processing").lifetime_s == 0
    with pytest.raises(RetentionError, match="keep, delete or lifecycle:N"):
        parse_retention("sometimes")
    with pytest.raises(ScenarioError, match=r"bucket: .*lifecycle needs a positive number of days"):
        scenario([{"name": "e", "kind": "s3-lambda"}], {"retention": "lifecycle:0"})
    steady = start_state("steady", parse_retention("lifecycle:30"), 10.0, 86400.0, None)
    assert steady.initial_objects == pytest.approx(10 * 30 * 86400)
    assert start_state("steady", parse_retention("keep"), 10.0, 86400.0, None).history_days == 1.0
    assert start_state("empty", parse_retention("keep"), 10.0, 86400.0, None).initial_objects == 0
    # a month from empty under a 30-day lifecycle sees on average half of what a steady month sees
    empty = start_state("empty", parse_retention("lifecycle:30"), 10.0, 86400.0, None)
    assert retained_days(empty, 30.0) == pytest.approx(15.0)
    assert retained_days(steady, 30.0) == pytest.approx(30.0)


def test_cli_start_and_retention_flags_label_the_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q"
    args = ["simulate", "quickstart", "--out", str(out), "--processing-ms", "5", "--start", "empty"]
    assert main([*args, "--retention", "lifecycle:2"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulation"]["bucket"]["start"] == "empty"
    assert summary["simulation"]["bucket"]["retention"] == "lifecycle:2"
    printed = capsys.readouterr().out
    assert "start: empty bucket" in printed
    assert "lifecycle: expire after 2 days" in printed
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "quickstart", "--retention", "sometimes"])
    assert exc.value.code == 2
    assert "--retention" in capsys.readouterr().err


def test_the_delivery_tail_shows_in_p999_and_max_of_a_simulation(tmp_path: Path) -> None:
    sc = scenario(
        [{"name": "s3", "kind": "s3-lambda"}, {"name": "eb", "kind": "s3-eventbridge-lambda"}],
        latency_profile="aws",
    )
    summary = simulate(tmp_path, sc, days=1, files_per_day=200_000)
    for name in ("s3", "eb"):
        latency = summary.strategies[name].latency_s
        assert latency.p50 < 2.0, name
        assert latency.p99 < 3.5, name
        assert latency.p999 > 30.0, name  # 1 in 500 notifications takes a minute or so
        assert latency.max > 120.0, name


def test_the_comparison_table_marks_what_cannot_run() -> None:
    import pandas as pd
    from rich.console import Console

    from bench.report.table import comparison_table

    frame = pd.DataFrame(
        {
            "strategy": ["poll", "poll", "events"],
            "files_per_day": [1e3, 1e7, 1e7],
            "latency_p50_s": [30.0, 17000.0, 1.4],
            "bill_usd": [0.5, 190.0, 120.0],
            "feasible": [True, False, True],
            "bucket": ["steady start, retention lifecycle:30"] * 3,
        }
    )
    console = Console(width=200, record=True)
    console.print(comparison_table(frame))
    text = console.export_text()
    assert "steady start, retention lifecycle:30" in text
    assert "$190.00 *" in text
    assert "$120.00 *" not in text
    assert "$0.50 *" not in text
