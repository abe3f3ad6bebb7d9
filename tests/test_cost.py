"""The cost module against hand-computed AWS bills (the arithmetic is written out in each test)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bench.cli import main
from bench.cost.model import (
    Deployment,
    break_even,
    ec2_cost,
    files_per_month,
    lambda_cost,
    load_pricing,
    logs_cost,
    monthly_cost,
    price_run,
    s3_request_cost,
    sqs_cost,
)
from bench.results.model import StrategyResult

MONTH_S = 730 * 3600  # AWS's month of 730 hours


def test_pricing_table_names_a_source_and_date_for_every_price() -> None:
    pricing = load_pricing()
    assert pricing.region == "us-east-1"
    for name, price in pricing.prices.items():
        assert price.source.startswith("https://"), name
        assert price.as_of, name
    assert pricing["lambda_request"] == pytest.approx(0.20 / 1e6)
    assert pricing["s3_put_copy_post_list"] == pytest.approx(0.005 / 1000)


def test_lambda_one_million_invocations_of_100ms_at_128mb() -> None:
    # requests: 1,000,000 x $0.20/1M = $0.20
    # compute: 1,000,000 x 0.100 s x 128/1024 GB = 12,500 GB-s x $0.0000166667 = $0.20833375
    cost = lambda_cost(1_000_000, memory_mb=128, duration_ms=100)
    assert cost.components["lambda.requests"] == pytest.approx(0.20)
    assert cost.components["lambda.compute"] == pytest.approx(0.20833375)
    assert cost.total == pytest.approx(0.40833375)


def test_lambda_duration_is_billed_per_started_millisecond() -> None:
    # 100.2 ms is billed as 101 ms: 1,000 x 0.101 s x 1 GB = 101 GB-s x $0.0000166667
    assert lambda_cost(1_000, 1024, 100.2).components["lambda.compute"] == pytest.approx(101 * 0.0000166667)


def test_lambda_arm64_is_cheaper_per_gb_second() -> None:
    # 12,500 GB-s x $0.0000133334 = $0.1666675
    assert lambda_cost(1_000_000, 128, 100, arch="arm64").components["lambda.compute"] == pytest.approx(
        0.1666675
    )


def test_lambda_free_tier_covers_a_million_requests_and_400k_gb_seconds() -> None:
    assert lambda_cost(1_000_000, 128, 100, free_tier=True).total == 0.0
    # 3M invocations of 1 s at 256 MB: 750,000 GB-s; 350,000 billable x $0.0000166667 = $5.833345
    # requests: 2M billable x $0.20/1M = $0.40
    cost = lambda_cost(3_000_000, 256, 1000, free_tier=True)
    assert cost.components["lambda.compute"] == pytest.approx(5.833345)
    assert cost.components["lambda.requests"] == pytest.approx(0.40)


def test_s3_requests_by_class() -> None:
    # LIST 1,000 x $0.005/1000 = $0.005; PUT+COPY 2,000 x $0.005/1000 = $0.01
    # GET 10,000 x $0.0004/1000 = $0.004; DELETE is free
    cost = s3_request_cost(
        {
            "ListObjectsV2": 1000,
            "PutObject": 1000,
            "CopyObject": 1000,
            "GetObject": 10_000,
            "DeleteObject": 5000,
        }
    )
    assert cost.components == pytest.approx({"s3.list": 0.005, "s3.put": 0.01, "s3.get": 0.004})


def test_sqs_ec2_and_logs() -> None:
    assert sqs_cost(3_000_000).total == pytest.approx(1.20)  # 3M x $0.40/1M
    assert sqs_cost(3_000_000, free_tier=True).total == pytest.approx(0.80)  # 2M billable
    assert ec2_cost(730).total == pytest.approx(730 * 0.0042 + 730 * 0.005)  # $3.066 + $3.65
    assert ec2_cost(730, "t3.micro", public_ipv4=False).total == pytest.approx(7.592)
    assert logs_cost(10).total == pytest.approx(5.0)
    assert logs_cost(10, free_tier=True).total == pytest.approx(2.5)


def test_idle_poller_on_ec2_for_a_month() -> None:
    # 2,628,000 s / 60 s = 43,800 polls, one LIST page each: 43,800 x $0.005/1000 = $0.219
    # t4g.nano 730 h x $0.0042 = $3.066; public IPv4 730 h x $0.005 = $3.65
    # its 8 GB gp3 root volume: 8 x $0.08 = $0.64
    cost = monthly_cost(Deployment.of("poll-ec2", interval_s=60), 0)
    assert cost.components["s3.list"] == pytest.approx(0.219)
    assert cost.components["ec2.ebs_root"] == pytest.approx(0.64)
    assert cost.total == pytest.approx(0.219 + 3.066 + 3.65 + 0.64)
    without = monthly_cost(Deployment.of("poll-ec2", interval_s=60, ebs_root_gb=0), 0)
    assert "ec2.ebs_root" not in without.components


def test_listing_everything_costs_a_page_per_thousand_retained_files_per_poll() -> None:
    # 10,000 files a day kept 30 days: 300,000 objects = 300 pages per poll
    # 43,800 polls x 300 pages x $0.005/1000 = $65.70
    n = files_per_month(10_000)
    cost = monthly_cost(Deployment.of("poll-ec2", interval_s=60, cursor="seen-set", retention_days=30), n)
    assert cost.components["s3.list"] == pytest.approx(65.70)


def test_s3_to_lambda_month_at_one_million_files() -> None:
    # GET 1M x $0.0004/1000 = $0.40; output PUT 1M x $0.005/1000 = $5.00
    # work 50 ms CPU + 50 ms wait; at 128 MB the CPU takes 1769/128 = 13.8203 x as long:
    # 0.05 + 0.05 x 13.8203 = 0.741016 s, billed 742 ms; 1M x 0.742 s x 0.125 GB = 92,750 GB-s
    # x $0.0000166667 = $1.54583643; requests $0.20; logs 1M x 350 B = 0.35 GB x $0.50 = $0.175
    # idempotency ledger: 2 writes per file, 2M x $0.625/1M = $1.25
    cost = monthly_cost(Deployment.of("s3-lambda", memory_mb=128, cpu_s=0.05, wait_s=0.05), 1_000_000)
    assert cost.components["lambda.compute"] == pytest.approx(1.54583643)
    assert cost.components["dynamodb.ledger_writes"] == pytest.approx(1.25)
    assert cost.total == pytest.approx(0.40 + 5.00 + 0.20 + 1.54583643 + 0.175 + 1.25)
    no_ledger = monthly_cost(Deployment.of("s3-lambda", idempotency_ledger=False), 1_000_000)
    assert cost.total - no_ledger.total == pytest.approx(1.25)


def test_sqs_route_bills_every_empty_receive() -> None:
    # 5 pollers x 2,628,000 s / 20 s = 657,000 empty receives; no files: $0.2628, no Lambda
    cost = monthly_cost(Deployment.of("s3-sqs-lambda"), 0)
    assert cost.components["sqs.requests"] == pytest.approx(657_000 * 0.40 / 1e6)
    assert "lambda.requests" not in cost.components


def test_eventbridge_bills_every_object_event_of_the_bucket() -> None:
    # 1M inputs + 1M outputs written to the same bucket = 2M events x $1/1M = $2
    cost = monthly_cost(Deployment.of("s3-eventbridge-lambda"), 1_000_000)
    assert cost.components["eventbridge.events"] == pytest.approx(2.0)


def test_scheduled_function_cannot_poll_faster_than_a_minute() -> None:
    with pytest.raises(ValueError, match="once a minute"):
        monthly_cost(Deployment.of("poll-scheduled-lambda", interval_s=30), 1000)


def test_break_even_of_s3_lambda_and_a_lean_poller() -> None:
    """Worked by hand, for work that only waits on S3 (cpu_s 0, wait_s 0.1 s, no ledger):
    the lean poller (EC2, lists an emptied inbox, deletes when done) pays a flat $6.935 a month
    plus its $0.64 root volume = $7.575; S3 -> Lambda pays per file $0.0000002 (request) +
    0.1 s x 0.125 GB x $0.0000166667 = $0.00000020833 (GB-s) + $0.000000175 (logs)
    = $0.00000058333 more than the poller. Both pay the same GET and PUT.
    Break-even: 7.575 / 0.00000058333 = 12.99M files a month = 426,900 files a day."""
    work = {"cpu_s": 0.0, "wait_s": 0.1, "idempotency_ledger": False}
    poller = Deployment.of("poll-ec2", interval_s=60, cursor="inbox", archive_processed=False, **work)
    rate = break_even(poller, Deployment.of("s3-lambda", **work))
    assert rate == pytest.approx(7.575 / 5.8333375e-7 / (MONTH_S / 86400), rel=1e-3)
    assert (
        break_even(poller, Deployment.of("s3-lambda", **work), free_tier=True) > rate
    )  # free tier helps Lambda


def test_a_poller_pays_for_the_cpu_and_network_its_work_needs() -> None:
    """10M files a day at 50 ms of CPU each: 304.17M x 0.05 s = 4,224.5 vCPU-hours over 730 h
    = 5.79 vCPUs sustained: five t4g.nano at 70% CPU (2 vCPUs each). But 0.1 MB in and 0.1 MB out
    per file is 0.185 Gbps, and a t4g.nano's baseline is 0.032 Gbps: at 70%, nine of them. Their
    free CPU baseline is 9 x 2 x 5% x 730 h = 657 vCPU-hours; the rest are surplus credits at
    $0.04. The wait costs the instance nothing. Nine root volumes: 9 x 8 GB x $0.08 = $5.76."""
    cost = monthly_cost(
        Deployment.of("poll-ec2", cursor="inbox", archive_processed=False), files_per_month(10_000_000)
    )
    assert cost.components["ec2.instance"] == pytest.approx(9 * 730 * 0.0042)
    assert cost.components["ec2.cpu_credits"] == pytest.approx((4224.537 - 657) * 0.04, rel=1e-4)
    assert cost.components["ec2.public_ipv4"] == pytest.approx(9 * 730 * 0.005)
    assert cost.components["ec2.ebs_root"] == pytest.approx(5.76)
    waiting = monthly_cost(
        Deployment.of("poll-ec2", cursor="inbox", archive_processed=False, cpu_s=0.05, wait_s=5.0),
        files_per_month(10_000_000),
    )
    assert waiting.components["ec2.cpu_credits"] == pytest.approx(cost.components["ec2.cpu_credits"])


def test_price_run_uses_exact_counts() -> None:
    strategy = StrategyResult(
        kind="s3-sqs-lambda",
        backend="moto",
        files=100,
        processed=100,
        api_calls={
            "s3.GetObject": 100,
            "s3.PutObject": 100,
            "sqs.ReceiveMessage": 60,
            "sqs.DeleteMessageBatch": 50,
        },
        counters={"invocations": 50, "gb_s": 1.0, "records": 101},
        parameters={"function": {"architecture": "x86_64"}},
    )
    cost = price_run(strategy)
    # S3: 100 GET = $0.00004; 100 PUT = $0.0005. SQS: 110 + 101 (S3's sends) = 211 x $0.0000004
    # Lambda: 50 x $0.0000002 + 1 GB-s x $0.0000166667; logs 50 x 350 B x $0.50/GB
    expected = 0.00004 + 0.0005 + 211 * 4e-7 + 50 * 2e-7 + 0.0000166667 + 50 * 350 / 1e9 * 0.5
    assert cost.total == pytest.approx(expected)


def test_cli_cost_table_and_sweep(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cost", "--files-per-day", "1000"]) == 0
    assert "S3 -> Lambda" in capsys.readouterr().out
    assert main(["cost", "--sweep", "--samples", "4", "--out", str(tmp_path), "--quiet"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "cost_sweep.csv",
        "break_even.json",
        "sweep.json",
        "monthly_cost.png",
        "sensitivity.png",
    }
    entries = json.loads((tmp_path / "break_even.json").read_text())
    assert isinstance(entries, list)
    from bench.cost.deployments import OPTION_NAMES

    assert len(entries) == len(OPTION_NAMES) - 1 == 7  # every other option against the inbox poller
    for entry in entries:
        assert set(entry) >= {"option", "against", "files_per_day", "flips_on", "feasible", "why_not"}
        span = entry["files_per_day"]
        assert set(span) == {"point", "low", "high"}
        assert isinstance(entry["flips_on"], list)
        if span["point"] is not None:
            assert span["low"] <= span["point"]
            assert span["high"] is None or span["point"] <= span["high"]
    seen_set = next(e for e in entries if e["option"] == "poll on EC2 every 60s")
    # 1,000 keys kept 30 days is one LIST page: below 33.3 a day the seen-set lists as little as the
    # inbox and skips its archive COPY; above, it lists more every minute
    assert seen_set["files_per_day"]["point"] == pytest.approx(1000 / 30, rel=0.05)
    direct = next(e for e in entries if e["option"] == "S3 -> Lambda")
    assert direct["files_per_day"]["point"] is None  # keeping inputs, the inbox's COPY never pays off
    assert direct["files_per_day"]["low"] is not None
    assert "inputs" in direct["flips_on"]
    table = pd.read_csv(tmp_path / "cost_sweep.csv")
    assert {"feasible", "why_not"} <= set(table.columns)
    assert not table[table["deployment"] == "poll on EC2 every 60s"]["feasible"].all()
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert sweep["requirements"]["inputs"] == "keep"
    assert sweep["requirements"]["exactly_once"] is True
    from bench.reproduce import break_even_findings

    lines = break_even_findings(tmp_path, "results/x")
    assert "Every option is built to the same requirements" in lines[0]
    assert "sweep the choices left to their defaults (inputs, availability" in lines[0]
    assert sum("(range " in line for line in lines) == len(OPTION_NAMES) - 1
    for rate in re.findall(r"\b(\d{1,3}(?:,\d{3})+|\d+)(?= files a day| to |\))", "\n".join(lines[1:])):
        assert len(rate.replace(",", "").rstrip("0")) <= 2, rate  # two significant figures


def ran(kind: str, parameters: dict[str, Any]) -> StrategyResult:
    """A strategy's results with nothing but its kind and parameters (no files)."""
    return StrategyResult(kind=kind, backend="moto", files=0, processed=0, parameters=parameters)


