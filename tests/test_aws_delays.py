"""Issue 22's defects of a first real run, each under the layer that makes moto's server keep AWS's
documented delays (tests/aws_delays.py, scaled down to seconds). Each test failed before its fix."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from bench.aws.deploy import Clients
from bench.aws.inventory import teardown
from bench.aws.package import PackagingError, check_wheel
from bench.aws.plan import build_plan
from bench.aws.run import RunOptions, retry_schedule_s, run_on_aws
from bench.errors import InputError
from bench.live.clients import ApiCallCounter, ClientFactory
from bench.report.table import summary_caption
from bench.results.files import read_results
from bench.results.model import Run
from tests.aws_delays import AwsDelays, delays_fixture  # noqa: F401 - fixture
from tests.aws_moto import FAKE_ENV, REGION, aws_fixture, everything, moto_endpoint_fixture  # noqa: F401 - fixtures
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
    poll = {"name": "poll", "kind": "poll", "interval_s": 0.2}
    summary = run(aws, tmp_path, [*QUEUE, {"name": "direct", "kind": "s3-lambda"}, poll])
    polled = summary.strategies["poll"]
    assert polled.aws is not None
    assert polled.aws.api_calls_by_origin == {"this machine": polled.api_calls}  # a poller runs here
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


@pytest.mark.parametrize(
    "wheel",
    [
        "pillow-12.0.0-cp313-cp313-musllinux_1_2_x86_64.whl",  # musl: Lambda's OS has glibc
        "pillow-12.0.0-cp313-cp313t-manylinux_2_28_x86_64.whl",  # the free-threaded build's ABI
        "pillow-12.0.0-cp313-cp313-manylinux_2_39_x86_64.whl",  # needs a newer glibc than AL2023's 2.34
        "pillow-12.0.0-cp313-cp313-linux_x86_64.whl",  # built for one machine, not manylinux
    ],
)
def test_a_pillow_wheel_lambdas_runtime_cannot_load_is_refused(tmp_path: Path, wheel: str) -> None:
    with pytest.raises(PackagingError, match="pip download"):
        check_wheel(tmp_path / wheel, "python3.13", "x86_64")


def test_a_manylinux_pillow_wheel_the_runtime_loads_is_accepted(tmp_path: Path) -> None:
    check_wheel(tmp_path / "pillow-12.0.0-cp313-cp313-manylinux_2_34_x86_64.whl", "python3.13", "x86_64")
    check_wheel(tmp_path / "pillow-12.0.0-cp313-cp313-manylinux2014_aarch64.whl", "python3.13", "arm64")
    with pytest.raises(PackagingError):  # python3.11 runs on Amazon Linux 2: glibc 2.26
        check_wheel(tmp_path / "pillow-12.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", "python3.11", "x86_64")


def test_a_china_or_govcloud_plan_builds_its_arns_in_the_regions_partition() -> None:
    scenario = tiny([*QUEUE, {"name": "direct", "kind": "s3-lambda"}])
    for region, name in (("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")):
        plan = build_plan(scenario, region=region, account_id="123456789012")
        text = json.dumps([[r.arn, r.spec] for r in plan.resources])
        assert '"arn:aws:' not in text
        assert f"arn:{name}:s3:::" in text
        assert f"arn:{name}:lambda:{region}:" in text


def test_the_mappings_maximum_concurrency_reaches_aws_and_its_window_is_never_truncated(
    aws: Clients,
) -> None:
    plan, journal = deployed_plan(aws, [{**QUEUE[0], "maximum_concurrency": 5, "batching_window_s": 2}])
    (mapping,) = aws("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["MaximumBatchingWindowInSeconds"] == 2
    assert mapping.get("ScalingConfig") == {"MaximumConcurrency": 5}
    teardown(aws, REGION, plan.run_id, journal)
    half = tiny([{**QUEUE[0], "batch_size": 100, "batching_window_s": 0.5}])
    with pytest.raises(InputError, match=r"strategies.queue.batching_window_s = 0.5: .*whole seconds"):
        build_plan(half, region=REGION, account_id="123456789012")
    with pytest.raises(InputError, match="batch_size 100 needs batching_window_s"):  # at validation
        tiny([{**QUEUE[0], "batch_size": 100}])


def test_deploy_retries_the_calls_that_wait_for_iam_and_a_queue_policy_to_propagate(
    aws: Clients, delays: AwsDelays
) -> None:
    only(delays, "iam_propagation_s", "queue_policy_s")
    before = everything(aws)
    plan, journal = deployed_plan(aws, [*QUEUE, {"name": "direct", "kind": "s3-lambda"}])
    lam = aws("lambda")
    direct = next(t for t in plan.targets if t.strategy == "direct")
    assert lam.get_function_event_invoke_config(FunctionName=direct.function)["DestinationConfig"]
    queue = next(t for t in plan.targets if t.strategy == "queue")
    assert aws("s3").get_bucket_notification_configuration(Bucket=queue.bucket)["QueueConfigurations"]
    teardown(aws, REGION, plan.run_id, journal)
    assert everything(aws) == before


def test_reserved_concurrency_the_account_cannot_grant_is_refused_before_anything_is_created(
    aws: Clients, delays: AwsDelays, tmp_path: Path
) -> None:
    only(delays)
    delays.account_concurrency = 10  # a new account's limit
    before = everything(aws)
    reserved = {"name": "direct", "kind": "s3-lambda", "function": {"reserved_concurrency": 5}}
    with pytest.raises(
        InputError, match=r"strategies.direct.function.reserved_concurrency = 5: .*limit is 10"
    ):
        run(aws, tmp_path, [reserved])
    assert everything(aws) == before


def test_a_run_redirected_by_aws_endpoint_url_says_it_did_not_reach_aws(
    aws: Clients, moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # no --endpoint-url: a "real" run
    factory = ClientFactory(ApiCallCounter(), region=REGION)
    scenario = tiny([{"name": "poll", "kind": "poll", "interval_s": 0.2}])
    plan = build_plan(scenario, region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    summary = run_on_aws(scenario, plan, factory, tmp_path, RunOptions(package=package))
    assert summary.aws is not None
    assert summary.aws.endpoint == moto_endpoint
    assert not summary.aws.endpoint_is_aws
    assert f"not AWS: every request went to {moto_endpoint}" in summary_caption(summary)


def test_each_repetition_reads_only_its_own_records_ledger_and_report_lines(
    aws: Clients, tmp_path: Path
) -> None:
    summary = run(aws, tmp_path, [{"name": "direct", "kind": "s3-lambda"}], repetitions=2)
    entry = summary.strategies["direct"]
    assert (entry.files, entry.processed, entry.missed) == (6, 6, 0)
    assert entry.duplicates == 0
    assert entry.counter("duplicate_deliveries") == 0  # the ledger saw new objects
    assert entry.invocations == 6  # three REPORT lines per repetition, none read twice
    records = read_results(tmp_path).records
    second = records[records["repetition"] == 1]
    assert second["key"].str.startswith("incoming/rep1/").all()
    assert (second["latency_s"] > 0).all()


def test_the_aws_drain_outlasts_the_routes_retry_schedule() -> None:
    scenario = tiny([*QUEUE, {"name": "direct", "kind": "s3-lambda"}])
    plan = build_plan(scenario, region=REGION, account_id="123456789012")
    queue, direct = scenario.strategies
    assert retry_schedule_s(plan, direct) >= 60 + 120  # async: retries after 1 and 2 minutes
    assert retry_schedule_s(plan, queue) >= 180 * 3  # visibility 180 s (6 x the timeout), 3 receives


BUS = [{"name": "bus", "kind": "s3-eventbridge-lambda"}]


def test_the_eventbridge_route_starts_its_clock_only_once_a_probes_event_arrived(
    aws: Clients, delays: AwsDelays, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.aws.run as aws_run

    only(delays, "eventbridge_enable_s")
    delays.eventbridge_enable_s = (
        6.0  # AWS: "around five minutes"; longer than the run takes to reach its probe
    )
    monkeypatch.setattr(aws_run, "PROBE_EVERY_S", 1.5)
    summary = run(aws, tmp_path, BUS)
    entry = summary.strategies["bus"]
    assert (entry.processed, entry.missed) == (3, 0)  # no file written before the route was live
    assert entry.aws is not None
    assert entry.aws.eventbridge_probe["arrived"] == 1.0
    assert entry.aws.eventbridge_probe["probes"] >= 2  # the first probe's event was dropped
    assert entry.invocations == 3  # the probes' invocations are not the run's


def test_the_eventbridge_routes_clock_offset_is_measured_to_the_millisecond(
    aws: Clients, tmp_path: Path
) -> None:
    summary = run(aws, tmp_path, BUS)
    clock = summary.strategies["bus"].aws.clock  # type: ignore[union-attr]
    assert clock.method == "sqs-sent-timestamp"  # not the Date headers' whole seconds
    assert clock.uncertainty_s is not None
    assert clock.uncertainty_s < 0.25
    assert abs(clock.offset_s) < 0.25  # moto's clock is this machine's


def test_the_template_says_its_stack_cannot_be_deleted_while_its_buckets_hold_objects() -> None:
    from bench.aws.template import build_template, template_plan

    scenario = tiny([*QUEUE])
    plan = build_plan(scenario, region=REGION, account_id="123456789012")
    template = build_template(template_plan(plan, scenario))
    teardown_output = template["Outputs"]["Teardown"]
    assert "fails while its buckets hold objects" in teardown_output["Description"]
    assert teardown_output["Value"] == f"pve aws cleanup --region {REGION} --run-id {plan.run_id}"


def test_doctor_reports_the_account_region_and_first_runs_cost_against_motos_server(
    aws: Clients, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.cli import main

    code = main(["aws", "doctor", "--region", "cn-north-1", "--endpoint-url", moto_endpoint])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "123456789012" in out
    assert "aws-cn" in out  # the region's partition
    assert "GetAccountSettings not answered" in out  # moto has no route for it: unknown, not a failure
    assert "estimated at $" in out
    assert "ready for a first run" in out


def test_doctor_against_a_closed_port_says_it_cannot_reach_aws(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from bench.cli import main

    for key, value in FAKE_ENV.items():
        monkeypatch.setenv(key, value)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    code = main(["aws", "doctor", "--region", REGION, "--endpoint-url", f"http://127.0.0.1:{port}"])
    captured = capsys.readouterr()
    assert code == 2
    assert f"cannot reach AWS at http://127.0.0.1:{port}" in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_doctor_names_a_permission_the_operator_lacks(aws: Clients) -> None:
    from bench.aws.doctor import Caller, Status, check_permissions

    calls: list[dict[str, Any]] = []

    class Simulator:
        def simulate_principal_policy(self, **args: Any) -> dict[str, Any]:
            calls.append(args)
            denied = {"sqs:DeleteQueue"}
            return {
                "EvaluationResults": [
                    {"EvalActionName": a, "EvalDecision": "implicitDeny" if a in denied else "allowed"}
                    for a in args["ActionNames"]
                ]
            }

    def clients(service: str) -> Any:
        return Simulator()

    check = check_permissions(clients, REGION, Caller("123456789012", "arn:aws:iam::123456789012:user/op"))  # type: ignore[arg-type]
    assert check.status is Status.FIX
    assert "sqs:DeleteQueue" in check.found
    assert "operator-policy.json" in check.fix
    contexts = {e["ContextKeyName"] for call in calls for e in call.get("ContextEntries", [])}
    assert "aws:ResourceTag/pve:run-id" in contexts  # a conditional statement simulated as a run meets it
