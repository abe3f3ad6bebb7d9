"""The aws backend's pure parts: plan, least-privilege policies, estimate, refusals, REPORT lines,
clock offsets, packaging checks and the CloudFormation template (cfn-lint). Nothing touches AWS."""

from __future__ import annotations

import json
import math
import zipfile
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from bench.aws.clock import offset_from_date_headers, offset_from_event_times, tighter
from bench.aws.estimate import expected_files_and_span
from bench.aws.package import PackagingError, build_package, check_wheel
from bench.aws.plan import (
    LAMBDA_RUNTIME,
    TAG_KEY,
    TAGGABLE,
    Plan,
    ResourceKind,
    build_plan,
    check_region,
)
from bench.aws.reports import Report, format_report, parse_report, summarize_reports
from bench.aws.run import RunRefusedError, check_account, check_run
from bench.aws.template import CONTEXT_KEY, build_template, template_plan
from bench.cli import main
from bench.scenario.spec import Scenario, bundled_scenarios, load_scenario, parse_scenario

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ROOT = Path(__file__).resolve().parents[1]


def scenario_with(strategies: list[dict[str, Any]], **workload: Any) -> Scenario:
    data = {
        "name": "aws-test",
        "workload": {
            "prefix": "incoming/",
            "arrivals": {"process": "constant", "rate_per_s": 10.0, "count": 4},
            **workload,
        },
        "strategies": strategies,
    }
    return parse_scenario(data, "test")


ALL_KINDS = [
    {"name": "poll", "kind": "poll", "interval_s": 1.0},
    {"name": "direct", "kind": "s3-lambda"},
    {"name": "queue", "kind": "s3-sqs-lambda", "batch_size": 5},
    {"name": "bus", "kind": "s3-eventbridge-lambda"},
    {"name": "scheduled", "kind": "scheduled-poll", "interval_s": 120.0},
]


# -- the plan ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_bundled_scenario_plans(name: str) -> None:
    scenario = load_scenario(name)
    plan = build_plan(scenario, region=REGION, account_id=ACCOUNT)
    planned = {t.strategy for t in plan.targets} | {s for s, _ in plan.skipped}
    assert planned == {s.name for s in scenario.strategies}  # every strategy: planned or skipped, with why
    names = [(r.kind.value.split(".")[0], r.name) for r in plan.resources if r.kind in TAGGABLE]
    assert len(names) == len(set(names))  # unique within each service
    assert all(plan.run_id in n for _, n in names)
    for bucket in plan.of_kind(ResourceKind.BUCKET):
        assert bucket.name == bucket.name.lower()
        assert 3 <= len(bucket.name) <= 63
    for target in plan.targets:
        kinds = {r.kind for r in plan.resources if r.strategy == target.strategy}
        assert ResourceKind.BUCKET in kinds
        if target.function:
            assert {
                ResourceKind.ROLE,
                ResourceKind.FUNCTION,
                ResourceKind.LOG_GROUP,
                ResourceKind.DLQ,
            } <= kinds
    for function in plan.of_kind(ResourceKind.FUNCTION):
        assert function.spec["runtime"] == LAMBDA_RUNTIME
        assert len(function.name) <= 64
    assert math.isfinite(plan.estimate.total)
    assert plan.estimate.total > 0
    json.dumps(plan.as_dict())  # machine-readable as promised