def test_a_runs_strategy_prices_as_the_deployment_it_configured() -> None:
    """The monthly model of a run's strategy keeps the sweep period and SQS pollers it ran with."""
    from bench.cost.sweep import deployment_for

    poll = deployment_for(
        "poll-1s", ran("poll", {"interval_s": 1, "cursor": "start-after", "sweep_every": 3600})
    )
    hourly = deployment_for(
        "poll-1min", ran("poll", {"interval_s": 60, "cursor": "start-after", "sweep_every": 60})
    )
    assert poll is not None
    assert hourly is not None
    assert poll.sweep_every == 3600
    month = 30 * 1_000_000  # both sweep once an hour, so both pay the same for their sweeps
    sweeps = {
        d.interval_s: monthly_cost(d, month).components["s3.list"]
        - monthly_cost(d.with_(sweep_every=10**12), month).components["s3.list"]
        for d in (poll, hourly)
    }
    assert sweeps[1.0] == pytest.approx(sweeps[60.0])
    sqs = deployment_for("q", ran("s3-sqs-lambda", {"pollers": 20, "wait_time_s": 10}))
    assert sqs is not None
    assert (sqs.sqs_pollers, sqs.sqs_wait_s) == (20, 10)
    local = deployment_for("q", ran("s3-sqs-lambda", {"pollers": 1}))
    assert local is not None
    assert local.sqs_pollers == 5


