"""Issue 21's remaining pieces: one public way to every option built to the requirements, the
options' display labels under the requirements in force, a live run's monthly column built to
the requirements, and a simulation's monthly projection that agrees with pve decide."""

from __future__ import annotations

import bench
from bench.cost.model import files_per_month, monthly_cost


def _components(d: bench.Deployment) -> set[str]:
    return set(monthly_cost(d, files_per_month(100_000)).components)


def test_every_option_built_to_the_requirements_through_one_public_helper() -> None:
    kept = bench.required_deployments(bench.Requirements(), file_size_mb=1.0)
    assert len(kept) == len(bench.standard_deployments())
    for d in kept:
        assert {"dynamodb.ledger_writes", "s3.storage", "logs.ingestion"} <= _components(d), d.label
    inbox = next(d for d in kept if d.cursor == "inbox")
    assert "s3.archive_copy" in _components(inbox)
    bare = bench.required_deployments(bench.Requirements.build(exactly_once=False, inputs="delete"))
    for d in bare:
        assert not {"dynamodb.ledger_writes", "s3.archive_copy"} & _components(d), d.label
