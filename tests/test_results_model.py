"""The results model: schema-1 files still load, new ones round-trip, dollars come from one function."""

from __future__ import annotations

import io
import json
import shutil
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from bench.cost.model import load_pricing
from bench.cost.run import run_cost, run_costs
from bench.report.table import monthly_bill, summary_table
from bench.results.build import build_run, strategy_result
from bench.results.files import (
    _JSON_MAP_VERSION,
    ResultsError,
    read_results,
    read_summary,
    summary_from_json,
    write_results,
)
from bench.results.model import SCHEMA_VERSION, Environment, ProfileInfo, Run, RunKind, StrategyResult
from bench.results.records import COLUMNS
from bench.scenario.spec import parse_scenario

ROOT = Path(__file__).resolve().parent.parent


def test_every_committed_reference_summary_is_at_the_current_schema() -> None:
    """``pve reproduce`` writes the current schema; the v1 reader is kept tested by the fixture below."""
    summaries = sorted((ROOT / "results" / "reference").glob("*/summary.json"))
    assert summaries
    for path in summaries:
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["schema_version"] == SCHEMA_VERSION, path
        assert read_summary(path).schema_version == SCHEMA_VERSION


def test_the_schema_1_fixture_loads_with_its_numbers() -> None:
    """A copy of a schema-1 reference summary, kept so the v1 reader stays tested after a regeneration."""
    path = ROOT / "tests" / "fixtures" / "summary_v1_quickstart.json"
    check_v1(json.loads(path.read_text(encoding="utf-8")), read_summary(path))


def check_v1(raw: dict, run: Run) -> None:
    assert raw["schema_version"] == 1
    assert run.schema_version == SCHEMA_VERSION
    assert run.kind is RunKind.LIVE
    assert run.scenario_name == raw["scenario"]["name"]
    assert run.pricing == raw["pricing"]
    assert run.pricing_sha256 is None  # schema 1 did not record the table's content
    assert list(run.strategies) == list(raw["strategies"])
    for name, old in raw["strategies"].items():
        new = run.strategies[name]
        assert (new.files, new.processed, new.failed, new.missed) == (
            old["files"],
            old["processed"],
            old["failed"],
            old["missed"],
        )
        assert new.latency_s.p95 == old["latency_s"]["p95"]
        assert new.api_calls == old["api_calls"]
        assert new.counters == old["counters"]
        assert new.cost is None  # stored v1 dollars are dropped, not trusted
        assert new.instance_s == pytest.approx(sum(r["wall_s"] for r in old["repetitions"]))
        if raw["pricing"] == load_pricing().label:  # same table: repricing gives v1's dollars back
            assert run_cost(new).run_usd == pytest.approx(old["cost"]["run_usd"])


def test_the_reader_map_has_one_reader_per_version_up_to_the_current() -> None:
    assert sorted(_JSON_MAP_VERSION) == list(range(1, SCHEMA_VERSION + 1))


def test_an_unknown_version_or_a_broken_summary_is_refused_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="schema_version 0; this version reads 1, 2"):
        summary_from_json({"schema_version": 0}, "x.json")
    with pytest.raises(ResultsError, match=r"x.json: not a valid schema 2 summary .*first at strategies"):
        summary_from_json(
            {"schema_version": 2, "scenario": {"name": "a"}, "latency_profile": {"name": "p"}}, "x.json"
        )
    (tmp_path / "summary.json").write_text("{", encoding="utf-8")
    with pytest.raises(ResultsError, match=r"summary\.json is not valid JSON"):
        read_results(tmp_path)


def small_run(*, extra: dict | None = None) -> Run:
    scenario = parse_scenario(
        {
            "name": "tiny",
            "workload": {"arrivals": {"process": "constant", "rate_per_s": 1.0, "count": 10}},
            "strategies": [
                {"name": "poll-1s", "kind": "poll", "interval_s": 1.0, "cursor": "inbox"},
                {"name": "events", "kind": "s3-sqs-lambda"},
            ],
        },
        "test",
    )
    latency = {"p50": 0.5, "p95": 0.9, "p99": 1.0, "mean": 0.5, "max": 1.0}
    strategies = {
        "poll-1s": strategy_result(
            scenario.strategies[0],
            "moto",
            files=10,
            processed=10,
            latency_s=latency,
            detection_s=latency,
            processing_s={"p50": 0.01, "mean": 0.01},
            paths={"poll": 10},
            counters={"poll_cycles": 12, "empty_polls": 2, "list_requests": 12},
            api_calls={"s3.ListObjectsV2": 12, "s3.GetObject": 10, "s3.PutObject": 10},
            instance_s=12.5,
        ),
        "events": strategy_result(
            scenario.strategies[1],
            "moto",
            files=10,
            processed=10,
            latency_s=latency,
            detection_s=latency,
            processing_s=latency,
            paths={"events": 10},
            counters={"invocations": 8, "cold_starts": 1, "gb_s": 0.2, "records": 11},
            api_calls={"sqs.ReceiveMessage": 9, "sqs.DeleteMessageBatch": 8, "s3.GetObject": 10},
        ),
    }
    if extra:
        strategies = {n: s.model_copy(update=extra) for n, s in strategies.items()}
    run = build_run(
        RunKind.LIVE,
        scenario,
        strategies,
        profile=ProfileInfo(name="instant"),
        environment=Environment(python="3.11"),
    )
    from bench.cost.run import priced

    return priced(run, load_pricing())


TINY = {"name": "tiny", "workload": {"arrivals": {"process": "constant", "rate_per_s": 1.0, "count": 3}}}