# -- one work model ---------------------------------------------------------------------------------
def test_lambda_duration_from_cpu_and_wait_by_hand() -> None:
    """50 ms of CPU at one vCPU plus 50 ms waiting. At 128 MB a function has 128/1769 of a vCPU,
    so the CPU takes 0.05 x 1769/128 = 0.691015625 s: 0.741015625 s in all. At 1,769 MB and above
    it has a full vCPU (single-threaded work gains nothing more): 0.1 s."""
    from bench.cost import lambda_duration_s

    assert lambda_duration_s(cpu_s=0.05, wait_s=0.05, memory_mb=128) == pytest.approx(0.741015625)
    assert lambda_duration_s(cpu_s=0.05, wait_s=0.05, memory_mb=1769) == pytest.approx(0.1)
    assert lambda_duration_s(cpu_s=0.05, wait_s=0.05, memory_mb=3538) == pytest.approx(0.1)
    assert lambda_duration_s(cpu_s=0.0, wait_s=0.2, memory_mb=128) == pytest.approx(0.2)  # waiting is not CPU
    for bad in ({"cpu_s": -0.1, "wait_s": 0, "memory_mb": 128}, {"cpu_s": 0.1, "wait_s": 0, "memory_mb": 0}):
        with pytest.raises(ValueError, match="must be a finite number"):
            lambda_duration_s(**bad)


