"""pve list, the idle-poll measurement, and (slow) every bundled scenario run end to end on moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import main
from bench.live.idle import measure_idle_polls
from bench.live.runner import run_scenario
from bench.scenario.spec import bundled_scenarios, load_scenario

EXPECTED = {
    "quickstart",
    "steady",
    "bursty",
    "sparse",
    "diurnal",
    "interval-sweep",
    "images",
    "large-files",
    "event-routes",
    "pollers",
    "fanout",
}


def test_pve_list_shows_every_bundled_scenario_on_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert set(bundled_scenarios()) >= EXPECTED
    assert {line.split()[0] for line in lines} == set(bundled_scenarios())


def test_reproduce_runs_every_live_scenario_and_leaves_monthly_to_the_simulator() -> None:
    from bench.reproduce import live_scenarios

    assert set(live_scenarios()) == EXPECTED
    assert set(bundled_scenarios()) - EXPECTED == {"monthly", "capacity"}


def test_idle_poll_requests_per_cursor_on_a_bucket_just_over_one_page() -> None:
    """1,001 objects: the smallest bucket where listing everything takes two pages (tests/test_pollers.py
    has the large-bucket listing; one of those is enough)."""
    rows = {row.cursor: row for row in measure_idle_polls(1001)}
    assert rows["seen-set"].requests == rows["watermark"].requests == 2  # ceil(1001 / 1000) pages
    assert rows["start-after"].requests == rows["inbox"].requests == 1
    assert rows["seen-set"].usd_per_poll == pytest.approx(2 * 0.005 / 1000)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bundled_scenario_runs_on_moto_and_loses_nothing(name: str, tmp_path: Path) -> None:
    summary = run_scenario(load_scenario(name), tmp_path)
    for strategy, s in summary.strategies.items():
        assert s.missed == 0, strategy
        assert s.duplicates == 0, strategy
        assert s.processed + s.failed == s.files > 0, strategy
    assert (tmp_path / "records.csv").exists()
