"""Seeded workloads: the same scenario writes the same files at the same times."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.scenario.spec import Arrivals, Content, Workload
from bench.scenario.workload import arrival_times, make_content, plan_workload
from event_handlers.tasks import summarize_csv


def test_same_seed_same_files_and_bytes() -> None:
    spec = Workload(arrivals=Arrivals(process="poisson", rate_per_s=5, count=50), key_style="odd")
    a, b = plan_workload(spec, seed=7), plan_workload(spec, seed=7)
    assert a.files == b.files
    assert [a.body(f) for f in a.files] == [b.body(f) for f in b.files]
    assert plan_workload(spec, seed=8).files != a.files


def test_constant_arrivals_are_evenly_spaced() -> None:
    times = arrival_times(Arrivals(process="constant", rate_per_s=4, count=9), np.random.default_rng(0))
    assert np.allclose(np.diff(times), 0.25)


def test_poisson_rate_is_right_on_average() -> None:
    times = arrival_times(Arrivals(process="poisson", rate_per_s=50, count=20000), np.random.default_rng(1))
    assert 20000 / times[-1] == pytest.approx(50, rel=0.03)
    gaps = np.diff(times)
    assert np.std(gaps) / np.mean(gaps) == pytest.approx(1.0, rel=0.05)  # exponential gaps


def test_bursts_share_one_timestamp() -> None:
    times = arrival_times(
        Arrivals(process="bursts", burst_size=5, burst_interval_s=10, count=15), np.random.default_rng(0)
    )
    assert list(times) == [0.0] * 5 + [10.0] * 5 + [20.0] * 5


def test_onoff_has_no_arrivals_in_off_periods() -> None:
    times = arrival_times(
        Arrivals(process="onoff", rate_per_s=20, on_s=2, off_s=3, duration_s=50), np.random.default_rng(0)
    )
    assert len(times) > 100
    assert np.all((times % 5.0) < 2.0)


def test_diurnal_peak_is_busier_than_trough() -> None:
    spec = Arrivals(process="diurnal", rate_per_s=1.0, period_s=1000, peak_to_trough=9, duration_s=10000)
    times = arrival_times(spec, np.random.default_rng(3))
    phase = (times % 1000) / 1000
    peak = np.sum((phase > 0.4) & (phase < 0.6))
    trough = np.sum((phase < 0.1) | (phase > 0.9))
    assert len(times) == pytest.approx(10000, rel=0.05)
    assert peak / trough == pytest.approx(9, rel=0.25)


def test_duration_limits_arrivals() -> None:
    times = arrival_times(Arrivals(process="poisson", rate_per_s=10, duration_s=30), np.random.default_rng(0))
    assert times[-1] <= 30
    assert len(times) == pytest.approx(300, rel=0.2)


def test_replay_reads_and_sorts_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "arrivals.csv"
    path.write_text("arrival_s,size_bytes\n3.5,10\n1.0,20\n2,30\n")
    times = arrival_times(Arrivals(process="replay", replay_path=str(path)), np.random.default_rng(0))
    assert list(times) == [1.0, 2.0, 3.5]
    path.write_text("when\n1\n")
    with pytest.raises(ValueError, match="arrival_s"):
        arrival_times(Arrivals(process="replay", replay_path=str(path)), np.random.default_rng(0))


def test_keys_sort_in_arrival_order_and_odd_keys_are_odd() -> None:
    plan = plan_workload(
        Workload(arrivals=Arrivals(process="constant", rate_per_s=1, count=40), key_style="odd"), 0
    )
    keys = [f.key for f in plan.files]
    assert keys == sorted(keys)
    assert any(" " in k for k in keys) and any("+" in k for k in keys) and any("%" in k for k in keys)  # noqa: PT018
    assert any(ord(c) > 0xFFFF for k in keys for c in k)  # an emoji


def test_csv_content_is_valid_and_sized_by_rows_and_columns() -> None:
    body = make_content(Content(kind="csv", rows=30, columns=6), 3, seed=1)
    summary = summarize_csv(io.BytesIO(body))
    assert (summary.rows, summary.columns) == (30, 6)


def test_image_content_opens_at_its_size() -> None:
    body = make_content(Content(kind="image", width=320, height=200), 0, seed=1)
    assert Image.open(io.BytesIO(body)).size == (320, 200)


def test_corrupt_files_are_empty_or_garbage() -> None:
    plan = plan_workload(
        Workload(
            arrivals=Arrivals(process="constant", rate_per_s=1, count=20), content=Content(corrupt_every=5)
        ),
        0,
    )
    corrupt = [f for f in plan.files if f.corrupt]
    assert [f.index for f in corrupt] == [4, 9, 14, 19]
    bodies = [plan.body(f) for f in corrupt]
    assert b"" in bodies
    assert any(b.startswith(b"\xff") for b in bodies)
