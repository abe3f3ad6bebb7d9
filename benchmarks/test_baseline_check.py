"""The baseline check itself (fast, in the default suite): ratios read from a pytest-benchmark
JSON file, and a regression is a ratio that grew past the allowance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import timing
from baseline import (
    BASELINE,
    NO_SPREAD_ALLOWANCE,
    SLIP,
    allowance_from_spread,
    load_allowances,
    load_ratios,
    main,
    regression,
    regressions,
)
from timing import Spread, ratios, slowed, stretched


def write(path: Path, ratios: dict[str, float], allowances: dict[str, float] | None = None) -> Path:
    allowances = allowances or {}
    path.write_text(
        json.dumps(
            {
                "benchmarks": [
                    {
                        "name": n,
                        "extra_info": {"ratio": r}
                        | ({"allowance": allowances[n]} if n in allowances else {}),
                    }
                    for n, r in ratios.items()
                ]
            }
        )
    )
    return path


def test_ratios_are_read_by_benchmark_name(tmp_path: Path) -> None:
    path = write(tmp_path / "b.json", {"test_a[1]": 1.5, "test_b": 0.8})
    assert load_ratios(path) == {"test_a[1]": 1.5, "test_b": 0.8}
    assert load_ratios(tmp_path / "missing.json") == {}
    (tmp_path / "being-written.json").write_text("")
    assert load_ratios(tmp_path / "being-written.json") == {}


def test_a_ratio_past_the_allowance_is_a_regression_and_one_within_it_is_not() -> None:
    assert regression("x", 1.49, 1.0, allowance=0.5) is None
    found = regression("x", 1.51, 1.0, allowance=0.5)
    assert found is not None
    assert "+51%" in str(found)


def test_only_benchmarks_in_both_files_are_compared() -> None:
    found = regressions({"a": 3.0, "new": 9.0}, {"a": 1.0, "gone": 1.0}, allowance=0.5)
    assert [r.name for r in found] == ["a"]


def test_the_command_exits_1_on_a_regression(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", {"a": 1.0})
    assert main([str(old), str(write(tmp_path / "same.json", {"a": 1.1}))]) == 0
    assert main([str(old), str(write(tmp_path / "noisy.json", {"a": 2.9}))]) == 0  # this VM's spread
    assert main([str(old), str(write(tmp_path / "worse.json", {"a": 3.5}))]) == 1  # more than tripled


def test_the_saved_baseline_if_any_holds_only_ratios() -> None:
    ratios = load_ratios(BASELINE)
    assert all(r > 0 for r in ratios.values())


def test_the_spread_statistics_are_pyperfs() -> None:
    spread = Spread((1.0, 1.1, 0.9, 1.0))
    assert (spread.mean, spread.min, spread.max) == pytest.approx((1.0, 0.9, 1.1))
    assert spread.std == pytest.approx(0.0816, abs=1e-4)  # sample standard deviation
    assert spread.rsd == pytest.approx(0.0816, abs=1e-4)
    assert not spread.unstable
    assert Spread((1.0, 1.5, 0.7)).unstable  # std above 10% of the mean: pyperf warns
    assert Spread((1.0,)).unstable  # one round: no spread to trust
    assert ratios([2.0, 3.0], [1.0, 2.0]).values == (2.0, 1.5)  # per round, subject over reference


def test_the_allowance_follows_the_spread_and_a_tight_one_catches_a_1_5x_slip() -> None:
    assert allowance_from_spread(0.01) == 0.30  # never tighter than 30%
    assert allowance_from_spread(0.1) == pytest.approx(0.3)  # three spreads
    assert allowance_from_spread(None) == NO_SPREAD_ALLOWANCE == 2.0  # one round: the old +200%
    allowance = allowance_from_spread(0.05)
    assert regression("parser", 1.0 * SLIP, 1.0, allowance) is not None
    assert regression("parser", 1.1, 1.0, allowance) is None


def test_each_benchmark_is_judged_by_the_allowance_stored_with_the_baseline(tmp_path: Path) -> None:
    old = write(tmp_path / "old.json", {"parser": 1.0, "live": 1.0}, {"parser": 0.3})
    assert load_allowances(old) == {"parser": 0.3, "live": NO_SPREAD_ALLOWANCE}
    found = regressions({"parser": 1.5, "live": 1.5}, load_ratios(old), load_allowances(old))
    assert [r.name for r in found] == ["parser"]  # 1.5x: caught where a spread was measured
    assert main([str(old), str(write(tmp_path / "slow.json", {"parser": 1.5, "live": 2.9}))]) == 1
    assert main([str(old), str(write(tmp_path / "quiet.json", {"parser": 1.2, "live": 2.9}))]) == 0


def test_a_slowed_subject_takes_the_factor_longer() -> None:
    calls: list[int] = []

    def subject() -> int:
        calls.append(1)
        return 7

    assert slowed(subject, 1.5)() == 7
    assert calls == [1]


def test_a_stretched_subject_runs_once_then_is_busy_the_factor_less_one_times_its_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call of seconds made 1.5x slower: its run (4 s on a fake clock that moves 0.25 s a
    reading), then busy until 1.5 x 4 s have passed since it began, and no longer."""
    clock = [100.0]
    calls: list[int] = []

    def reading() -> float:
        clock[0] += 0.25
        return clock[0]

    def subject() -> str:
        calls.append(1)
        clock[0] += 4.0
        return "summary"

    monkeypatch.setattr(timing.time, "perf_counter", reading)
    assert stretched(subject, 1.5)() == "summary"
    assert calls == [1]
    began = 100.25  # the first reading
    ran = (100.25 + 4.0 + 0.25) - began  # the run, as the second reading saw it
    assert began + 1.5 * ran <= clock[0] < began + 1.5 * ran + 0.25