def test_lambda_cost_takes_the_work_model() -> None:
    # 0.741015625 s is billed as 742 ms: the same bill as duration_ms=742
    from_work = lambda_cost(1_000_000, 128, cpu_s=0.05, wait_s=0.05)
    assert from_work.total == pytest.approx(lambda_cost(1_000_000, 128, 742).total)
    with pytest.raises(ValueError, match="not both"):
        lambda_cost(1, 128, 100, cpu_s=0.05)


def test_the_removed_work_description_is_refused_naming_it() -> None:
    # 0.3.0 dropped duration_ms/cpu_share (0.2.0's deprecated spelling): naming one is an error, not ignored
    for old in ("duration_ms", "cpu_share"):
        with pytest.raises(ValueError, match=old):
            Deployment.of("s3-lambda", **{old: 200})
    from bench.cost.model import standard_deployments

    with pytest.raises(TypeError, match="duration_ms"):
        standard_deployments(duration_ms=100)  # type: ignore[call-arg]


def test_defaults_match_the_assumptions_file() -> None:
    from bench.cost.assumptions import load_assumptions

    a, d = load_assumptions(), Deployment.of("s3-lambda")
    assert (d.cpu_s, d.wait_s) == (a["cpu_s"].point, a["wait_s"].point)
    assert d.memory_mb == a["memory_mb"].point
    assert d.log_bytes_per_invocation == a["log_bytes_per_invocation"].point
    assert d.sqs_pollers == a["sqs_idle_pollers"].point
    assert d.list_ms_per_page / 1000 == a["list_s_per_page"].point
    for item in a.items.values():
        assert item.source, item.name
        assert item.kind in ("assumption", "documented"), item.name
    for limit in a.limits.values():
        assert limit.source
        assert limit.as_of


