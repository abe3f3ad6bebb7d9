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


def _simulate(tmp_path, name: str, files_per_day: float, days: float = 1.0):  # type: ignore[no-untyped-def]
    from bench.simulate.runner import SimulationOptions, simulate_scenario

    return simulate_scenario(
        bench.load_scenario(name).with_overrides(latency_profile="aws", seed=None),
        tmp_path / name,
        SimulationOptions(days=days, files_per_day=files_per_day, max_records=2_000),
    )


def test_simulate_steady_at_100k_a_day_agrees_with_pve_decide(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`pve simulate steady --profile aws --days 1 --files-per-day 100000` vs `pve decide` for the
    same workload: S3 -> Lambda's p50 within 10%, every bill within 2%, the same feasibility, in
    the same configuration; and decide's own search is named beside it."""
    import pytest

    from bench.decide.api import decide_workload

    run = _simulate(tmp_path, "steady", 100_000)
    processing = run.simulation.processing
    assert processing["file_size_mb"] == pytest.approx(3.4e-3, rel=0.2)  # the scenario's csv, not 0.1 MB
    # decide, run independently on the simulation's workload (its searched S3 -> Lambda is 128 MB,
    # the simulated one)
    transfer = 50.0
    decision = decide_workload(
        100_000,
        bench.Requirements(),
        cpu_s=processing["cpu_s"],
        wait_s=processing["wait_s"] - processing["file_size_mb"] / transfer,
        file_size_mb=processing["file_size_mb"],
        retention_days=run.simulation.bucket.listed_days,
    )
    s3_lambda = next(o for o in decision.options if o.kind == "s3-lambda")
    simulated = run.strategies["s3-lambda"]
    assert dict(s3_lambda.configuration) == {"memory_mb": 128}
    assert simulated.latency_s.p50 == pytest.approx(s3_lambda.latency.p50, rel=0.10)
    assert simulated.cost.monthly_usd["total"] == pytest.approx(s3_lambda.monthly_point, rel=0.02)
    view = run.simulation.decide
    assert set(view) == {"poll-2s", "s3-lambda", "s3-sqs-lambda"}
    for name, strategy in run.strategies.items():
        beside = view[name]
        assert beside["as_simulated"]["feasible"] == strategy.feasible, name
        if strategy.feasible:
            assert beside["as_simulated"]["monthly_usd"] == pytest.approx(
                strategy.cost.monthly_usd["total"], rel=0.02
            ), name
            assert beside["as_simulated"]["p50_s"] == pytest.approx(strategy.latency_s.p50, rel=0.10), name
        assert beside["same_configuration"] == (
            beside["as_simulated"]["configuration"] == beside["searched"]["configuration"]
        )
    assert view["s3-lambda"]["same_configuration"]
    assert view["s3-sqs-lambda"]["as_simulated"]["configuration"]["batch_size"] == 10  # the scenario's
    assert not view["poll-2s"]["as_simulated"]["feasible"]
    assert view["poll-2s"]["searched"]["feasible"]
    from bench.cli.simulate import decide_lines

    printed = "\n".join(decide_lines(run))
    assert "s3-sqs-lambda: as simulated (128 MB, batch 10/0s)" in printed
    assert "pve decide would pick 128 MB, batch 100/5s" in printed


def test_simulated_hybrid_and_its_sweep_are_priced_by_decide_as_simulated(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    run = _simulate(tmp_path, "monthly", 100_000, days=0.25)
    hybrids = [n for n, s in run.strategies.items() if s.kind == "hybrid"]
    assert hybrids
    for name in hybrids:
        beside = run.simulation.decide[name]
        assert "sweep" in beside["as_simulated"]["configuration"]
        assert beside["as_simulated"]["feasible"] == run.strategies[name].feasible
        if run.strategies[name].feasible:
            assert beside["as_simulated"]["monthly_usd"] == pytest.approx(
                run.strategies[name].cost.monthly_usd["total"], rel=0.02
            )


def test_the_pollers_labels_say_what_they_do_with_inputs_under_the_requirements() -> None:
    from rich.console import Console

    from bench.cost.assumptions import load_assumptions
    from bench.cost.model import load_pricing
    from bench.decide.api import decide_workload
    from bench.decide.rank import document
    from bench.decide.table import decision_table
    from event_handlers.runtime.latency import load_profile

    for inputs, inbox, seen in (
        ("keep", "EC2 inbox poller (archives when done)", "EC2 poller, seen-set (keeps files)"),
        ("delete", "EC2 inbox poller (deletes when done)", "EC2 poller, seen-set (deletes when done)"),
    ):
        decision = decide_workload(10_000, bench.Requirements.build(inputs=inputs), samples=0)
        console = Console(width=400, record=True)
        console.print(decision_table(decision, "aws", "p", "a"))
        text = console.export_text()
        assert inbox in text, inputs
        assert seen in text, inputs
        doc = document([decision], load_assumptions(), load_pricing(), load_profile("aws"), "pve decide")
        labels = {o["name"]: o["label"] for o in doc["options"]}  # the JSON keys stay
        assert labels["EC2 inbox poller (deletes when done)"] == inbox
        assert labels["EC2 poller, seen-set (keeps files)"] == seen


def test_a_runs_monthly_column_is_built_to_the_requirements_like_pve_decide(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from bench.cost.sweep import deployment_for
    from bench.decide.api import decide_workload
    from bench.report.table import monthly_bill, summary_caption

    run = _simulate(tmp_path, "steady", 100_000, days=0.05)
    strategy = run.strategies["s3-lambda"]
    d = deployment_for("s3-lambda", strategy)
    assert d is not None
    bare = monthly_cost(d, files_per_month(100_000)).total  # no ledger, no storage, no logs
    decision = decide_workload(
        100_000, bench.Requirements(), cpu_s=d.cpu_s, wait_s=d.wait_s, memory_mb=128, samples=0
    )
    decided = next(o for o in decision.options if o.kind == "s3-lambda").monthly_point
    assert monthly_bill("s3-lambda", strategy) == pytest.approx(decided, rel=0.02)
    assert monthly_bill("s3-lambda", strategy) > bare + 3.0  # the ledger alone is $3.80 at 100k/day
    assert "idempotency ledger on every option" in summary_caption(run)
