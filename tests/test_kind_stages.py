"""Every stage asks the kinds registry, never a string: an unknown kind raises in each, naming it,
and every kind goes through every facet the stages ask.

Modules are imported whole (``bench.live.capacity``, not names from it) so that this file runs on
an older tree too and shows which stage let an unknown kind fall through.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

import bench.aws.estimate as estimate
import bench.aws.plan as plan
import bench.aws.run as aws_run
import bench.kinds as kinds
import bench.live.capacity as capacity
import bench.live.route_floor as route_floor
import bench.live.stability as stability
import bench.report.charts as charts
import bench.scenario.kinds as scenario_kinds
import bench.simulate.validate as validate
from bench.results.model import StrategyResult
from bench.scenario.kinds import Kind
from bench.scenario.spec import Scenario, parse_scenario

UNKNOWN = "s3-carrier-pigeon"  # no such kind: every stage must say so, not treat it as a poller
NAMED = rf"no row for strategy kind '{UNKNOWN}'"
REQUIRED: dict[Kind, dict[str, Any]] = {
    Kind.POLL: {"interval_s": 1.0},
    Kind.SCHEDULED_POLL: {"interval_s": 60.0},
    Kind.HYBRID: {"sweep_interval_s": 60.0},
}


def scenario_of(kind: Kind) -> Scenario:
    backend = "folder" if kind is Kind.INOTIFY else "moto"
    return parse_scenario(
        {
            "name": "stages",
            "backend": backend,
            "workload": {"prefix": "in/", "arrivals": {"process": "constant", "rate_per_s": 1.0, "count": 5}},
            "strategies": [{"name": "s", "kind": str(kind), **REQUIRED.get(kind, {})}],
        },
        "test",
    )


def stranger() -> Any:
    """A strategy spec of no known kind (what a results file from a newer version may hold)."""
    return SimpleNamespace(
        name="pigeon",
        kind=UNKNOWN,
        backend=None,
        interval_s=1.0,
        max_retries=2,
        wait_time_s=20,
        function=SimpleNamespace(reserved_concurrency=None),
    )


def result_of(kind: str) -> StrategyResult:
    return StrategyResult.model_validate(
        {
            "kind": kind,
            "backend": "moto",
            "parameters": {"interval_s": 1.0},
            "files": 10,
            "processed": 10,
            "latency_s": {"p50": 0.1, "p95": 0.2, "mean": 0.1},
        }
    )


STAGES = {
    "scenario: family": lambda: scenario_kinds.family(UNKNOWN),
    "live: capacity judges a point": lambda: capacity.judge_point(UNKNOWN, 1.0, result_of(UNKNOWN), 0.01),
    "live: route floors": lambda: route_floor.route_floors(UNKNOWN),
    "live: stability's servers": lambda: stability.local_servers(stranger(), scenario_of(Kind.POLL)),
    "simulate: validation coverage": lambda: validate._uncovered(UNKNOWN, {"routes": {}}, "calibration"),
    "report: latency against interval": lambda: charts.latency_vs_interval(
        SimpleNamespace(strategies={"pigeon": result_of(UNKNOWN)}), None
    ),
    "aws: estimate counts": lambda: estimate.expected_counts(stranger(), 10, 60.0),
    "aws: plan refuses or builds": lambda: plan.skip_reason(scenario_of(Kind.POLL), stranger()),
    "aws: requests by origin": lambda: aws_run.api_calls_by_origin({}, [], UNKNOWN, 1, local=False),
    "aws: retry schedule": lambda: aws_run.retry_schedule_s(None, stranger()),  # type: ignore[arg-type]
    "aws: run refuses": lambda: aws_run.check_run(
        SimpleNamespace(targets=[SimpleNamespace(strategy="pigeon", kind=UNKNOWN)]),  # type: ignore[arg-type]
        scenario_of(Kind.POLL),
        yes=True,
        budget_usd=1.0,
    ),
}


@pytest.mark.parametrize("stage", list(STAGES))
def test_an_unknown_kind_raises_in_every_stage_naming_it(stage: str) -> None:
    with pytest.raises(LookupError, match=NAMED):
        STAGES[stage]()


@pytest.mark.parametrize("table", list(kinds.FACETS))
def test_every_facet_table_refuses_an_unknown_kind_by_name(table: str) -> None:
    with pytest.raises(LookupError, match=rf"{table} has {NAMED}"):
        scenario_kinds.facet(kinds.FACETS[table], UNKNOWN, table)


def test_the_registry_carries_the_stages_facets() -> None:
    for table in (
        "bench.scenario.kinds.FAMILIES",
        "bench.live.stability.SERVERS",
        "bench.live.route_floor.ROUTES",
        "bench.aws.routes.AWS_ROUTES",
        "bench.aws.estimate.COUNTS",
    ):
        assert set(kinds.FACETS[table]) == set(Kind), table


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_every_kind_goes_through_every_stage_facet(kind: Kind) -> None:
    row = kinds.REGISTRY[kind]
    scenario = scenario_of(kind)
    spec = scenario.strategies[0]
    assert scenario_kinds.family(kind) is row.family
    assert stability.local_servers(spec, scenario) > 0
    assert isinstance(route_floor.ROUTES[kind], tuple)
    # p95 0.2 s: within two 1 s poll intervals, but far above an event route's floor of 10 ms + slack
    judged = capacity.judge_point(str(kind), 1.0, result_of(str(kind)), 0.010)
    assert judged.ok == (not row.family.lambda_delivered)
    assert (str(kind) in capacity.EVENT_KINDS) == row.family.lambda_delivered
    if scenario.backend_of(spec) == "folder":
        assert plan.skip_reason(scenario, spec)
        with pytest.raises(ValueError, match="local folder"):
            estimate.expected_counts(spec, 10, 60.0)
        return
    counts = estimate.expected_counts(spec, 10, 60.0)
    assert counts["s3.PutObject"] >= 20  # the inputs and at least the outputs
    assert ("lambda.invocations" in counts) == row.aws_route.has_function


@pytest.mark.parametrize("kind", [k for k in Kind if k is not Kind.INOTIFY], ids=str)
def test_the_plan_builds_what_the_route_row_says(kind: Kind) -> None:
    route = kinds.REGISTRY[kind].aws_route
    built = plan.build_plan(scenario_of(kind), region="eu-west-1", run_id="0123abcd")
    have = {str(r.kind) for r in built.resources}
    target = built.targets[0]
    assert target.runs_here == route.runs_here
    assert ("lambda.function" in have) == route.has_function == (target.function is not None)
    assert ("sqs.queue" in have) == route.queue == (target.queue_url_name is not None)
    assert ("lambda.async-invoke-config" in have) == (route.delivery == "async")
    assert ("lambda.event-source-mapping" in have) == (route.delivery == "queue")
    if route.has_function:
        policy = str(next(r.spec for r in built.resources if str(r.kind) == "iam.role")["policy"])
        assert ("s3:ListBucket" in policy) == route.lists_watched_prefix
