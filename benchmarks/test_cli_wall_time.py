"""`pve cost --sweep` and `pve decide` wall time, against a machine yardstick measured in the same
run (a bare numpy pass over a million files, ``bench.simulate.comparison.bare_numpy_pass``), so
that the saved ratio travels between machines. Lower is better."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli import build_parser, main
from bench.simulate.comparison import bare_numpy_pass

pytestmark = pytest.mark.slow
YARDSTICK_FILES = 1_000_000


def yardstick() -> float:
    return min(bare_numpy_pass(YARDSTICK_FILES, seed=s) for s in range(5))


def test_pve_cost_sweep_wall_time(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference = yardstick()
    code = benchmark.pedantic(
        main, args=(["cost", "--sweep", "--out", str(tmp_path / "sweep"), "--force"],), rounds=3, iterations=1
    )
    assert code == 0
    record_ratio(
        benchmark.stats.stats.min / reference, reference, means="pve cost --sweep s / bare numpy pass s"
    )


def _has_decide() -> bool:
    import argparse

    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return any("decide" in a.choices for a in actions)


@pytest.mark.skipif(not _has_decide(), reason="pve decide is not built yet (issue 13 item 9)")
def test_pve_decide_wall_time(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference = yardstick()
    argv = [
        "decide",
        "--files-per-day",
        "1000",
        "100000",
        "10000000",
        "--quiet",
        "--json",
        str(tmp_path / "d.json"),
    ]
    argv += ["--out", str(tmp_path / "out")]
    code = benchmark.pedantic(main, args=(argv,), rounds=3, iterations=1)
    assert code == 0
    record_ratio(benchmark.stats.stats.min / reference, reference, means="pve decide s / bare numpy pass s")
