"""The cost module against hand-computed AWS bills (the arithmetic is written out in each test)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

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
    cost = monthly_cost(Deployment("poll-ec2", interval_s=60), 0)
    assert cost.components["s3.list"] == pytest.approx(0.219)
    assert cost.total == pytest.approx(0.219 + 3.066 + 3.65)


def test_listing_everything_costs_a_page_per_thousand_retained_files_per_poll() -> None:
    # 10,000 files a day kept 30 days: 300,000 objects = 300 pages per poll
    # 43,800 polls x 300 pages x $0.005/1000 = $65.70
    n = files_per_month(10_000)
    cost = monthly_cost(Deployment("poll-ec2", interval_s=60, cursor="seen-set", retention_days=30), n)
    assert cost.components["s3.list"] == pytest.approx(65.70)


def test_s3_to_lambda_month_at_one_million_files() -> None:
    # GET 1M x $0.0004/1000 = $0.40; output PUT 1M x $0.005/1000 = $5.00
    # Lambda $0.40833375 (as above); logs 1M x 350 B = 0.35 GB x $0.50 = $0.175
    cost = monthly_cost(Deployment("s3-lambda", memory_mb=128, duration_ms=100), 1_000_000)
    assert cost.total == pytest.approx(0.40 + 5.00 + 0.40833375 + 0.175)


def test_sqs_route_bills_every_empty_receive() -> None:
    # 5 pollers x 2,628,000 s / 20 s = 657,000 empty receives; no files: $0.2628, no Lambda
    cost = monthly_cost(Deployment("s3-sqs-lambda"), 0)
    assert cost.components["sqs.requests"] == pytest.approx(657_000 * 0.40 / 1e6)
    assert "lambda.requests" not in cost.components


def test_eventbridge_bills_every_object_event_of_the_bucket() -> None:
    # 1M inputs + 1M outputs written to the same bucket = 2M events x $1/1M = $2
    cost = monthly_cost(Deployment("s3-eventbridge-lambda"), 1_000_000)
    assert cost.components["eventbridge.events"] == pytest.approx(2.0)


def test_scheduled_function_cannot_poll_faster_than_a_minute() -> None:
    with pytest.raises(ValueError, match="once a minute"):
        monthly_cost(Deployment("poll-scheduled-lambda", interval_s=30), 1000)


def test_break_even_of_s3_lambda_and_a_lean_poller() -> None:
    """Worked by hand, for work that waits on S3 and costs the instance no CPU (cpu_share 0):
    the lean poller (EC2, lists an emptied inbox, deletes when done) pays a flat $6.935 a month;
    S3 -> Lambda pays per file $0.0000002 (request) + $0.00000020833 (GB-s) + $0.000000175 (logs)
    = $0.00000058333 more than the poller. Both pay the same GET and PUT.
    Break-even: 6.935 / 0.00000058333 = 11.89M files a month = 390,800 files a day."""
    poller = Deployment("poll-ec2", interval_s=60, cursor="inbox", archive_processed=False, cpu_share=0.0)
    rate = break_even(poller, Deployment("s3-lambda"))
    assert rate == pytest.approx(6.935 / 5.8333375e-7 / (MONTH_S / 86400), rel=1e-3)
    assert break_even(poller, Deployment("s3-lambda"), free_tier=True) > rate  # free tier helps Lambda


def test_a_poller_pays_for_the_cpu_its_work_needs() -> None:
    """10M files a day at 100 ms, half of it CPU: 304.17M x 0.05 s = 4,224.5 vCPU-hours over 730 h
    = 5.79 vCPUs sustained: three t4g.nano (2 vCPUs each). Their free baseline is 3 x 2 x 5% x 730 h
    = 219 vCPU-hours; the other 4,005.5 are surplus credits at $0.04: $160.22."""
    cost = monthly_cost(
        Deployment("poll-ec2", cursor="inbox", archive_processed=False), files_per_month(10_000_000)
    )
    assert cost.components["ec2.instance"] == pytest.approx(3 * 730 * 0.0042)
    assert cost.components["ec2.cpu_credits"] == pytest.approx((4224.537 - 219) * 0.04, rel=1e-4)
    assert cost.components["ec2.public_ipv4"] == pytest.approx(3 * 730 * 0.005)


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
    assert main(["cost", "--sweep", "--out", str(tmp_path), "--quiet"]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"cost_sweep.csv", "break_even.json", "monthly_cost.png"}


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
        - monthly_cost(replace(d, sweep_every=10**12), month).components["s3.list"]
        for d in (poll, hourly)
    }
    assert sweeps[1.0] == pytest.approx(sweeps[60.0])
    sqs = deployment_for("q", ran("s3-sqs-lambda", {"pollers": 20, "wait_time_s": 10}))
    assert sqs is not None
    assert (sqs.sqs_pollers, sqs.sqs_wait_s) == (20, 10)
    local = deployment_for("q", ran("s3-sqs-lambda", {"pollers": 1}))
    assert local is not None
    assert local.sqs_pollers == 5
