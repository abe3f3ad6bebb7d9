"""One registry of strategy kinds: a row per kind, composed from the facet each stage owns.

Each stage keeps its own table keyed by :class:`~bench.scenario.kinds.Kind` (so the layering
holds: the simulator never imports the live harness). This module, above every stage, puts the
tables side by side; building the registry fails, naming the table, if a facet lacks a kind.

>>> from bench.kinds import REGISTRY, Kind
>>> row = REGISTRY[Kind.S3_SQS_LAMBDA]
>>> row.spec.__name__, row.routes, row.live_run.__name__
('SqsLambdaStrategy', ('s3_to_sqs', 'sqs_to_lambda'), 'SqsLambdaRun')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.aws.estimate import COUNTS, Counter
from bench.aws.routes import AWS_ROUTES, AwsRoute
from bench.cost.kinds import DEPLOYMENTS, DeploymentRecipe
from bench.cost.model import RUN_CHARGES, RunCharge
from bench.live.route_floor import ROUTES as ROUTE_FLOORS
from bench.live.stability import SERVERS, ServerCount
from bench.live.strategies import RUNS
from bench.live.strategies.base import StrategyRun
from bench.scenario.kinds import FAMILIES, Family, Kind
from bench.scenario.spec import KIND_SPECS, Backend
from bench.simulate.calibrate import CALIBRATION, Calibration
from bench.simulate.models import MODELS, ModelFactory

__all__ = ["REGISTRY", "Kind", "KindRow", "registry"]


@dataclass(frozen=True)
class KindRow:
    """Everything the suite knows about one kind of strategy, one facet per stage."""

    kind: Kind
    spec: type  # the scenario spec class (pydantic) a strategy of this kind is validated with
    backends: frozenset[Backend]  # where it can run
    routes: tuple[str, ...]  # the latency-profile routes of its delivery (none: it polls)
    live_run: type[StrategyRun]  # how it runs live
    sim_model: ModelFactory  # how it is simulated
    calibration: Calibration  # what pve calibrate fits from its live files
    deployment: DeploymentRecipe | None  # the AWS deployment it stands for (None: no AWS bill)
    run_charge: RunCharge  # what its run adds to the bill of its counts
    family: Family  # how it learns of a file (charts, reports, capacity and validation group by it)
    servers: ServerCount  # how many files its live run could work on at once here (stability)
    route_floors: tuple[Any, ...]  # the ways its route's own floor is played (pve capacity)
    aws_route: AwsRoute  # how it is planned, hosted and run on AWS
    aws_counts: Counter  # what an AWS run's estimate counts for it


FACETS: dict[str, Mapping[Kind, Any]] = {
    "bench.scenario.spec.KIND_SPECS": KIND_SPECS,
    "bench.live.strategies.RUNS": RUNS,
    "bench.simulate.models.MODELS": MODELS,
    "bench.simulate.calibrate.CALIBRATION": CALIBRATION,
    "bench.cost.kinds.DEPLOYMENTS": DEPLOYMENTS,
    "bench.cost.model.RUN_CHARGES": RUN_CHARGES,
    "bench.scenario.kinds.FAMILIES": FAMILIES,
    "bench.live.stability.SERVERS": SERVERS,
    "bench.live.route_floor.ROUTES": ROUTE_FLOORS,
    "bench.aws.routes.AWS_ROUTES": AWS_ROUTES,
    "bench.aws.estimate.COUNTS": COUNTS,
}


def registry() -> dict[Kind, KindRow]:
    """Compose the facet tables into one row per kind; a table that lacks a kind is named."""
    for table, facet in FACETS.items():
        missing = [str(k) for k in Kind if k not in facet]
        if missing:
            raise LookupError(f"{table} has no row for kind(s) {', '.join(missing)}")
    return {
        kind: KindRow(
            kind=kind,
            spec=KIND_SPECS[kind].spec,
            backends=KIND_SPECS[kind].backends,
            routes=KIND_SPECS[kind].routes,
            live_run=RUNS[kind],
            sim_model=MODELS[kind],
            calibration=CALIBRATION[kind],
            deployment=DEPLOYMENTS[kind],
            run_charge=RUN_CHARGES[kind],
            family=FAMILIES[kind],
            servers=SERVERS[kind],
            route_floors=ROUTE_FLOORS[kind],
            aws_route=AWS_ROUTES[kind],
            aws_counts=COUNTS[kind],
        )
        for kind in Kind
    }


REGISTRY: dict[Kind, KindRow] = registry()