# -- bill lines ---------------------------------------------------------------------------------------
def test_sqs_batches_fill_with_the_arrival_rate_and_idle_pollers_thin_out() -> None:
    """10M files a day = 115.74 files/s; five pollers each away 0.1 s between receives:
    1 + 115.74 x 0.1 / 5 = 3.3148 messages a batch. Empty receives: 5 pollers x 2,628,000 s / 20 s
    x exp(-rate x 20 / 5): 657,000 with no files, 627,277 at 1,000 a day, none to speak of at 10M."""
    from bench.cost.model import sqs_batch_fill, sqs_empty_receives

    d = Deployment.of("s3-sqs-lambda")
    rate = 10_000_000 / 86400
    assert sqs_batch_fill(d, rate) == pytest.approx(1 + rate * 0.1 / 5)
    assert sqs_batch_fill(d, 1e6) == 10  # never more than the batch size
    assert sqs_batch_fill(d, 0.0) == 1
    assert sqs_empty_receives(d, 0.0, MONTH_S) == pytest.approx(657_000)
    assert sqs_empty_receives(d, 1000 / 86400, MONTH_S) == pytest.approx(
        657_000 * math.exp(-1000 / 86400 * 4)
    )
    assert sqs_empty_receives(d, rate, MONTH_S) < 1e-6
    month = files_per_month(10_000_000)
    cost = monthly_cost(d, month)
    batches = month / (1 + rate * 0.1 / 5)
    assert cost.components["lambda.requests"] == pytest.approx(batches * 0.20 / 1e6)


