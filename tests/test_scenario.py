"""Scenario files: every bundled one loads; bad ones fail naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.scenario.spec import ScenarioError, bundled_scenarios, load_scenario

BASE = """
name = "t"
[workload.arrivals]
process = "poisson"
rate_per_s = 10
count = 10
[[strategies]]
name = "p"
kind = "poll"
interval_s = 1
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s.toml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_bundled_scenario_is_valid(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description


def test_minimal_file_gets_sensible_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert (scenario.backend, scenario.latency_profile, scenario.task) == ("moto", "instant", "csv-summary")
    assert scenario.workload.prefix == "incoming/"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            BASE.replace("interval_s = 1", "interval_s = 1\nintervall = 2"),
            "strategies.0.poll.intervall",
            "unknown key",
        ),
        (
            BASE.replace("interval_s = 1", 'interval_s = "fast"'),
            "strategies.0.poll.interval_s",
            "valid number",
        ),
        (
            BASE.replace("interval_s = 1", "interval_s = -1"),
            "strategies.0.poll.interval_s",
            "greater than or equal to 0.01",
        ),
        (BASE.replace('kind = "poll"', 'kind = "telepathy"'), "strategies.0", "telepathy"),
        (BASE.replace("count = 10", ""), "workload.arrivals", "give count or duration_s"),
        (BASE.replace('name = "t"', 'name = "t"\nbackend = "dropbox"'), "backend", "'moto'"),
        (
            BASE.replace('name = "t"', 'name = "t"\nrepetitions = 0'),
            "repetitions",
            "greater than or equal to 1",
        ),
        (BASE + '[[strategies]]\nname = "p"\nkind = "poll"\ninterval_s = 2\n', "(top level)", "unique"),
        (
            BASE.replace('name = "t"', 'name = "t"\nbackend = "folder"')
            + '[[strategies]]\nname = "e"\nkind = "s3-lambda"\n',
            "(top level)",
            "needs an S3 backend",
        ),
        (
            BASE.replace('name = "t"', 'name = "t"\ntask = "thumbnail"'),
            "(top level)",
            "content.kind = 'image'",
        ),
    ],
)
def test_bad_scenarios_name_the_file_and_the_field(
    tmp_path: Path, change: str, field: str, message: str
) -> None:
    path = write(tmp_path, change)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(path)
    assert f"  - {field}:" in text
    assert message in text


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "name = ")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(path)


def test_unknown_bundled_name_lists_the_choices() -> None:
    with pytest.raises(ScenarioError, match="quickstart"):
        load_scenario("quikstart")


def test_overrides_are_validated(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert scenario.with_overrides(backend="moto-server", seed=None).backend == "moto-server"
    with pytest.raises(ValueError, match="backend"):
        scenario.with_overrides(backend="ftp")
