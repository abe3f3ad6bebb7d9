"""``pve simulate --traffic``: the recorded creation times replayed as the scenario's arrivals, so a
burst builds the pollers' backlog that a flat stream of the same count does not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.cli import main
from bench.traffic import read_traffic
from bench.traffic.replay import write_replay
from bench.traffic.synthetic import arrival_times, write_access_log

N = 20_000


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("logs")
    flat = write_access_log(folder / "flat.log", arrival_times(N, seed=3), prefix="steady/")
    bursty = write_access_log(folder / "bursty.log", arrival_times(N, bursts=1, seed=3), prefix="bursty/")
    return flat, bursty


def test_the_replay_file_holds_the_sorted_creations_from_the_first_compressed(logs, tmp_path: Path) -> None:
    both = list(read_traffic(list(logs)))
    whole = write_replay(iter(both), tmp_path / "all.csv")
    assert whole.files == 2 * N
    one = write_replay(iter(both), tmp_path / "one.csv", prefixes=("bursty/",), compress=4.0)
    times = np.loadtxt(tmp_path / "one.csv", delimiter=",", skiprows=1)[:, 0]
    assert one.files == N
    assert times[0] == 0.0
    assert np.all(np.diff(times) >= 0)
    assert times[-1] == pytest.approx(one.span_s, abs=1e-6)
    assert one.span_s <= 60.0 / 4 + 1  # one burst of about a minute, four times faster


def p95(out: Path, strategy: str) -> float:
    return json.loads((out / "summary.json").read_text())["strategies"][strategy]["latency_s"]["p95"]


def servers(out: Path, strategy: str) -> float:
    return json.loads((out / "summary.json").read_text())["strategies"][strategy]["servers"]


def test_a_replayed_burst_queues_where_a_flat_stream_of_the_same_count_does_not(logs, tmp_path: Path) -> None:
    runs = {}
    for name, log in zip(("flat", "bursty"), logs, strict=True):
        out = tmp_path / name
        args = ["simulate", "--traffic", str(log), "--start", "empty", "--out", str(out), "--quiet"]
        assert main(args) == 0
        runs[name] = out
        assert json.loads((out / "summary.json").read_text())["strategies"]["poll-1min"]["files"] == N
    # SQS's event source mapping adds pollers a minute at a time: the burst queues
    assert p95(runs["bursty"], "s3-sqs-lambda") > 5 * p95(runs["flat"], "s3-sqs-lambda")
    assert p95(runs["bursty"], "s3-lambda") < 1.5 * p95(runs["flat"], "s3-lambda")  # async invokes absorb it
    # the poller keeps up only with many more servers for the burst
    assert servers(runs["bursty"], "poll-1min") > 10 * servers(runs["flat"], "poll-1min")


def test_simulate_traffic_refuses_a_rate_of_its_own(logs, tmp_path: Path, capsys) -> None:
    args = ["simulate", "--traffic", str(logs[0]), "--files-per-day", "10", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "--traffic" in capsys.readouterr().err


def test_a_replay_scenario_without_count_or_duration_takes_its_period_from_the_trace(tmp_path: Path) -> None:
    from bench.scenario.spec import load_scenario
    from bench.simulate.runner import SimulationOptions, simulate_scenario

    trace = tmp_path / "arrivals.csv"
    times = np.sort(np.random.default_rng(5).uniform(0.0, 3600.0, 500))
    np.savetxt(
        trace,
        np.column_stack([times, np.full(500, 1000)]),
        fmt=["%.3f", "%d"],
        delimiter=",",
        header="arrival_s,size_bytes",
        comments="",
    )
    base = load_scenario("monthly")
    arrivals = {"process": "replay", "replay_path": str(trace)}  # no count, no duration_s
    scenario = base.with_overrides(workload={**base.workload.model_dump(), "arrivals": arrivals})
    simulate_scenario(scenario, tmp_path / "out", SimulationOptions(start="empty"))
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {s["files"] for s in summary["strategies"].values()} == {500}
