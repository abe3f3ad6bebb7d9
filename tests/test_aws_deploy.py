"""Deploy, teardown and cleanup against moto's server over HTTP (endpoint_url), as against AWS."""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bench.aws.boundary import ensure_boundary
from bench.aws.deploy import REGION_TAG, Clients, Deployer
from bench.aws.inventory import find_resources, teardown
from bench.aws.package import code_only_package
from bench.aws.plan import TAG_KEY, TAGGABLE, Plan, Resource, ResourceKind, build_plan
from bench.aws.run import RunOptions, run_on_aws
from bench.cli import main
from bench.live.clients import ApiCallCounter, ClientFactory
from bench.scenario.spec import Scenario, parse_scenario
from tests.aws_moto import (  # noqa: F401 - fixtures
    FAKE_ENV,
    REGION,
    aws_fixture,
    count,
    everything,
    moto_endpoint_fixture,
)

ROOT = Path(__file__).resolve().parents[1]


def package(runtime: str, architecture: str) -> bytes:
    """moto runs no function code, so the tests deploy the zip without Pillow (uploads 100x smaller);
    what the real zip holds is tested in test_aws_plan."""
    return code_only_package()


def tiny(strategies: list[dict[str, Any]], **top: Any) -> Scenario:
    return parse_scenario(
        {
            "name": "aws-tiny",
            "seed": 3,
            "drain_timeout_s": 10,
            "workload": {
                "prefix": "incoming/",
                "key_style": "odd",
                "arrivals": {"process": "constant", "rate_per_s": 20.0, "count": 3},
                "content": {"kind": "csv", "rows": 5},
            },
            "strategies": strategies,
            **top,
        },
        "test",
    )


EVERY_ROUTE = [
    {"name": "poll", "kind": "poll", "interval_s": 0.5},
    {"name": "direct", "kind": "s3-lambda"},
    {"name": "queue", "kind": "s3-sqs-lambda", "batch_size": 5},
    {"name": "bus", "kind": "s3-eventbridge-lambda"},
    {"name": "fanout", "kind": "s3-sns-sqs-lambda"},
    {"name": "scheduled", "kind": "scheduled-poll", "interval_s": 60.0},
    {"name": "local", "kind": "inotify", "backend": "folder"},
]


def deployed_plan(aws: Clients, strategies: list[dict[str, Any]]) -> tuple[Plan, Any]:
    account = aws("sts").get_caller_identity()["Account"]
    plan = build_plan(tiny(strategies), region=REGION, account_id=account)
    return plan, Deployer(plan, aws, package=package).deploy()


def found_names(aws: Clients, run_id: str | None) -> set[tuple[str, str]]:
    return {(str(f.kind), f.name) for f in find_resources(aws, REGION, run_id)}


def planned_names(plan: Plan) -> set[tuple[str, str]]:
    """What inventory should find: taggable resources (queues are one kind there; mappings by function)."""
    out = set()
    for r in plan.resources:
        if r.kind not in TAGGABLE:
            continue
        kind = ResourceKind.QUEUE if r.kind is ResourceKind.DLQ else r.kind
        name = r.spec["function"] if r.kind is ResourceKind.EVENT_SOURCE_MAPPING else r.name
        out.add((str(kind), name))
    return out


def spec_of(plan: Plan, kind: ResourceKind, strategy: str) -> Resource:
    return next(r for r in plan.of_kind(kind) if r.strategy == strategy)


