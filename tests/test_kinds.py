"""One registry of strategy kinds: every kind has every facet, and each facet works for it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.cost.model import CostBreakdown, load_pricing, monthly_cost
from bench.cost.sweep import deployment_for
from bench.kinds import FACETS, REGISTRY, Kind, KindRow, registry
from bench.live.strategies.base import StrategyRun
from bench.live.strategies.events import S3LambdaRun
from bench.live.strategies.hybrid import HybridRun
from bench.results.files import Results, summary_from_json
from bench.results.model import StrategyResult
from bench.scenario.spec import (
    AsyncLambdaStrategy,
    EventBridgeStrategy,
    HybridStrategy,
    S3LambdaStrategy,
    Scenario,
    ScenarioError,
    is_polling,
    parse_scenario,
)
from bench.simulate.calibrate import fit_profile
from bench.simulate.models import Model, SimContext
from event_handlers.runtime.latency import ROUTES, Distribution, load_profile

# the fields a strategy of each kind must be given (everything else has a default)
REQUIRED: dict[Kind, dict[str, Any]] = {
    Kind.POLL: {"interval_s": 1.0},
    Kind.SCHEDULED_POLL: {"interval_s": 60.0},
    Kind.HYBRID: {"sweep_interval_s": 60.0},
}


def scenario_with(kind: Kind, backend: str) -> Scenario:
    strategy = {"name": "s", "kind": str(kind), **REQUIRED.get(kind, {})}
    return parse_scenario(
        {
            "name": "kinds",
            "backend": backend,
            "workload": {"arrivals": {"process": "constant", "rate_per_s": 1.0, "count": 5}},
            "strategies": [strategy],
        },
        "test",
    )


def test_every_facet_table_has_a_row_for_every_kind_and_nothing_else() -> None:
    for table, facet in FACETS.items():
        assert set(facet) == set(Kind), table
    assert set(REGISTRY) == set(Kind)
    assert registry() == REGISTRY


def test_a_facet_without_a_kind_is_named_when_the_registry_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.kinds

    partial = {k: v for k, v in FACETS["bench.simulate.models.MODELS"].items() if k is not Kind.HYBRID}
    monkeypatch.setitem(bench.kinds.FACETS, "bench.simulate.models.MODELS", partial)
    with pytest.raises(LookupError, match=r"bench\.simulate\.models\.MODELS has no row for kind\(s\) hybrid"):
        registry()


@pytest.mark.parametrize("table", list(FACETS))
def test_a_new_kind_missing_from_any_facet_is_named_with_the_table(
    table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The proof of issue 24: a kind added to the enum but forgotten in one table fails loudly."""
    import bench.kinds

    partial = {k: v for k, v in FACETS[table].items() if k is not Kind.S3_SNS_SQS_LAMBDA}
    monkeypatch.setitem(bench.kinds.FACETS, table, partial)
    with pytest.raises(LookupError, match=rf"{re.escape(table)} has no row for kind\(s\) s3-sns-sqs-lambda"):
        registry()


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_the_spec_facet_validates_the_kind_where_it_may_run(kind: Kind) -> None:
    row = REGISTRY[kind]
    for backend in ("moto", "moto-server", "folder"):
        if backend in row.backends:
            assert isinstance(scenario_with(kind, backend).strategies[0], row.spec)
        else:
            with pytest.raises(ScenarioError, match="needs"):
                scenario_with(kind, backend)


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_the_routes_are_latency_profile_routes(kind: Kind) -> None:
    row = REGISTRY[kind]
    assert set(row.routes) <= set(ROUTES)
    polls = kind in (Kind.POLL, Kind.SCHEDULED_POLL)
    assert (row.routes == ()) == polls
    assert row.calibration.route == (row.routes[-1] if row.routes else None)


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_the_live_facet_is_a_run_of_that_kind(kind: Kind) -> None:
    run = REGISTRY[kind].live_run
    assert issubclass(run, StrategyRun)
    assert run.kind is kind


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_the_simulator_facet_processes_every_file(kind: Kind) -> None:
    row: KindRow = REGISTRY[kind]
    backend = "folder" if "folder" in row.backends else "moto"
    spec = scenario_with(kind, backend).strategies[0]
    ctx = SimContext(
        load_profile("instant"),
        Distribution("constant", {"value_s": 0.01}),
        0.0,
        0.0,
        seed=1,
        horizon_s=600.0,
    )
    model = row.sim_model(spec, ctx, 0.5)
    assert isinstance(model, Model)
    arrivals = np.arange(20, dtype=float)
    result = model.chunk(arrivals)
    model.finish(30.0)
    assert np.isfinite(result.finished).all()
    assert (result.finished >= arrivals).all()
    assert model.totals.api_calls["s3.GetObject"] >= 20  # per file (+ a scheduled cursor)


