"""Scenario validation for the event routes: refused before any work, exit 2 naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenario import ScenarioError, load_scenario

HEAD = """
name = "x"
[workload]
prefix = "{prefix}"
[workload.arrivals]
process = "poisson"
rate_per_s = 1
count = 2
[[strategies]]
name = "route"
kind = "{kind}"
"""


def _write(tmp_path: Path, prefix: str = "incoming/", kind: str = "s3-lambda", extra: str = "") -> Path:
    path = tmp_path / "s.toml"
    path.write_text(HEAD.format(prefix=prefix, kind=kind) + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["s3-sqs-lambda"])
def test_event_loss_on_a_route_that_ignores_it_is_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ScenarioError, match=r"strategies\[0\]\.event_loss: 'route' \(s3-sqs-lambda\)"):
        load_scenario(str(_write(tmp_path, kind=kind, extra="event_loss = 0.3\n")))


def test_event_loss_is_accepted_where_it_is_honoured(tmp_path: Path) -> None:
    scenario = load_scenario(str(_write(tmp_path, kind="s3-lambda", extra="event_loss = 0.3\n")))
    assert scenario.strategies[0].event_loss == 0.3  # type: ignore[union-attr]


def test_outputs_inside_the_watched_prefix_are_refused_for_every_task(tmp_path: Path) -> None:
    """csv-summary writes summaries/...: watching the whole bucket would loop."""
    with pytest.raises(ScenarioError, match=r"workload\.prefix '': csv-summary outputs"):
        load_scenario(str(_write(tmp_path, prefix="")))
    with pytest.raises(ScenarioError, match=r"workload\.prefix 'summaries/': csv-summary"):
        load_scenario(str(_write(tmp_path, prefix="summaries/")))


def test_the_cli_exits_2_naming_the_field(tmp_path: Path) -> None:
    path = _write(tmp_path, prefix="")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "workload.prefix" in done.stderr
    assert not (tmp_path / "out").exists()