def test_lifecycle_deletes_are_eventbridge_events() -> None:
    # 1M files expire by the lifecycle rule: 1M "Object Deleted" events x $1/1M = $1
    lifecycle = monthly_cost(Deployment.of("s3-eventbridge-lambda"), 1_000_000)
    assert lifecycle.components["eventbridge.object_deleted"] == pytest.approx(1.0)
    kept = monthly_cost(Deployment.of("s3-eventbridge-lambda", retention="keep"), 1_000_000)
    assert "eventbridge.object_deleted" not in kept.components
    assert "eventbridge.object_deleted" not in monthly_cost(Deployment.of("s3-lambda"), 1_000_000).components


def test_the_idempotency_ledger_is_billed_on_every_option_or_on_none() -> None:
    # 2 writes per file x 1M files x $0.625/1M = $1.25: exactly-once effects need it on a poller too
    kinds = (
        "s3-lambda",
        "s3-sqs-lambda",
        "s3-eventbridge-lambda",
        "hybrid",
        "poll-ec2",
        "poll-scheduled-lambda",
    )
    for kind in kinds:
        cost = monthly_cost(Deployment.of(kind, cursor="inbox"), 1_000_000)  # type: ignore[arg-type]
        assert cost.components["dynamodb.ledger_writes"] == pytest.approx(1.25), kind
        off = Deployment.of(kind, cursor="inbox", idempotency_ledger=False)  # type: ignore[arg-type]
        assert "dynamodb.ledger_writes" not in monthly_cost(off, 1_000_000).components, kind


# -- feasibility at its edges ------------------------------------------------------------------------
def _why(d: Deployment, files_per_day: float) -> str:
    from bench.cost.feasibility import check

    return check(d, files_per_day).reason


def test_listing_longer_than_the_interval_cannot_run() -> None:
    """Seen-set, 30 days kept, 60 ms a page: 1,000 pages take exactly 60 s (33,333.3 files a day);
    one more page (33,366.7 a day: 1,000,001 objects) takes 60.06 s."""
    d = Deployment.of("poll-ec2", cursor="seen-set", retention_days=30, list_ms_per_page=60, instance="auto")
    assert _why(d, 1_000_000 / 30) == ""
    assert "listing 1,001 pages takes 60.1 s" in _why(d, 1_000_001 / 30)


def test_a_scheduled_function_whose_work_outlasts_its_schedule_cannot_run() -> None:
    """Every 60 s, an inbox, 1 s of waiting per file at 1,769 MB, no listing or state time: a cycle
    holds files/1,440 files of 1 s each; 86,400 files a day is exactly 60 s of work, one more is over."""
    d = Deployment.of(
        "poll-scheduled-lambda",
        interval_s=60,
        cursor="inbox",
        cpu_s=0.0,
        wait_s=1.0,
        memory_mb=1769,
        list_ms_per_page=0.0,
        state_ms=0.0,
    )
    assert _why(d, 86_400) == ""
    assert "outlasts the 60 s schedule" in _why(d, 86_400 * 1.001)


def test_the_hybrid_sweep_past_900_s_cannot_run_unless_split_over_prefixes() -> None:
    """A whole-prefix sweep of 30 days kept at 0.3 s a page (0.2 s request, no parse): 3,000 pages is
    exactly 900 s (100,000 files a day); a little more is over, and split over 4 prefixes it fits
    again. Listing only the keys since the last sweep (start-after, as pve simulate does), or reading
    an inventory, fits at 10M a day."""
    d = Deployment.of("hybrid", retention_days=30, list_ms_per_page=300.0, sweep_cursor="seen-set")
    assert _why(d, 100_000) == ""
    assert "the sweep lists 3,003 pages" in _why(d, 100_100)
    assert _why(d.with_(sweep_parallel=4), 100_100) == ""
    assert _why(d.with_(sweep_cursor="inventory"), 10_000_000) == ""
    assert _why(d.with_(sweep_cursor="start-after"), 10_000_000) == ""


