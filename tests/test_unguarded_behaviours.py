"""Behaviours an outside read found no test would notice breaking (issue: one table, craft).

Each test here was checked against a hand-made mutant of the behaviour it names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.scenario import parse_scenario
from bench.simulate.runner import SimulationOptions, simulate_scenario
from bench.simulate.validate import TheoryCheck
from event_handlers.runtime.latency import Distribution
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig


def _mapping(report: bool = True) -> SqsEventSourceMapping:
    mapping = object.__new__(SqsEventSourceMapping)  # only the pure decision is under test
    mapping.config = SqsMappingConfig(report_batch_item_failures=report)
    return mapping


def _messages(*ids: str) -> list[Any]:
    return [{"MessageId": i, "ReceiptHandle": f"h-{i}", "Body": "{}"} for i in ids]


def test_sqs_mapping_fails_only_the_named_messages() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert _mapping()._failed_ids(response, _messages("a", "b", "c")) == {"b"}


@pytest.mark.parametrize("identifier", ["zzz", "", None])
def test_sqs_mapping_fails_the_whole_batch_on_an_unknown_or_empty_identifier(identifier: Any) -> None:
    # Lambda guide ("Handling errors for an SQS event source"): an identifier that is null, empty
    # or not in the batch makes Lambda treat the invocation as a complete failure.
    response = {"batchItemFailures": [{"itemIdentifier": identifier}]}
    assert _mapping()._failed_ids(response, _messages("a", "b")) == {"a", "b"}


def test_sqs_mapping_ignores_item_failures_unless_reporting_is_on() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "a"}]}
    assert _mapping(report=False)._failed_ids(response, _messages("a", "b")) == set()


def test_theory_check_fails_when_the_delay_is_not_uniform_even_with_the_right_mean() -> None:
    right_mean_wrong_shape = TheoryCheck(10.0, 20_000, 5.0, 5.0, ks_statistic=0.5, ks_p_value=1e-9)
    assert not right_mean_wrong_shape.holds
    assert TheoryCheck(10.0, 20_000, 5.0, 5.0, ks_statistic=0.004, ks_p_value=0.6).holds


def _profile(tmp_path: Path, probability: float, init_s: float) -> Path:
    routes = "".join(
        f'[routes.{r}]\ndistribution = "constant"\nvalue_s = 0.0\nsource = "test"\n\n'
        for r in ("s3_to_lambda", "s3_to_sqs", "sqs_to_lambda", "eventbridge_to_lambda", "inotify_to_handler")
    )
    path = tmp_path / f"cold-{probability}.toml"
    path.write_text(
        f'name = "cold-{probability}"\ndescription = "test"\n\n{routes}'
        f"[cold_start]\nprobability = {probability}\n"
        f'init_s = {{ distribution = "constant", value_s = {init_s}, source = "test" }}\n'
    )
    return path


@pytest.mark.parametrize(("probability", "init_s"), [(1.0, 0.4), (0.0, 0.4)])
def test_simulated_cold_starts_follow_the_profile(tmp_path: Path, probability: float, init_s: float) -> None:
    scenario = parse_scenario(
        {
            "name": "cold",
            "seed": 5,
            "latency_profile": str(_profile(tmp_path, probability, init_s)),
            "workload": {"arrivals": {"process": "poisson", "rate_per_s": 0.5, "count": 200}},
            "strategies": [{"name": "s3-lambda", "kind": "s3-lambda"}],
        },
        "cold",
    )
    options = SimulationOptions(processing=Distribution("constant", {"value_s": 0.01}), start="empty")
    s = simulate_scenario(scenario, tmp_path / "out", options).strategies["s3-lambda"]
    assert s.cold_starts == round(probability * s.invocations)
    expected_p50 = 0.01 + probability * init_s
    assert s.latency_s.p50 == pytest.approx(expected_p50, abs=0.005)
