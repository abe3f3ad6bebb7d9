"""Pure timing rules: fixed-rate schedule, backoff, and the stability gate."""

from __future__ import annotations

import pytest

from pollers.entries import Entry
from pollers.stability import StabilityGate
from pollers.timing import Backoff, FixedRateSchedule


def test_fixed_rate_does_not_drift_when_work_takes_time() -> None:
    schedule = FixedRateSchedule(interval_s=60.0, start=0.0)
    due = schedule.first_due()
    starts = []
    for _ in range(5):
        starts.append(due)
        due = schedule.next_due(now=due + 7.5)  # each cycle works 7.5 s
    assert starts == [
        0.0,
        60.0,
        120.0,
        180.0,
        240.0,
    ]  # the seed's sleep(60) would give 67.5, 135, ...


def test_overrun_starts_at_once_and_skips_missed_ticks() -> None:
    schedule = FixedRateSchedule(interval_s=10.0, start=0.0)
    schedule.first_due()
    assert schedule.next_due(now=35.0) == 35.0  # overran three ticks: run now
    assert schedule.next_due(now=36.0) == 40.0  # back on the grid


def test_jitter_stays_within_bounds_and_off_the_grid_only_by_itself() -> None:
    schedule = FixedRateSchedule(interval_s=10.0, start=0.0, jitter_s=2.0, seed=1)
    due = schedule.first_due()
    for tick in range(1, 50):
        due = schedule.next_due(now=due + 0.1)
        assert tick * 10.0 <= due < tick * 10.0 + 2.0


def test_schedule_rejects_jitter_larger_than_interval() -> None:
    with pytest.raises(ValueError, match="jitter_s"):
        FixedRateSchedule(interval_s=1.0, start=0.0, jitter_s=1.0)


def test_backoff_grows_exponentially_to_its_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, jitter=False)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_full_jitter_is_seeded_and_bounded() -> None:
    a = [Backoff(seed=3).delay(n) for n in range(1, 10)]
    b = [Backoff(seed=3).delay(n) for n in range(1, 10)]
    assert a == b
    assert all(0 <= d <= 30.0 for d in a)


def entry(key: str, size: int, mtime: float) -> Entry:
    return Entry(key, size, mtime)


def test_young_file_is_held_back_until_min_age() -> None:
    gate = StabilityGate(min_age_s=2.0)
    ready, held = gate.split([entry("a", 10, 100.0)], now=101.0)
    assert (ready, [e.key for e in held]) == ([], ["a"])
    ready, held = gate.split([entry("a", 10, 100.0)], now=102.5)
    assert [e.key for e in ready] == ["a"]
    assert gate.held_back == 0


def test_file_still_growing_is_held_back_even_when_old_enough() -> None:
    gate = StabilityGate(min_age_s=1.0)
    gate.split([entry("a", 10, 100.0)], now=100.5)  # young: held, size 10 remembered
    ready, held = gate.split([entry("a", 20, 100.0)], now=105.0)  # old mtime, but size changed
    assert [e.key for e in held] == ["a"]
    ready, held = gate.split([entry("a", 20, 100.0)], now=106.0)
    assert [e.key for e in ready] == ["a"]


def test_zero_min_age_lets_everything_through() -> None:
    ready, held = StabilityGate().split([entry("a", 1, 100.0)], now=100.0)
    assert len(ready) == 1
    assert held == []


def test_gate_forgets_held_files_that_disappeared() -> None:
    gate = StabilityGate(min_age_s=5.0)
    gate.split([entry("a", 1, 100.0)], now=100.0)
    gate.forget_missing(set())
    assert gate.held_back == 0
