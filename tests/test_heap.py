"""The settled heap is frozen for a live run's timed part and handed back after."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bench.live.heap import settled_heap_frozen


def test_the_heap_is_frozen_inside_and_handed_back_after() -> None:
    before = gc.get_freeze_count()
    with settled_heap_frozen():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


def test_the_heap_is_handed_back_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), settled_heap_frozen():
        raise RuntimeError("a run failed")
    assert gc.get_freeze_count() == 0


def test_a_live_run_writes_with_the_heap_frozen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The writer runs inside the frozen block (what keeps a full pass out of the timed part)."""
    from bench.live import runner
    from bench.scenario.spec import parse_scenario

    seen: list[int] = []
    real = runner.write_workload

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "write_workload", spy)
    scenario = parse_scenario(
        {
            "name": "frozen",
            "workload": {"arrivals": {"process": "constant", "rate_per_s": 50.0, "count": 3}},
            "strategies": [{"name": "s3-lambda", "kind": "s3-lambda"}],
        },
        "test",
    )
    runner.run_scenario(scenario, tmp_path / "out")
    assert seen
    assert seen[0] > 0
    assert gc.get_freeze_count() == 0
