"""Deciding per prefix from your own traffic: a bursty log is judged at its busiest minute (a flat
rate of the same daily count is not), prefixes are ranked by what events save, the decisions run on
any concurrent.futures executor (a local Dask cluster included), and the report holds what a design
doc needs."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.cli import main
from bench.decide.api import decide_for
from bench.traffic import Grouping, profile_traffic, read_traffic
from bench.traffic.fleet import DecideSettings, decide_prefix, decide_prefixes, default_executor, polls
from bench.traffic.synthetic import arrival_times, write_access_log

DAILY = 20_000
SETTINGS = DecideSettings(workload={"latency_p95_s": 120.0}, samples=4)


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("logs")
    flat = write_access_log(folder / "flat.log", arrival_times(DAILY, seed=1), prefix="steady/")
    bursty = write_access_log(folder / "bursty.log", arrival_times(DAILY, bursts=2, seed=1), prefix="bursty/")
    return flat, bursty


def profiles_of(*paths: Path):
    return profile_traffic(read_traffic(list(paths)), Grouping(depth=1))


def verdicts(decision) -> dict[str, tuple[bool, float | None]]:
    return {o.name: (o.feasible, o.latency.p95 if o.feasible else None) for o in decision.options}


def test_a_bursty_log_changes_feasibility_where_a_flat_rate_of_the_same_daily_count_does_not(logs) -> None:
    (bursty,) = profiles_of(logs[1])
    assert bursty.creates == DAILY
    assert bursty.dispersion > 100  # far from Poisson's 1
    flat_rate = verdicts(decide_for([bursty.files_per_day], samples=4, latency_p95_s=120.0)[0])
    from_log = verdicts(decide_prefix(bursty, SETTINGS))
    flipped = [name for name, (feasible, _) in from_log.items() if flat_rate[name][0] and not feasible]
    assert "scheduled-Lambda poller" in flipped  # its one invocation cannot take the burst
    assert "EC2 inbox poller (deletes when done)" in flipped  # no instance keeps up with the minute
    sqs = "S3 -> SQS -> Lambda"
    assert from_log[sqs][1] > 3 * flat_rate[sqs][1]  # the queue builds while the mapping scales out


def test_a_flat_log_stays_close_to_its_flat_rate(logs) -> None:
    (steady,) = profiles_of(logs[0])
    assert 0.8 < steady.dispersion < 1.25  # Poisson-like
    from_log = verdicts(decide_prefix(steady, SETTINGS))
    flat_rate = verdicts(decide_for([steady.files_per_day], samples=4, latency_p95_s=120.0)[0])
    assert {n: f for n, (f, _) in from_log.items()} == {n: f for n, (f, _) in flat_rate.items()}
    sqs = "S3 -> SQS -> Lambda"
    assert from_log[sqs][1] < 1.5 * flat_rate[sqs][1]


def test_a_prefix_read_alone_is_billed_as_read_with_the_others(logs) -> None:
    # the bursty log spans ~10 h first to last: its quiet hours are still part of its day
    (alone,) = profiles_of(logs[1])
    together = {p.prefix: p for p in profiles_of(*logs)}
    assert alone.files_per_day == pytest.approx(sum(alone.hourly)) == pytest.approx(DAILY)
    bill = {}
    for name, profile in (
        ("alone", alone),
        ("together", together["bursty/"]),
        ("steady", together["steady/"]),
    ):
        options = {o.name: o for o in decide_prefix(profile, DecideSettings(samples=4)).options}
        bill[name] = options["S3 -> Lambda"].monthly_point
    assert (
        bill["alone"] == pytest.approx(bill["together"], rel=1e-3) == pytest.approx(bill["steady"], rel=1e-3)
    )


def test_decide_workload_judges_at_a_busiest_minute_and_bills_the_day() -> None:
    from bench import decide_workload

    flat = decide_workload(DAILY, samples=2)
    burst = decide_workload(DAILY, peak_files_per_day=5_000 * 1440.0, samples=2)
    assert burst.workload.peak == 5_000 * 1440.0
    shape = [0.0] * 23 + [1.0]  # the busiest hour, 24 x DAILY a day, is calmer than the minute
    both = decide_workload(DAILY, hourly=shape, peak_files_per_day=5_000 * 1440.0, samples=2)
    assert both.workload.peak == 5_000 * 1440.0
    bill = {o.name: o.monthly_point for o in flat.options}
    assert {o.name: o.monthly_point for o in burst.options}["S3 -> Lambda"] == bill["S3 -> Lambda"]
    assert all(o.feasible for o in flat.options)
    assert not any(o.feasible for o in burst.options if polls(o))
    with pytest.raises(ValueError, match="peak_files_per_day"):
        decide_workload(DAILY, peak_files_per_day=0.0)


def test_prefixes_are_ranked_by_what_events_save(logs) -> None:
    profiles = profiles_of(*logs)
    with ThreadPoolExecutor(2) as pool:
        ranked = decide_prefixes(profiles, SETTINGS, executor=pool)
    assert [d.profile.prefix for d in ranked] == ["bursty/", "steady/"]
    assert ranked[0].verdict == "use events (polling cannot meet them)"  # first: no saving to weigh
    assert ranked[0].saving is None
    assert ranked[1].verdict == "use events"
    assert ranked[1].saving > 0


def test_the_default_executor_uses_every_core() -> None:
    with default_executor() as pool:
        assert pool._max_workers == os.cpu_count()  # type: ignore[attr-defined]


def test_decisions_run_on_a_local_dask_cluster_with_progress(logs) -> None:
    from distributed import Client, LocalCluster

    profiles = profiles_of(*logs)
    seen: list[tuple[int, int]] = []
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        on_dask = decide_prefixes(
            profiles, SETTINGS, executor=client.get_executor(), progress=lambda d, n, _: seen.append((d, n))
        )
    with ThreadPoolExecutor(2) as pool:
        local = decide_prefixes(profiles, SETTINGS, executor=pool)
    assert [d.as_dict() for d in on_dask] == [d.as_dict() for d in local]
    assert seen == [(1, 2), (2, 2)]


def test_pve_decide_traffic_runs_on_a_dask_scheduler_by_address(logs, tmp_path: Path, capsys) -> None:
    from distributed import LocalCluster

    doc = tmp_path / "decision.json"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        args = [
            "decide",
            "--traffic",
            *map(str, logs),
            "--samples",
            "4",
            "--latency-p95",
            "120",
            "--executor",
        ]
        args += [
            "dask",
            "--dask-address",
            cluster.scheduler_address,
            "--out",
            str(tmp_path),
            "--json",
            str(doc),
        ]
        assert main(args) == 0
    assert "decided 2/2 prefixes" in capsys.readouterr().err
    assert [d["prefix"] for d in json.loads(doc.read_text())["decisions"]] == ["bursty/", "steady/"]


def test_pve_decide_traffic_writes_json_and_reports(logs, tmp_path: Path, capsys, monkeypatch) -> None:
    out, doc = tmp_path / "out", tmp_path / "decision.json"
    base = ["decide", "--traffic", *map(str, logs), "--samples", "4", "--latency-p95", "120"]
    md, page = tmp_path / "decision.md", tmp_path / "decision.html"
    args = [*base, "--executor", "thread", "--out", str(out), "--json", str(doc), "--report", str(md)]
    monkeypatch.setattr("sys.argv", ["pve", *args])  # the report quotes the command line
    assert main(args) == 0
    assert "decided 2/2 prefixes" in capsys.readouterr().err  # progress on stderr
    decisions = json.loads(doc.read_text())["decisions"]
    assert [d["prefix"] for d in decisions] == ["bursty/", "steady/"]
    assert decisions[0]["traffic"]["busiest_minute"]["files"] > 1000
    text = md.read_text()
    for heading in ("## The question", "## Requirements", "## Ranked decisions", "## What would flip",
                    "## Prices, assumptions and limits", "## Reproduce"):  # fmt: skip
        assert heading in text
    assert "](out/traffic.png)" in text
    assert "https://aws.amazon.com/lambda/pricing/" in text
    assert "pve decide --traffic " in text
    assert main([*base, "--executor", "thread", "--out", str(out), "--force", "--report", str(page)]) == 0
    assert "data:image/png;base64," in page.read_text()


@pytest.mark.parametrize(
    ("extra", "flag"),
    [(["--files-per-day", "10"], "--traffic"), (["--report", "x.txt"], "--report")],
)
def test_pve_decide_traffic_refuses_bad_flags_before_reading(logs, tmp_path, capsys, extra, flag) -> None:
    args = ["decide", "--traffic", str(logs[0]), "--out", str(tmp_path / "o"), *extra]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(f"error: {flag}")
