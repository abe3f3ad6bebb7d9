"""Issue 22's defects of a first real run, each under the layer that makes moto's server keep AWS's
documented delays (tests/aws_delays.py, scaled down to seconds). Each test failed before its fix."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

from bench.aws.deploy import Clients
from bench.aws.inventory import teardown
from bench.aws.plan import build_plan
from bench.aws.run import RunOptions, run_on_aws
from bench.results.files import read_results
from bench.results.model import Run
from tests.aws_delays import AwsDelays, delays_fixture  # noqa: F401 - fixture
from tests.aws_moto import REGION, aws_fixture, everything, moto_endpoint_fixture  # noqa: F401 - fixtures
from tests.test_aws_deploy import deployed_plan, package, tiny


def only(delays: AwsDelays, *names: str) -> AwsDelays:
    """Keep the named delays, turn the others off (each test shows one defect)."""
    for f in fields(AwsDelays):
        if f.name.endswith("_s") and f.name not in names:
            setattr(delays, f.name, 0.0)
    return delays


def run(aws: Clients, tmp_path: Path, strategies: list[dict[str, Any]], **top: Any) -> Run:
    scenario = tiny(strategies, **top)
    plan = build_plan(scenario, region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    return run_on_aws(scenario, plan, aws.factory, tmp_path, RunOptions(local_lambda=True, package=package))


QUEUE = [{"name": "queue", "kind": "s3-sqs-lambda", "wait_time_s": 1}]


def test_teardown_waits_for_aws_asynchronous_deletes_and_reports_no_false_leftovers(
    aws: Clients, delays: AwsDelays
) -> None:
    only(delays, "queue_deleting_s", "mapping_deleting_s", "table_deleting_s")
    before = everything(aws)
    plan, journal = deployed_plan(aws, QUEUE)
    report = teardown(aws, REGION, plan.run_id, journal)  # a queue still listed whose tags cannot be read
    assert report.errors == []
    assert report.left == []
    assert report.clean
    assert everything(aws) == before


def test_teardown_names_what_aws_is_still_deleting_apart_from_what_was_left(
    aws: Clients, delays: AwsDelays
) -> None:
    only(delays, "mapping_deleting_s", "table_deleting_s")
    delays.mapping_deleting_s = delays.table_deleting_s = 30.0  # longer than teardown waits here
    plan, journal = deployed_plan(aws, QUEUE)
    report = teardown(aws, REGION, plan.run_id, journal, wait_s=1.0)
    assert report.left == []
    assert {str(f.kind) for f in report.still_deleting} == {"lambda.event-source-mapping", "dynamodb.table"}
    assert report.clean


def test_results_are_written_before_teardown_and_a_late_delete_never_sinks_them(
    aws: Clients, delays: AwsDelays, tmp_path: Path
) -> None:
    only(delays, "queue_deleting_s", "mapping_deleting_s", "table_deleting_s")
    summary = run(aws, tmp_path, QUEUE)
    saved = read_results(tmp_path).summary
    assert saved.aws is not None
    assert saved.aws.teardown_done
    assert saved.aws.teardown_left == saved.aws.teardown_errors == []
    assert summary.strategies["queue"].processed == 3


def test_report_lines_that_arrive_late_are_awaited_and_never_make_a_nan(
    aws: Clients, delays: AwsDelays, tmp_path: Path
) -> None:
    only(delays, "logs_visible_after_s")
    summary = run(aws, tmp_path, [{"name": "direct", "kind": "s3-lambda"}])
    entry = read_results(tmp_path).summary.strategies["direct"]  # a NaN would not load
    assert entry.invocations == 3  # one per file: none lost to the logs' delay
    assert entry.aws is not None
    assert not entry.aws.reports_partial
    assert summary.strategies["direct"].counter("gb_s") > 0


def test_the_function_counts_its_own_requests_and_each_count_names_its_origin(
    aws: Clients, tmp_path: Path
) -> None:
    summary = run(aws, tmp_path, [*QUEUE, {"name": "direct", "kind": "s3-lambda"}])
    for name in ("queue", "direct"):
        entry = summary.strategies[name]
        assert entry.aws is not None
        function = entry.aws.api_calls_by_origin["function"]
        assert function["s3.GetObject"] >= 3  # at least one GET per file
        assert function["s3.PutObject"] >= 6  # its output and its timing record per file
        assert function["dynamodb.PutItem"] >= 6  # the ledger: claimed, then done, per file
        assert entry.api_calls["s3.GetObject"] == function["s3.GetObject"]  # api_calls is whole
    machine = summary.strategies["queue"].aws.api_calls_by_origin["this machine"]  # type: ignore[union-attr]
    assert machine["sqs.ReceiveMessage"] >= 1  # the local mapping's receives, made here on moto