def test_a_scheduled_function_past_the_900_s_timeout_cannot_run() -> None:
    """Hourly, an inbox, 1 s of waiting per file at 1,769 MB, no listing or state time: files/24 s of
    work per invocation; 21,600 files a day is exactly 900 s."""
    d = Deployment.of(
        "poll-scheduled-lambda",
        interval_s=3600,
        cursor="inbox",
        cpu_s=0.0,
        wait_s=1.0,
        memory_mb=1769,
        list_ms_per_page=0.0,
        state_ms=0.0,
    )
    assert _why(d, 21_600) == ""
    assert "900 s timeout" in _why(d, 21_601)


def test_lambda_concurrency_above_the_account_default_cannot_run() -> None:
    """S3 -> Lambda at 0.741015625 s a file: 1,000 concurrent executions at 1,349.5 files/s."""
    d = Deployment.of("s3-lambda")
    edge = 1000 / 0.741015625 * 86400
    assert _why(d, edge * 0.999) == ""
    assert "concurrent executions" in _why(d, edge * 1.001)


def test_s3_request_rates_per_prefix() -> None:
    """An inbox poller PUTs (the producer) and DELETEs every file in the watched prefix: 3,500/s
    is 1,750 files/s = 151.2M a day. A seen-set poller every second at 0.01 ms a page reads one LIST
    page per 1,000 retained objects each second: 5,496 pages + 2.12 GETs/s is under 5,500,
    5,499 + 2.12 over. (No work and empty files: the instances are sized apart, below.)"""
    inbox = Deployment.of(
        "poll-ec2", cursor="inbox", archive_processed=False, cpu_s=0, wait_s=0, file_size_mb=0
    )
    assert _why(inbox, 151_200_000 * 0.999) == ""
    assert "PUT/DELETE/s" in _why(inbox, 151_200_000 * 1.001)
    seen = Deployment.of(
        "poll-ec2", cursor="seen-set", interval_s=1, list_ms_per_page=0.01, retention_days=30, instance="auto"
    )
    assert _why(seen, 183_200) == ""
    assert "GET+LIST/s" in _why(seen, 183_300)


def test_sqs_in_flight_limit() -> None:
    """100 s of waiting per file at 1,769 MB: in flight = rate x (0.1 + batch x 100) with batch
    = 1 + rate x 0.1 / 5; 120,000 at 2r^2 + 100.1r - 120,000 = 0, r = 221.199 files/s."""
    d = Deployment.of("s3-sqs-lambda", cpu_s=0.0, wait_s=100.0, memory_mb=1769)
    edge = (-100.1 + math.sqrt(100.1**2 + 8 * 120_000)) / 4 * 86400
    assert "in flight" not in _why(d, edge * 0.999)
    assert "in flight" in _why(d, edge * 1.001)
    assert "concurrent executions" in _why(d, edge)  # it is past Lambda's limit long before


# -- ranges ---------------------------------------------------------------------------------------------
def test_a_break_even_range_names_what_flips_it() -> None:
    """The scheduled Lambda against the inbox poller: how long files stay decides how much the
    hourly sweep lists, so retention (7 or 90 days instead of 30) moves the crossing past 2x."""
    from bench.cost.model import standard_deployments
    from bench.cost.sensitivity import break_even_range

    options = standard_deployments()
    entry = break_even_range(options[2], options[1], samples=4)
    span = entry["files_per_day"]
    assert span["low"] < span["point"] < span["high"]
    assert "retention_days" in entry["flips_on"]
    assert "sqs_idle_pollers" not in entry["flips_on"]  # neither option has a queue
    ends = entry["one_at_a_time"]["retention_days"]
    assert ends["7.0"] > span["point"] > ends["90.0"]


def test_a_range_where_the_crossing_can_vanish_has_no_high() -> None:
    from bench.cost.sensitivity import _range, two_sig

    assert _range(None, [1e5, None]).as_dict() == {"point": None, "low": 1e5, "high": None}
    assert _range(5e4, [4e4, 6e4]).as_dict() == {"point": 5e4, "low": 4e4, "high": 6e4}
    assert _range(None, [None]).as_dict() == {"point": None, "low": None, "high": None}
    assert [two_sig(x) for x in (78_541.1, 1_471_900, 0.0123, None)] == [
        "79,000",
        "1,500,000",
        "0.012",
        "never",
    ]