@pytest.mark.parametrize("kind", list(Kind), ids=str)
def test_the_cost_facets_price_the_kind(kind: Kind) -> None:
    row = REGISTRY[kind]
    params = scenario_with(kind, "folder" if "folder" in row.backends else "moto").strategies[0]
    strategy = StrategyResult(
        kind=str(kind),
        backend="moto",
        files=100,
        processed=100,
        parameters=params.model_dump(exclude={"name", "kind", "backend"}),
        api_calls={"s3.GetObject": 100, "s3.PutObject": 100},
        counters={"invocations": 100, "gb_s": 1.0, "records": 100},
        instance_s=3600.0,
    )
    deployment = deployment_for("s", strategy)
    if row.deployment is None:
        assert deployment is None
    else:
        assert deployment is not None
        assert monthly_cost(deployment, 1_000_000).total > 0
    assert isinstance(row.run_charge(strategy, load_pricing(), None, 0.5), CostBreakdown)


def test_identical_specs_are_one_class() -> None:
    assert S3LambdaStrategy is EventBridgeStrategy is AsyncLambdaStrategy
    assert REGISTRY[Kind.S3_LAMBDA].spec is REGISTRY[Kind.S3_EVENTBRIDGE_LAMBDA].spec


def test_the_hybrid_composes_an_s3_lambda_run_rather_than_being_one() -> None:
    assert not issubclass(HybridRun, S3LambdaRun)
    hybrid = scenario_with(Kind.HYBRID, "moto").strategies[0]
    assert isinstance(hybrid, HybridStrategy)
    events = hybrid.events_part()
    assert events.kind == "s3-lambda"
    assert (events.name, events.function, events.event_loss, events.workers) == (
        hybrid.name,
        hybrid.function,
        hybrid.event_loss,
        hybrid.workers,
    )


def test_calibrate_fits_a_hybrid_from_its_events_path_only() -> None:
    """The sweep's files wait for the sweep, not for a delivery: they must not enter the route."""
    rows = []
    for i in range(20):
        path, delay = ("events", 0.01) if i % 2 else ("sweep", 30.0)
        written = 100.0 + i
        rows.append(
            {
                "strategy": "hybrid",
                "repetition": 0,
                "written_at": written,
                "detected_at": written + delay,
                "started_at": written + delay,
                "finished_at": written + delay + 0.005,
                "latency_s": delay + 0.005,
                "outcome": "processed",
                "path": path,
            }
        )
    summary = summary_from_json(
        {
            "schema_version": 2,
            "scenario": {"name": "h"},
            "latency_profile": {"name": "instant"},
            "strategies": {"hybrid": {"kind": "hybrid", "backend": "moto", "files": 20, "processed": 20}},
        }
    )
    profile = fit_profile(Results(Path("h"), pd.DataFrame(rows), summary))
    fitted = profile["routes"]["s3_to_lambda"]["values_s"]
    assert max(fitted) == pytest.approx(0.01)
    assert len(profile["route_samples"]["s3_to_lambda"]["delay_s"]) == 10


def test_polling_kinds_are_those_without_a_delivery_route() -> None:
    assert {k for k in Kind if is_polling(k)} == {Kind.POLL, Kind.SCHEDULED_POLL}
    assert not is_polling("a-kind-from-a-newer-version")  # read, not refused
