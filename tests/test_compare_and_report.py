"""pve compare on synthetic result folders; pve report redraws every chart from the files alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.report.draw import draw_charts
from bench.results.compare import DifferentScenariosError, compare_results
from bench.results.files import ResultsError, read_results, summary_from_json, write_results
from bench.results.records import COLUMNS


def synthetic(
    folder: Path,
    latencies: dict[str, np.ndarray],
    *,
    name: str = "synthetic",
    interval: dict[str, float] | None = None,
) -> Path:
    rows, strategies = [], {}
    for strategy, values in latencies.items():
        for i, latency in enumerate(values):
            written = 1000.0 + i * 0.1
            rows.append(
                {
                    "strategy": strategy,
                    "repetition": 0,
                    "key": f"in/{i:04d}.csv",
                    "size_bytes": 10,
                    "arrival_s": i * 0.1,
                    "written_at": written,
                    "detected_at": written + latency / 2,
                    "started_at": written + latency / 2,
                    "finished_at": written + latency,
                    "latency_s": latency,
                    "attempts": 1,
                    "outcome": "processed",
                    "path": "poll",
                    "duplicates": 0,
                    "error": "",
                }
            )
        kind = "poll" if strategy.startswith("poll") else "s3-lambda"
        params: dict[str, Any] = (
            {"interval_s": (interval or {}).get(strategy, 1.0), "cursor": "seen-set"}
            if kind == "poll"
            else {"function": {"memory_mb": 128}}
        )
        strategies[strategy] = {
            "kind": kind,
            "backend": "moto",
            "parameters": params,
            "files": len(values),
            "processed": len(values),
            "failed": 0,
            "missed": 0,
            "duplicates": 0,
            "latency_s": {
                "p50": float(np.median(values)),
                "p95": float(np.percentile(values, 95)),
                "p99": float(np.percentile(values, 99)),
                "mean": float(values.mean()),
                "max": float(values.max()),
            },
            "processing_s": {"p50": 0.01},
            "invocations": 0 if kind == "poll" else len(values),
            "poll_cycles": 10,
            "empty_polls": 1,
            "cold_starts": 0,
            "api_calls": {"s3.GetObject": len(values), "s3.ListObjectsV2": 10},
            "api_calls_total": len(values) + 10,
            "counters": {},
            "notes": [],
            "failures": [],
        }
    summary = {
        "schema_version": 1,
        "kind": "live",
        "latency_profile": {"name": "instant"},
        "scenario": {
            "name": name,
            "backend": "moto",
            "seed": 1,
            "workload": {"count": 200},
            "strategies": [{"name": s} for s in latencies],
        },
        "strategies": strategies,
    }
    write_results(folder, pd.DataFrame(rows, columns=COLUMNS), summary_from_json(summary))
    return folder


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def test_same_distribution_is_not_significant(tmp_path: Path, rng: np.random.Generator) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": rng.uniform(0, 1, 300)})
    b = synthetic(tmp_path / "b", {"poll-1s": rng.uniform(0, 1, 300)})
    [comparison], notes = compare_results(read_results(a), read_results(b))
    assert not comparison.significant
    assert comparison.verdict == "not significant"
    assert notes == []


def test_a_real_slowdown_is_significant(tmp_path: Path, rng: np.random.Generator) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": rng.uniform(0, 1, 300)})
    b = synthetic(tmp_path / "b", {"poll-1s": rng.uniform(0, 2, 300)})
    [comparison], _ = compare_results(read_results(a), read_results(b))
    assert comparison.significant
    assert comparison.verdict == "slower"
    assert comparison.relative_change == pytest.approx(1.0, abs=0.25)


def test_a_tiny_consistent_shift_is_below_the_minimum_effect(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    values = rng.uniform(1.0, 1.1, 2000)
    a = synthetic(tmp_path / "a", {"e": values})
    b = synthetic(tmp_path / "b", {"e": values + 0.003})  # +0.3%: detectable, not worth reporting
    [comparison], _ = compare_results(read_results(a), read_results(b))
    assert comparison.p_value is not None and comparison.p_value < 0.05  # noqa: PT018
    assert comparison.verdict == "below min effect"


def test_different_scenarios_are_refused_unless_forced(tmp_path: Path, rng: np.random.Generator) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": rng.uniform(0, 1, 50)}, name="one")
    b = synthetic(tmp_path / "b", {"poll-1s": rng.uniform(0, 1, 50)}, name="two")
    with pytest.raises(DifferentScenariosError, match="name: 'one' != 'two'"):
        compare_results(read_results(a), read_results(b))
    comparisons, notes = compare_results(read_results(a), read_results(b), force=True)
    assert len(comparisons) == 1
    assert any("name" in n for n in notes)
    assert main(["compare", str(a), str(b)]) == 2
    assert main(["compare", str(a), str(b), "--force"]) == 0


def test_conditions_may_differ_with_a_note(tmp_path: Path, rng: np.random.Generator) -> None:
    a = synthetic(tmp_path / "a", {"poll-1s": rng.uniform(0, 1, 50)})
    b = synthetic(tmp_path / "b", {"poll-1s": rng.uniform(0, 1, 50)})
    summary = json.loads((b / "summary.json").read_text())
    summary["scenario"]["backend"] = "moto-server"
    (b / "summary.json").write_text(json.dumps(summary))
    _, notes = compare_results(read_results(a), read_results(b))
    assert notes == ["backend: 'moto' != 'moto-server'"]


def test_report_draws_every_chart_from_the_files(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = synthetic(
        tmp_path / "r",
        {
            "poll-0.5s": rng.uniform(0, 0.5, 100),
            "poll-2s": rng.uniform(0, 2, 100),
            "events": rng.uniform(0.005, 0.02, 100),
        },
        interval={"poll-0.5s": 0.5, "poll-2s": 2.0},
    )
    drawn = {p.name for p in draw_charts(folder)}
    assert drawn == {
        "latency_cdf.png",
        "timeline.png",
        "requests_per_file.png",
        "latency_vs_interval.png",
        "monthly_cost.png",
    }
    assert all((folder / name).stat().st_size > 10_000 for name in drawn)
    assert {p.name for p in draw_charts(folder, fmt="svg")} == {n.replace(".png", ".svg") for n in drawn}


def test_unknown_schema_version_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = synthetic(tmp_path / "r", {"e": rng.uniform(0, 1, 10)})
    summary = json.loads((folder / "summary.json").read_text())
    summary["schema_version"] = 99
    (folder / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(ResultsError, match="schema_version 99"):
        read_results(folder)
    assert main(["report", str(folder)]) == 2


def test_a_summary_from_before_requirements_is_the_same_scenario_as_one_with_the_defaults() -> None:
    from bench.results.compare import scenario_differences

    before = {"name": "q", "strategies": [{"name": "p", "kind": "poll"}]}
    now = {**before, "requirements": {}}
    blocking, notes = scenario_differences(before, now)
    assert blocking == []
    assert any("not a scenario difference" in n for n in notes)
    pinned = {**before, "requirements": {"inputs": "delete"}}
    assert scenario_differences(before, pinned)[0] != []  # a requirement set on one side still counts
