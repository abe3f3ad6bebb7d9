"""The baseline check itself (fast, in the default suite): ratios read from a pytest-benchmark
JSON file, and a regression is a ratio that grew past the allowance."""

from __future__ import annotations

import json
from pathlib import Path

from baseline import BASELINE, load_ratios, main, regression, regressions


def write(path: Path, ratios: dict[str, float]) -> Path:
    path.write_text(
        json.dumps({"benchmarks": [{"name": n, "extra_info": {"ratio": r}} for n, r in ratios.items()]})
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
