"""The run path end to end on moto's server: deploy, write, handle (the local runtime standing in for
Lambda, running the deployed entry point), collect the functions' records and REPORT lines, price,
tear down. Only the endpoint differs from a run on an account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.aws.deploy import Clients
from bench.aws.plan import build_plan
from bench.aws.run import RunOptions, run_on_aws
from bench.live.recorder import COLUMNS
from bench.results.files import read_results
from bench.results.model import Run
from tests.aws_moto import REGION, aws_fixture, everything, moto_endpoint_fixture  # noqa: F401 - fixtures
from tests.test_aws_deploy import package, tiny


def run(aws: Clients, tmp_path: Path, strategies: list[dict[str, Any]]) -> Run:
    scenario = tiny(strategies)
    plan = build_plan(scenario, region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    return run_on_aws(scenario, plan, aws.factory, tmp_path, RunOptions(local_lambda=True, package=package))


def check(summary: Run, tmp_path: Path, files: int) -> None:
    results = read_results(tmp_path)  # the same schema as every other backend's
    assert list(results.records.columns) == COLUMNS
    assert results.summary.aws == summary.aws  # the typed aws fields survive summary.json
    for name, entry in results.summary.strategies.items():
        assert entry.aws is not None
        assert entry.aws.clock == summary.strategies[name].aws.clock  # type: ignore[union-attr]
    assert summary.scenario.backend == "aws"
    assert summary.aws is not None
    assert summary.aws.teardown_left == []
    assert summary.aws.teardown_errors == []
    assert summary.aws.functions_run_by == "the local runtime (moto)"
    for name, entry in summary.strategies.items():
        assert entry.backend == "aws", name
        assert (entry.processed, entry.missed, entry.failed) == (files, 0, 0), (name, entry.failures)
        rows = results.records[results.records["strategy"] == name]
        assert (rows["latency_s"] > 0).all(), name
        assert (rows["finished_at"] >= rows["started_at"]).all(), name
        assert entry.aws is not None
        assert entry.aws.region == REGION
        assert entry.cost is not None
        assert entry.cost.run_usd["total"] > 0
        if entry.kind == "poll":
            assert entry.aws.clock.applied is False  # stamped here, by this machine's clock
            continue
        assert entry.aws.clock.applied is True
        assert abs(entry.aws.clock.offset_s) < 1.0  # moto's clock is this machine's
        assert {c.method for c in entry.aws.clocks_measured} >= {"date-header"}
        assert set(rows["path"]) == {"events"}  # stamped from the handler's own records
        assert entry.invocations >= 1  # from the REPORT lines in the function's log group
        assert entry.counter("gb_s") > 0
        # the EventBridge route's probe object warms the function before the run's clock starts, and
        # its invocation is outside the run's log window: the run itself may find it warm
        warmed_by_probe = bool(entry.aws.eventbridge_probe and entry.aws.eventbridge_probe.get("arrived"))
        assert entry.cold_starts >= (0 if warmed_by_probe else 1), name
        assert entry.aws.lambda_reports["invocations"] == entry.invocations
        assert entry.aws.lambda_reports["malformed_report_lines"] == 0


def test_run_on_moto_end_to_end(aws: Clients, tmp_path: Path) -> None:
    before = everything(aws)
    summary = run(
        aws,
        tmp_path,
        [
            {"name": "poll", "kind": "poll", "interval_s": 0.2},
            {"name": "direct", "kind": "s3-lambda"},
            {"name": "queue", "kind": "s3-sqs-lambda", "wait_time_s": 1},
        ],
    )
    check(summary, tmp_path, files=3)
    assert summary.strategies["direct"].invocations == 3  # one per object, as S3 invokes
    assert everything(aws) == before


@pytest.mark.slow
def test_every_route_end_to_end(aws: Clients, tmp_path: Path) -> None:
    before = everything(aws)
    summary = run(
        aws,
        tmp_path,
        [
            {"name": "poll", "kind": "poll", "interval_s": 0.2, "cursor": "start-after"},
            {"name": "direct", "kind": "s3-lambda"},
            {"name": "queue", "kind": "s3-sqs-lambda", "wait_time_s": 1, "batch_size": 2},
            {"name": "bus", "kind": "s3-eventbridge-lambda"},
        ],
    )
    check(summary, tmp_path, files=3)
    assert everything(aws) == before


CLI_SCENARIO = """
name = "aws-cli"
seed = 2
drain_timeout_s = 10
[workload]
prefix = "incoming/"
[workload.arrivals]
process = "constant"
rate_per_s = 20.0
count = 2
[workload.content]
kind = "csv"
rows = 3
[[strategies]]
name = "direct"
kind = "s3-lambda"
"""


@pytest.mark.slow  # charts and the full package: about 15 s on a loaded machine
def test_pve_run_backend_aws(aws: Clients, moto_endpoint: str, tmp_path: Path) -> None:
    from bench.cli import main

    before = everything(aws)
    scenario = tmp_path / "cli.toml"
    scenario.write_text(CLI_SCENARIO, encoding="utf-8")
    out = tmp_path / "out"
    argv = ["run", str(scenario), "--backend", "aws", "--region", REGION, "--yes", "--quiet"]
    assert main([*argv, "--endpoint-url", moto_endpoint, "--out", str(out)]) == 0
    summary = read_results(out).summary
    assert summary.aws is not None
    assert summary.aws.endpoint == moto_endpoint
    assert summary.strategies["direct"].processed == 2
    assert (out / "latency_cdf.png").is_file()
    assert everything(aws) == before