def test_deploy_creates_exactly_the_plan_and_teardown_leaves_nothing(
    aws: Clients, moto_endpoint: str
) -> None:
    admin = ClientFactory(ApiCallCounter(), endpoint_url=moto_endpoint, region=REGION)
    ensure_boundary(Clients(admin)("iam"), aws("sts").get_caller_identity()["Account"])  # once, by an admin
    before = everything(aws)
    plan, journal = deployed_plan(aws, EVERY_ROUTE)
    made = set(aws.factory.counter.by_role()["setup"])  # the deployer's calls (the test's come later)
    after_deploy = everything(aws)
    assert found_names(aws, plan.run_id) == planned_names(plan)
    assert count(after_deploy) - count(before) == len(planned_names(plan))
    # roles: exactly the planned least-privilege inline policy, nothing attached, both tags
    iam = aws("iam")
    for role in plan.of_kind(ResourceKind.ROLE):
        assert iam.list_role_policies(RoleName=role.name)["PolicyNames"] == ["least-privilege"]
        assert iam.list_attached_role_policies(RoleName=role.name)["AttachedPolicies"] == []
        got = iam.get_role_policy(RoleName=role.name, PolicyName="least-privilege")["PolicyDocument"]
        assert (json.loads(got) if isinstance(got, str) else got) == role.spec["policy"]
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role.name)["Tags"]}
        assert tags == {TAG_KEY: plan.run_id, REGION_TAG: REGION}
        assert iam.get_role(RoleName=role.name)["Role"]["Path"] == "/pve/"
    # functions: runtime, handler, memory, environment as planned; permissions with both conditions
    lam = aws("lambda")
    for function in plan.of_kind(ResourceKind.FUNCTION):
        config = lam.get_function_configuration(FunctionName=function.name)
        assert config["Runtime"] == "python3.13"
        assert config["Handler"] == "pve_aws_handler.lambda_handler"
        assert config["MemorySize"] == function.spec["memory_mb"]
        assert config["Environment"]["Variables"] == function.spec["environment"]
        assert config["Role"] == function.spec["role"]
    direct = spec_of(plan, ResourceKind.FUNCTION, "direct")
    statement = json.loads(lam.get_policy(FunctionName=direct.name)["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert (
        statement["Condition"]["ArnLike"]["AWS:SourceArn"]
        == f"arn:aws:s3:::{spec_of(plan, ResourceKind.BUCKET, 'direct').name}"
    )
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == plan.account_id
    # notification configurations, queue attributes and policy, mapping, rules, log groups, ledger
    s3 = aws("s3")
    for note in plan.of_kind(ResourceKind.NOTIFICATION):
        bucket = note.name.removesuffix(":notification")
        got_notes: Mapping[str, Any] = s3.get_bucket_notification_configuration(Bucket=bucket)
        want = note.spec["configuration"]
        for name, entries in want.items():
            if name == "EventBridgeConfiguration":
                continue  # moto 5.2 honours it (the run test sees the events) but does not return it
            assert [e["Filter"] for e in got_notes[name]] == [e["Filter"] for e in entries]
            arn_key = {"LambdaFunction": "LambdaFunctionArn", "Queue": "QueueArn", "Topic": "TopicArn"}[
                name.removesuffix("Configurations")
            ]
            assert [e[arn_key] for e in got_notes[name]] == [e[arn_key] for e in entries]
    sqs = aws("sqs")
    queue = spec_of(plan, ResourceKind.QUEUE, "queue")
    attributes = sqs.get_queue_attributes(QueueUrl=journal.queue_urls[queue.name], AttributeNames=["All"])[
        "Attributes"
    ]
    assert (
        json.loads(attributes["Policy"]) == spec_of(plan, ResourceKind.QUEUE_POLICY, "queue").spec["policy"]
    )
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    mapping = lam.list_event_source_mappings(FunctionName=spec_of(plan, ResourceKind.FUNCTION, "queue").name)
    assert [m["BatchSize"] for m in mapping["EventSourceMappings"]] == [5]
    events = aws("events")
    bus = spec_of(plan, ResourceKind.RULE, "bus")
    assert json.loads(events.describe_rule(Name=bus.name)["EventPattern"]) == bus.spec["event_pattern"]
    schedule = spec_of(plan, ResourceKind.RULE, "scheduled")
    assert events.describe_rule(Name=schedule.name)["ScheduleExpression"] == "rate(1 minute)"
    groups = aws("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/pve-")["logGroups"]
    assert sorted(g["retentionInDays"] for g in groups) == [1] * len(plan.of_kind(ResourceKind.LOG_GROUP))
    table = plan.of_kind(ResourceKind.LEDGER_TABLE)[0].name
    ttl = aws("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiration"

    checked = aws.factory.counter.by_role()["setup"]
    report = teardown(aws, REGION, plan.run_id, journal)
    made |= {op for op, n in aws.factory.counter.by_role()["setup"].items() if n > checked.get(op, 0)}
    after = everything(aws)
    counts = (
        f"before deploy {count(before)}, after deploy {count(after_deploy)}, after teardown {count(after)}"
    )
    print(f"\nresources in every service: {counts}")
    assert report.clean, report.errors
    assert after == before == {k: [] for k in before}
    assert_operator_policy_allows(made)


def iam_action(operation: str) -> str:
    """The IAM action a boto3 operation needs (renamed ones listed)."""
    renamed = {
        "s3.ListObjectsV2": "s3:ListBucket",
        "s3.ListObjectVersions": "s3:ListBucketVersions",
        "s3.PutBucketNotificationConfiguration": "s3:PutBucketNotification",
        "s3.GetBucketNotificationConfiguration": "s3:GetBucketNotification",
        "s3.DeleteObjects": "s3:DeleteObject",
        "s3.ListBuckets": "s3:ListAllMyBuckets",
        "s3.HeadBucket": "s3:ListBucket",
        "s3.HeadObject": "s3:GetObject",
    }
    service, name = operation.split(".", 1)
    return renamed.get(operation, f"{service}:{name}")


def assert_operator_policy_allows(calls: set[str]) -> None:
    """Every call made is allowed by docs/aws/operator-policy.json (action patterns, fnmatch)."""
    document = json.loads((ROOT / "docs" / "aws" / "operator-policy.json").read_text(encoding="utf-8"))
    allowed = [a for s in document["Statement"] if s["Effect"] == "Allow" for a in s["Action"]]
    needed = {iam_action(op) for op in calls} | {"iam:PassRole"}  # CreateFunction passes the role
    missing = sorted(a for a in needed if not any(fnmatch.fnmatchcase(a, p) for p in allowed))
    assert missing == []


def test_a_failure_half_way_through_deploy_leaves_nothing(aws: Clients, tmp_path: Path) -> None:
    before = everything(aws)
    scenario = tiny(EVERY_ROUTE[:4])
    plan = build_plan(scenario, region=REGION, account_id=aws("sts").get_caller_identity()["Account"])
    created: list[str] = []

    def explode(resource: Resource) -> None:
        if resource.kind is ResourceKind.PERMISSION:  # after buckets, queues, roles, functions, log groups
            raise RuntimeError("injected failure")
        created.append(resource.name)

    options = RunOptions(local_lambda=True, before_create=explode, package=package)
    with pytest.raises(RuntimeError, match="injected"):
        run_on_aws(scenario, plan, aws.factory, tmp_path, options)
    assert len(created) > len(plan.resources) // 2
    assert everything(aws) == before


def test_cleanup_removes_tagged_leftovers_and_nothing_else(
    aws: Clients, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    untagged = lookalikes(aws)
    first, _ = deployed_plan(aws, EVERY_ROUTE[:2])
    second, _ = deployed_plan(aws, EVERY_ROUTE[2:3])
    common = ["--region", REGION, "--endpoint-url", moto_endpoint]
    assert main(["aws", "list", *common]) == 0
    listing = capsys.readouterr().out
    assert f"run {first.run_id}" in listing
    assert f"run {second.run_id}" in listing
    assert main(["aws", "cleanup", *common, "--run-id", first.run_id]) == 0
    assert found_names(aws, first.run_id) == set()
    assert found_names(aws, second.run_id) == planned_names(second)
    assert main(["aws", "cleanup", *common]) == 2  # every run in the region needs --yes
    assert main(["aws", "cleanup", *common, "--yes"]) == 0
    assert found_names(aws, None) == set()
    assert everything(aws) == untagged  # what carries no pve:run-id tag survives


def lookalikes(aws: Clients) -> dict[str, list[str]]:
    """Resources named like the suite's but not tagged with pve:run-id (one tagged otherwise)."""
    aws("s3").create_bucket(Bucket="pve-untagged", CreateBucketConfiguration={"LocationConstraint": REGION})
    aws("sqs").create_queue(QueueName="pve-untagged", tags={"owner": "someone"})
    role = aws("iam").create_role(RoleName="pve-untagged", Path="/pve/", AssumeRolePolicyDocument="{}")
    aws("lambda").create_function(
        FunctionName="pve-untagged",
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="x.y",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    aws("logs").create_log_group(logGroupName="/aws/lambda/pve-untagged")
    aws("events").put_rule(Name="pve-untagged", ScheduleExpression="rate(1 hour)")
    aws("dynamodb").create_table(
        TableName="pve-untagged",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return everything(aws)


SIGTERM_SCENARIO = """
name = "aws-sigterm"
seed = 1
drain_timeout_s = 120
[workload]
prefix = "incoming/"
[workload.arrivals]
process = "constant"
rate_per_s = 0.05
count = 3
[workload.content]
kind = "csv"
rows = 3
[[strategies]]
name = "queue"
kind = "s3-sqs-lambda"
wait_time_s = 1
"""


def test_sigterm_mid_run_still_tears_down(aws: Clients, moto_endpoint: str, tmp_path: Path) -> None:
    before = everything(aws)
    scenario = tmp_path / "sigterm.toml"
    scenario.write_text(SIGTERM_SCENARIO, encoding="utf-8")
    command = [sys.executable, "-m", "bench", "run", str(scenario), "--backend", "aws", "--region", REGION]
    command += ["--yes", "--endpoint-url", moto_endpoint, "--out", str(tmp_path / "out"), "--quiet"]
    command += ["--pillow-wheel", str(small_wheel(tmp_path))]  # moto runs no code: keep the upload small
    env = {**os.environ, **FAKE_ENV}
    env.pop("AWS_DEFAULT_REGION", None)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not deployed(aws):
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            time.sleep(0.2)
        assert deployed(aws), "the run never finished deploying"
        time.sleep(0.5)  # inside the run: the writer waits 20 s between files
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0].decode()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, output  # 128 + SIGTERM, as on every other path
    assert "teardown: " in output
    assert everything(aws) == before, output


def small_wheel(folder: Path) -> Path:
    """A wheel named as Pillow for the functions' runtime, holding a stub: moto never imports it."""
    import zipfile

    wheel = folder / "pillow-12.0.0-cp313-cp313-manylinux_2_28_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("PIL/__init__.py", "")
    return wheel


def deployed(aws: Clients) -> bool:
    """The last planned resource (the bucket's notification) exists."""
    for bucket in aws("s3").list_buckets().get("Buckets", []):
        config = aws("s3").get_bucket_notification_configuration(Bucket=bucket["Name"])
        if config.get("QueueConfigurations"):
            return True
    return False


def test_clients_use_only_the_named_region(aws: Clients, moto_endpoint: str) -> None:
    factory = ClientFactory(ApiCallCounter(), endpoint_url=moto_endpoint, region="ap-southeast-2")
    assert factory.client("s3", "setup").meta.region_name == "ap-southeast-2"
    assert "AWS_DEFAULT_REGION" not in os.environ


def test_the_functions_ledger_claims_each_object_version_once(aws: Clients) -> None:
    """The table the plan deploys fits event_handlers' DynamoDB ledger (key ``id``, TTL ``expiration``)."""
    from event_handlers.dynamodb_ledger import DynamoDBLedger
    from event_handlers.ledger import Claim

    plan, journal = deployed_plan(aws, EVERY_ROUTE[1:2])
    table = plan.of_kind(ResourceKind.LEDGER_TABLE)[0].name
    ledger = DynamoDBLedger(aws("dynamodb"), table)
    assert ledger.claim("b/k#1") is Claim.ACQUIRED
    assert ledger.claim("b/k#1") is Claim.IN_PROGRESS  # another environment holds it
    ledger.release("b/k#1")  # a transient failure gives it back
    assert ledger.claim("b/k#1") is Claim.ACQUIRED
    ledger.complete("b/k#1")
    assert ledger.claim("b/k#1") is Claim.COMPLETED  # a duplicate delivery
    ledger.fail("b/k#2", "corrupt")
    assert ledger.claim("b/k#2") is Claim.FAILED
    item = aws("dynamodb").get_item(TableName=table, Key={"id": {"S": "b/k#1"}})["Item"]
    assert "expiration" in item  # the attribute the table's TTL deletes by
    assert teardown(aws, REGION, plan.run_id, journal).clean


def test_one_bad_timing_record_never_sinks_the_others(aws: Clients) -> None:
    from bench.aws.run import RecordCollector

    s3 = aws("s3")
    s3.create_bucket(Bucket="pve-records-test", CreateBucketConfiguration={"LocationConstraint": REGION})
    good = {"key": "incoming/a.csv", "outcome": "processed", "event_time": 1.0}
    good |= {"received_at": 2.0, "started_at": 2.1, "finished_at": 2.5}
    bodies = {
        "good.json": json.dumps(good),
        "not-json.json": "{",
        "no-times.json": json.dumps({"key": "incoming/b.csv", "outcome": "processed"}),
        "binary.json": b"\xff\xfe",
    }
    for name, body in bodies.items():
        s3.put_object(Bucket="pve-records-test", Key=f"pve-records/s/{name}", Body=body)
    collector = RecordCollector(s3, "pve-records-test", "s")
    assert collector.poll() == 1
    assert collector.records == [good]
    assert collector.unreadable == 3
    assert collector.poll() == 1  # within a second: no second listing
    assert aws.factory.counter.by_role()["setup"]["s3.ListObjectsV2"] == 1


def test_inventory_reads_every_page_of_queues() -> None:
    """ListQueues pages past 1,000 URLs only when given a page size: a queue on page two is found."""
    import boto3
    from botocore.stub import Stubber

    from bench.aws import inventory

    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/"
    with Stubber(sqs) as stub:
        prefix = inventory.NAME_PREFIX
        stub.add_response(
            "list_queues",
            {"QueueUrls": [url + prefix + "other"], "NextToken": "page-2"},
            {"QueueNamePrefix": prefix, "MaxResults": 1000},
        )
        stub.add_response("list_queue_tags", {"Tags": {TAG_KEY: "another-run"}})
        stub.add_response(
            "list_queues",
            {"QueueUrls": [url + prefix + "mine"]},
            {"QueueNamePrefix": prefix, "MaxResults": 1000, "NextToken": "page-2"},
        )
        stub.add_response("list_queue_tags", {"Tags": {TAG_KEY: "run-1"}})
        found = list(inventory._queues(lambda service: sqs, "us-east-1", "run-1"))  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert [f.name for f in found] == [prefix + "mine"]