def test_the_builders_take_every_field_of_the_model_they_do_not_derive() -> None:
    """Results are built by validating the model, not by restating it: a field the model gains
    (``stable``, ``latency_note``, ``complete``, ...) is buildable without touching the builder."""
    scenario = parse_scenario(
        {**TINY, "strategies": [{"name": "poll-1s", "kind": "poll", "interval_s": 1.0}]}, "test"
    )
    result = strategy_result(
        scenario.strategies[0],
        "moto",
        files=3,
        processed=3,
        stable=False,
        utilisation=1.5,
        latency_note="grows without bound",
        counters={"poll_cycles": 4},
        api_calls={"s3.ListObjectsV2": 4, "s3.GetObject": 3},
    )
    assert (result.stable, result.utilisation, result.latency_note) == (False, 1.5, "grows without bound")
    assert (result.poll_cycles, result.api_calls_total, result.failed) == (4, 7, 0)
    run = build_run(
        RunKind.LIVE,
        scenario,
        {"poll-1s": result},
        profile=ProfileInfo(name="instant"),
        environment=Environment(),
        complete=False,
        incomplete_reason="stopped by SIGTERM",
    )
    assert (run.complete, run.incomplete_reason) == (False, "stopped by SIGTERM")


def test_the_builders_refuse_a_field_the_model_lacks_or_they_derive() -> None:
    """The model allows extra fields, so a misspelt keyword would be stored silently; the builder says."""
    scenario = parse_scenario(
        {**TINY, "strategies": [{"name": "p", "kind": "poll", "interval_s": 1.0}]}, "test"
    )
    spec = scenario.strategies[0]
    with pytest.raises(TypeError, match="'proccessed'"):
        strategy_result(spec, "moto", files=1, processed=1, proccessed=1)
    with pytest.raises(TypeError, match="'api_calls_total'"):
        strategy_result(spec, "moto", files=1, processed=1, api_calls_total=9)
    with pytest.raises(TypeError, match="'finished_at'"):
        build_run(
            RunKind.LIVE,
            scenario,
            {},
            profile=ProfileInfo(name="i"),
            environment=Environment(),
            finished_at="x",
        )


def test_a_fresh_summary_round_trips_through_the_file(tmp_path: Path) -> None:
    run = small_run()
    write_results(tmp_path, pd.DataFrame(columns=COLUMNS), run)
    raw = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert raw["schema_version"] == 2
    assert raw["pricing_sha256"] == load_pricing().sha256
    assert raw["strategies"]["poll-1s"]["api_calls_total"] == 32  # the v1 field, still written
    assert raw["strategies"]["events"]["invocations"] == 8  # summed counters lifted to the top
    again = read_summary(tmp_path / "summary.json")  # no records: a summary-only check
    assert again == run


def test_extra_fields_survive_a_round_trip(tmp_path: Path) -> None:
    """Another stage may add a field before the model types it; it is neither dropped nor refused."""
    run = small_run(extra={"from_another_stage": True})
    write_results(tmp_path, pd.DataFrame(columns=COLUMNS), run.model_copy(update={"harness": {"ok": 1}}))
    again = read_summary(tmp_path / "summary.json")
    assert again.model_extra == {"harness": {"ok": 1}}
    assert again.strategies["events"].model_extra == {"from_another_stage": True}


def test_stored_dollars_are_the_one_functions_output() -> None:
    run = small_run()
    assert run.pricing_sha256 == load_pricing().sha256
    for name, cost in run_costs(run).items():
        assert run.strategies[name].cost == cost


def test_the_table_prices_with_the_table_it_is_given(tmp_path: Path) -> None:
    """A pricing edit moves run_cost and the table's monthly bill; the stored block keeps its own table."""
    bundled = Path(str(resources.files("bench.cost") / "pricing" / "aws-us-east-1.toml"))
    edited = tmp_path / "edited.toml"
    shutil.copy(bundled, edited)
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("usd = 0.005\n", "usd = 0.05\n", 1), encoding="utf-8")  # LIST x10
    pricing = load_pricing(edited)
    assert pricing.sha256 != load_pricing().sha256
    run = small_run()
    stored, dearer = run.strategies["poll-1s"].cost, run_cost(run.strategies["poll-1s"], pricing)
    assert stored is not None
    assert stored.pricing_sha256 == load_pricing().sha256
    assert dearer.pricing_sha256 == pricing.sha256
    assert dearer.run_usd["s3.list"] == pytest.approx(10 * stored.run_usd["s3.list"])
    assert dearer.per_million_files is not None
    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    console.print(summary_table(run, pricing))
    # the table's bill column is a month at a stated rate through the cost model, priced with ``pricing``
    monthly, bundled_monthly = (
        monthly_bill("poll-1s", run.strategies["poll-1s"], pricing),
        monthly_bill("poll-1s", run.strategies["poll-1s"]),
    )
    assert monthly is not None
    assert bundled_monthly is not None
    assert monthly > bundled_monthly
    assert f"{monthly:,.2f}" in console.export_text()


def test_dict_reads_are_gone_attributes_replace_them() -> None:
    run = small_run()
    with pytest.raises(TypeError, match="not subscriptable"):
        run["strategies"]  # type: ignore[index]
    strategy = run.strategies["poll-1s"]
    assert not hasattr(strategy, "get")
    assert strategy.latency_s.p50 == 0.5
    assert "cost" in strategy
    assert isinstance(strategy, StrategyResult)


def test_pricing_a_dict_is_a_type_error_naming_what_to_pass() -> None:
    from bench.cost.model import price_run

    strategy = small_run().strategies["events"]
    with pytest.raises(TypeError, match=r"StrategyResult, not a dict.*model_validate"):
        price_run(strategy.model_dump())  # type: ignore[arg-type]
    assert price_run(StrategyResult.model_validate(strategy.model_dump())) == price_run(strategy)