def test_plan_json_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["aws", "plan", "quickstart", "--region", REGION, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["region"] == REGION
    assert document["account_id"] is None
    assert document["resource_counts"] == {
        "dynamodb.table": 1,
        "s3.bucket": 3,
        "sqs.dead-letter-queue": 1,
        "sqs.queue": 1,
        "sqs.queue-policy": 1,
        "iam.role": 1,
        "logs.log-group": 1,
        "lambda.function": 1,
        "lambda.event-source-mapping": 1,
        "s3.notification": 1,
    }
    assert document["estimate"]["total_usd"] > 0
    assert document["estimate"]["assumptions"]


def test_plan_text_names_every_resource(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["aws", "plan", "event-routes", "--region", REGION]) == 0
    text = capsys.readouterr().out
    for phrase in ("python3.13", "SourceAccount", "retention 1 day", "inotify: skipped", "estimated cost"):
        assert phrase in text


def test_permission_names_bucket_and_account() -> None:
    plan = build_plan(scenario_with(ALL_KINDS), region=REGION, account_id=ACCOUNT)
    direct = next(r for r in plan.of_kind(ResourceKind.PERMISSION) if r.strategy == "direct")
    bucket = next(r for r in plan.of_kind(ResourceKind.BUCKET) if r.strategy == "direct")
    assert direct.spec["source_arn"] == f"arn:aws:s3:::{bucket.name}"
    assert direct.spec["source_account"] == ACCOUNT
    schedule = next(r for r in plan.of_kind(ResourceKind.RULE) if r.strategy == "scheduled")
    assert schedule.spec["schedule_expression"] == "rate(2 minutes)"


def role_policy(plan: Plan, strategy: str) -> dict[str, Any]:
    return dict(next(r for r in plan.of_kind(ResourceKind.ROLE) if r.strategy == strategy).spec["policy"])


def test_sqs_route_role_is_least_privilege_statement_by_statement() -> None:
    plan = build_plan(scenario_with(ALL_KINDS), region=REGION, account_id=ACCOUNT, run_id="0a1b2c3d")
    base = "pve-0a1b2c3d-2queue"
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}"
    assert role_policy(plan, "queue")["Statement"] == [
        {
            "Sid": "ReadWatchedObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{base}/incoming/*"],
        },
        {
            "Sid": "WriteOutputs",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{base}/summaries/*"],
        },
        {
            "Sid": "WriteTimingRecords",
            "Effect": "Allow",
            "Action": ["s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{base}/pve-records/*"],
        },
        {
            "Sid": "ConsumeSourceQueue",
            "Effect": "Allow",
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": [f"{arn}:{base}-queue"],
        },
        {
            "Sid": "SendDeadLetters",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [f"{arn}:{base}-dlq"],
        },
        {
            "Sid": "UseIdempotencyLedger",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            "Resource": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/pve-0a1b2c3d-ledger"],
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{base}:*"],
        },
    ]


def test_no_role_can_list_delete_or_touch_another_bucket() -> None:
    plan = build_plan(scenario_with(ALL_KINDS), region=REGION, account_id=ACCOUNT)
    for role in plan.of_kind(ResourceKind.ROLE):
        bucket = next(b.name for b in plan.of_kind(ResourceKind.BUCKET) if b.strategy == role.strategy)
        for statement in role.spec["policy"]["Statement"]:
            assert "*" not in statement["Action"]
            assert statement["Resource"] != "*"
            assert not any(a.startswith("s3:Delete") or a == "iam:PassRole" for a in statement["Action"])
            for resource in statement["Resource"]:
                if resource.startswith("arn:aws:s3:::"):
                    assert resource.split(":::")[1].split("/")[0] == bucket
        listing = [s for s in role.spec["policy"]["Statement"] if "s3:ListBucket" in s["Action"]]
        assert (role.strategy == "scheduled") == bool(listing)  # only the scheduled poller lists


# -- safety: refusals before anything is deployed ----------------------------------------------------
@pytest.mark.parametrize("prefix", ["", "s", "summaries/", "pve-records/x/"])
def test_recursion_guard_refuses_outputs_under_the_watched_prefix(prefix: str) -> None:
    with pytest.raises(ValueError, match="trigger"):  # the scenario's own check, or the plan's
        build_plan(scenario_with([{"name": "direct", "kind": "s3-lambda"}], prefix=prefix), region=REGION)


@pytest.mark.parametrize("region", [None, "", "Europe", "eu-west"])
def test_region_must_be_named(region: str | None) -> None:
    with pytest.raises(ValueError, match="region"):
        check_region(region)


def test_run_is_refused_without_yes_over_budget_or_in_another_account() -> None:
    scenario = scenario_with([{"name": "direct", "kind": "s3-lambda"}])
    plan = build_plan(scenario, region=REGION)
    with pytest.raises(RunRefusedError, match="--yes"):
        check_run(plan, scenario, yes=False, budget_usd=1.0)
    with pytest.raises(RunRefusedError, match="exceeds --budget-usd"):
        check_run(plan, scenario, yes=True, budget_usd=plan.estimate.total / 2)
    check_run(plan, scenario, yes=True, budget_usd=1.0)
    with pytest.raises(RunRefusedError, match="account"):
        check_account("111111111111", "222222222222")
    check_account("111111111111", None)


def test_cli_refuses_a_run_without_yes_and_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "quickstart", "--backend", "aws", "--region", REGION, "--quiet"]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["run", "monthly", "--backend", "aws", "--region", REGION, "--yes"]) == 2
    assert "--budget-usd" in capsys.readouterr().err.replace("\n", "")


def test_expected_files_and_span() -> None:
    assert expected_files_and_span(load_scenario("quickstart").workload.arrivals) == (200, 10.0)
    files, span = expected_files_and_span(load_scenario("sparse").workload.arrivals)
    assert (files, span) == (20, 7200)


# -- REPORT lines --------------------------------------------------------------------------------------
REAL_REPORTS = [
    # cold start, as CloudWatch Logs shows it (Lambda Developer Guide, Python logging example)
    "REPORT RequestId: 1c8df7d3-xmpl-46da-9778-518e6eca8125\tDuration: 2.75 ms\tBilled Duration: 3 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 56 MB\tInit Duration: 113.51 ms\t",
    # warm, with X-Ray tracing fields
    "REPORT RequestId: 8f5c9ca4-xmpl-4f1e-b5e6-1b0b3d9c1f11\tDuration: 102.25 ms\tBilled Duration: 103 ms\t"
    "Memory Size: 128 MB\tMax Memory Used: 67 MB\t\nXRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\t"
    "SegmentId: 07f5xmpl2d1f6f85\tSampled: true\t",
    # a timeout
    "REPORT RequestId: 6f7bd2a1-xmpl-44b1-8b4f-b8f4a6b1c2d3\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
    "Memory Size: 256 MB\tMax Memory Used: 80 MB\tStatus: timeout\n",
]


def test_report_lines_parse() -> None:
    cold, warm, timeout = (parse_report(line) for line in REAL_REPORTS)
    assert cold is not None
    assert warm is not None
    assert timeout is not None
    assert (cold.billed_ms, cold.init_ms, cold.memory_mb, cold.cold_start) == (3, 113.51, 128, True)
    assert (warm.duration_ms, warm.billed_ms, warm.cold_start) == (102.25, 103, False)
    assert warm.extra["SegmentId"] == "07f5xmpl2d1f6f85"
    assert (timeout.status, timeout.memory_mb) == ("timeout", 256)
    summary = summarize_reports([cold, warm, timeout])
    assert (summary["invocations"], summary["cold_starts"], summary["timeouts"]) == (3, 1, 1)
    assert summary["billed_ms"] == 3106
    assert summary["gb_s"] == pytest.approx((3 + 103) / 1000 * 128 / 1024 + 3000 / 1000 * 256 / 1024)
    assert parse_report("START RequestId: x Version: $LATEST") is None


def test_report_round_trip_and_malformed_lines() -> None:
    report = Report("r-1", 12.5, 13, 128, 40, init_ms=250.25)
    assert parse_report(format_report(report)) == report
    with pytest.raises(ValueError, match="Billed Duration"):
        parse_report("REPORT RequestId: x\tDuration: 1.0 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB")
    with pytest.raises(ValueError, match="not a REPORT field"):
        parse_report("REPORT RequestId: x\tgarbage")


# -- clock offsets ------------------------------------------------------------------------------------
def test_event_time_offset_is_the_median_difference() -> None:
    pairs = [(100.0 + i + 2.5, 100.0 + i) for i in range(9)] + [(500.0, 400.0)]  # one outlier
    offset = offset_from_event_times(pairs)
    assert offset.offset_s == pytest.approx(2.5)
    assert offset.method == "s3-event-time"


def test_date_headers_bound_the_offset_to_under_a_second() -> None:
    true_offset = 3.3
    samples = []
    for t in (1000.05, 1000.4, 1000.71, 1001.2, 1001.93):
        server = t + true_offset
        samples.append((t - 0.01, formatdate(math.floor(server), usegmt=True), t + 0.01))
    offset = offset_from_date_headers(samples)
    assert abs(offset.offset_s - true_offset) <= offset.uncertainty_s < 0.5
    assert tighter(offset, offset_from_event_times([])) is offset


# -- packaging -------------------------------------------------------------------------------------------
def test_a_pillow_wheel_must_match_the_runtime_and_architecture(tmp_path: Path) -> None:
    good = tmp_path / "pillow-12.0.0-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(good, "w") as wheel:
        wheel.writestr("PIL/__init__.py", "")
        wheel.writestr("pillow.libs/libz.so", b"\0")
        wheel.writestr("pillow-12.0.0.dist-info/METADATA", "")
    check_wheel(good, "python3.13", "x86_64")
    with pytest.raises(PackagingError, match="pip download"):
        check_wheel(good, "python3.13", "arm64")
    with pytest.raises(PackagingError):
        check_wheel(good, "python3.12", "x86_64")
    names = zipfile.ZipFile(__import__("io").BytesIO(build_package("python3.13", "x86_64", good))).namelist()
    assert {
        "pve_aws_handler.py",
        "PIL/__init__.py",
        "pillow.libs/libz.so",
        "event_handlers/handler.py",
    } <= set(names)
    assert not any(n.startswith("pillow-12.0.0.dist-info") for n in names)


# -- CloudFormation -------------------------------------------------------------------------------------
def lint(template: dict[str, Any]) -> list[Any]:
    from cfnlint.api import lint_all

    return list(lint_all(json.dumps(template)))


def test_template_holds_the_plans_resources_and_passes_cfn_lint() -> None:
    scenario = scenario_with(ALL_KINDS)
    plan = build_plan(scenario, region=REGION)
    template = build_template(template_plan(plan, scenario))
    types = [r["Type"] for r in template["Resources"].values()]
    expected = len(plan.resources) - len(plan.of_kind(ResourceKind.NOTIFICATION))  # a bucket property in CFN
    assert len(types) == expected
    for resource in template["Resources"].values():
        tags = resource["Properties"].get("Tags")
        if tags is not None:
            assert {"Key": TAG_KEY, "Value": plan.run_id} in tags
    # the operator's policy rides along: cfn-lint checks every action name against IAM's list (W3037)
    operator = json.loads((ROOT / "docs" / "aws" / "operator-policy.json").read_text(encoding="utf-8"))
    template["Resources"]["OperatorPolicy"] = {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {"PolicyDocument": operator},
        "Metadata": {CONTEXT_KEY: {"why": "the operator's own permissions (docs/aws/operator-policy.json)"}},
    }
    for resource_id, resource in template["Resources"].items():  # every resource says why it exists
        assert resource["Metadata"][CONTEXT_KEY]["why"], resource_id
    assert lint(template) == []  # every rule, informational ones included


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_bundled_template_passes_cfn_lint(name: str) -> None:
    scenario = load_scenario(name)
    plan = build_plan(scenario, region=REGION)
    assert lint(build_template(template_plan(plan, scenario))) == []


def test_the_deployed_entry_point_imports_only_what_the_zip_and_lambda_hold() -> None:
    """Lambda has boto3; the zip adds event_handlers and Pillow. Nothing of bench, numpy, pandas,
    pydantic, watchdog or moto may be needed to import the handler."""
    import subprocess
    import sys

    blocked = ["bench", "numpy", "pandas", "pydantic", "watchdog", "moto", "pollers"]
    code = (
        f"import sys\nfor name in {blocked!r}: sys.modules[name] = None\n"
        "import importlib.util\n"
        "spec = importlib.util.spec_from_file_location('pve_aws_handler', 'bench/aws/lambda_entry.py')\n"
        "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\n"
        "print(module.lambda_handler.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "lambda_handler"


def test_no_credentials_is_a_one_line_input_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # a closed local port: even a bug could not reach AWS from here
    assert main(["aws", "list", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "no AWS credentials" in capsys.readouterr().err


@pytest.mark.parametrize("account", ["12", "abcdefghijkl", "1234567890123"])
def test_an_account_id_must_be_twelve_digits(account: str) -> None:
    with pytest.raises(ValueError, match="12-digit"):
        build_plan(scenario_with(ALL_KINDS[:2]), region=REGION, account_id=account)
