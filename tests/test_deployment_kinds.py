"""The deployment kinds' table (``bench.cost.deployments.ROWS``) is the one place that knows a
deployment kind: every kind has a row with every facet, every stage looks the kind up there, and a
kind with no row raises (naming it) in every stage instead of falling through to another kind."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest

from bench.cost.deployment import GROUPS, KNOB_GROUP, Deployment, DeploymentKind
from bench.cost.deployments import ROWS, DeploymentRow, row, standard_deployments
from bench.cost.feasibility import check
from bench.cost.model import Bill, files_per_month, load_pricing, monthly_cost
from bench.decide.beside import option_index
from bench.decide.latency import Tail, sample_latencies, sample_latency
from bench.decide.rank import OPTION_NAMES
from bench.decide.search import INTERVALS_S, MEMORIES_MB, Pins, candidates, configuration
from event_handlers.runtime.latency import load_profile, route_delays

BOGUS = "s3-carrier-pigeon"
NO_EXTRA_TAIL = Tail(0.0, 60.0, True)


def _bogus() -> Deployment:
    """A deployment whose kind has no row (as a new enum member would, before its row is written)."""
    return replace(Deployment.of("s3-lambda"), kind=BOGUS)  # type: ignore[arg-type]


STAGES: dict[str, Callable[[Deployment], Any]] = {
    "cost": lambda d: monthly_cost(d, 1_000_000),
    "feasibility": lambda d: check(d, 10_000),
    "search": lambda d: candidates(d, Pins()),
    "configuration": lambda d: configuration(d, 10_000, load_pricing()),
    "latency": lambda d: sample_latency(d, 10_000, load_profile("aws"), NO_EXTRA_TAIL, n=100),
    "latencies": lambda d: sample_latencies([d, d], 10_000, load_profile("aws"), NO_EXTRA_TAIL, n=100),
    "beside": option_index,
    "label": lambda d: d.label,
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_kind_without_a_row_raises_in_every_stage_naming_it(stage: str) -> None:
    with pytest.raises(ValueError, match=BOGUS):
        STAGES[stage](_bogus())


def test_every_deployment_kind_has_a_row_of_its_own() -> None:
    missing = [str(k) for k in DeploymentKind if k not in ROWS]
    assert not missing, f"deployment kinds with no row in bench.cost.deployments.ROWS: {missing}"
    wrong = [f"{k}: row says {r.kind}" for k, r in ROWS.items() if r.kind is not k]
    assert not wrong, wrong


def _facets_missing(r: DeploymentRow) -> list[str]:
    """The facets a row leaves unset or empty (each a name a new kind's author can look up)."""
    out = [f.name for f in fields(r) if getattr(r, f.name) is None and f.name != "route"]
    if not r.options:
        out.append("options (what pve cost and pve decide compare)")
    if any(not callable(c) for c in r.checks):
        out.append("checks (callables)")
    for name in ("bill", "space", "configuration"):
        if not callable(getattr(r, name)):
            out.append(name)
    return out


@pytest.mark.parametrize("kind", list(DeploymentKind))
def test_every_kind_goes_through_every_facet(kind: DeploymentKind) -> None:
    r = row(kind)
    missing = _facets_missing(r)
    assert not missing, f"{kind}: facets missing: {missing}"
    p = load_pricing()
    d = Deployment.of(kind, interval_s=60.0)
    n = files_per_month(100_000, p)
    bill = r.bill(d, n, p, False)
    assert isinstance(bill, Bill), f"{kind}: bill"
    assert bill.cost.total > 0, f"{kind}: bill"
    assert (bill.invocations > 0) == r.on_lambda, f"{kind}: on_lambda says {r.on_lambda}"
    assert monthly_cost(d, n, pricing=p).total >= bill.cost.total
    assert check(d, 1_000, pricing=p).feasible, f"{kind}: cannot run at 1,000 files a day"
    space = r.space(d, INTERVALS_S, MEMORIES_MB)
    assert {c.kind for c in space} == {kind}, f"{kind}: search space"
    assert len(set(space)) == len(space), f"{kind}: the search space repeats a configuration"
    config = r.configuration(d, 100_000, p)
    assert {"interval_s", "memory_mb"} & set(config), f"{kind}: configuration {config}"
    profile = load_profile("aws")
    if r.route is not None:  # the latency profiles know the route (its legs, convolved)
        assert route_delays(profile, r.route.profile_route, 10, 0).shape == (10,), f"{kind}: route"
    draws = sample_latency(d, 1_000, profile, NO_EXTRA_TAIL, n=500, seed=1)
    assert draws.shape == (500,)
    assert np.isfinite(draws).all()
    assert draws.min() >= 0
    names = [o.decide_name for o in r.options]
    assert set(names) <= set(OPTION_NAMES), f"{kind}: options not offered by pve decide"


def test_a_poller_is_exactly_a_row_without_an_event_route() -> None:
    # latency models a poller (phase + listing + its share of the cycle) only for rows without a route
    assert {k for k, r in ROWS.items() if r.polls} == {
        DeploymentKind.POLL_EC2,
        DeploymentKind.POLL_SCHEDULED_LAMBDA,
    }
    d = Deployment.of("s3-lambda")  # not a poller's uniform phase in a 60 s interval (median ~30 s)
    assert np.median(sample_latency(d, 1_000, load_profile("aws"), NO_EXTRA_TAIL, n=2_000)) < 10.0


def test_the_options_compared_come_from_the_rows_in_order() -> None:
    built = standard_deployments()
    assert [d.kind for d in built] == [r.kind for r in ROWS.values() for _ in r.options]
    assert len(OPTION_NAMES) == len(built) == len(set(OPTION_NAMES))


# -- the knobs: one way to set one by its flat name ------------------------------------------------
def test_a_knob_is_set_by_its_flat_name_in_its_group_and_read_back() -> None:
    d = Deployment.of("hybrid", memory_mb=512, sweep_cursor="inventory", cpu_s=0.2, azs=2)
    assert (d.function.memory_mb, d.sweep.sweep_cursor, d.work.cpu_s, d.needs.azs) == (
        512,
        "inventory",
        0.2,
        2,
    )
    assert (d.memory_mb, d.sweep_cursor, d.cpu_s, d.azs) == (512, "inventory", 0.2, 2)
    e = d.with_(memory_mb=1024, name="x")
    assert (e.memory_mb, e.name, e.sweep_cursor, d.memory_mb) == (1024, "x", "inventory", 512)
    assert e.with_() is e


def test_an_unknown_knob_or_kind_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="memory_gb"):
        Deployment.of("s3-lambda", memory_gb=1)
    with pytest.raises(ValueError, match="memory_gb"):
        Deployment.of("s3-lambda").with_(memory_gb=1)
    with pytest.raises(ValueError, match=BOGUS):
        Deployment.of(BOGUS)
    with pytest.raises(AttributeError, match="memory_gb"):
        _ = Deployment.of("s3-lambda").memory_gb  # type: ignore[attr-defined]


def test_no_dataclass_of_the_deployment_has_more_than_15_fields() -> None:
    from bench.decide.rank import OptionResult, Workload

    for cls in (Deployment, *GROUPS.values(), OptionResult, Workload, DeploymentRow):
        assert len(fields(cls)) <= 15, f"{cls.__name__} has {len(fields(cls))} fields"
    assert len(KNOB_GROUP) == 40  # every knob of 0.2.0's flat Deployment but the removed two


def test_the_json_record_keeps_every_knob_flat() -> None:
    record = Deployment.of("poll-ec2", interval_s=5.0).knobs()
    assert (record["kind"], record["interval_s"], record["memory_mb"]) == ("poll-ec2", 5.0, 128)
    assert set(record) == {"kind", "name", *KNOB_GROUP}
    assert math.isclose(record["cpu_s"], 0.05)
