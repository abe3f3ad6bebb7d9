"""``pve decide`` with the configuration search at 5 rates (1,000 to 10,000,000 files a day),
the whole command as a user runs it (a fresh interpreter: imports, the search of every option's
configurations, the chart, the JSON), against a numpy yardstick timed just before and just after
it in every round (``timing.bracketed``), so that the saved ratio travels between machines; the
per-round ratios' spread sets the regression allowance. Lower is better.

The yardstick is also a fresh interpreter: it imports numpy and runs
``bench.simulate.comparison.bare_numpy_pass`` (its source, without importing ``bench``) over a
million files ``YARDSTICK_PASSES`` times, about a second. A 30 ms pass in this process judged a
3 s command badly: under load the two moved apart (97 to 115 yardsticks for the same command
within minutes), and the command's interpreter start and imports had no counterpart.

Issue 26 asks for <= 3 s wall. ``MAX_RATIO`` says it in yardsticks: 3 s over the yardstick's
best on this 2-core VM, 1.08 s (load 4-5, 2026-12-07). There and then, bracketed round by round,
the command took 1.44-1.95 yardsticks (best 1.56 s), and the command before issue 26's cut
(main at 5f01ee7: pandas, pyplot and the pydantic models imported, the chart laid out by
``tight_layout``, every configuration sampled alone) 1.99-2.95 (best 2.39 s)."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from timing import bracketed, ratios

from bench.simulate.comparison import bare_numpy_pass

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent
RATES = ("1000", "10000", "100000", "1000000", "10000000")
YARDSTICK_FILES = 1_000_000
YARDSTICK_PASSES = 40
YARDSTICK = (
    "import time\nimport numpy as np\n"
    + inspect.getsource(bare_numpy_pass)
    + f"for seed in range({YARDSTICK_PASSES}):\n    bare_numpy_pass({YARDSTICK_FILES}, seed)\n"
)
ROUNDS = 5
YARDSTICK_ON_THIS_VM_S = 1.08  # measured: see the module's docstring
MAX_RATIO = 3.0 / YARDSTICK_ON_THIS_VM_S


def pve_decide(tree: Path, out: Path) -> list[str]:
    """The command line, run from ``tree`` (its own package, whatever is installed)."""
    return [
        sys.executable,
        "-m",
        "bench",
        "decide",
        "--files-per-day",
        *RATES,
        "--quiet",
        "--json",
        str(out / "decide.json"),
        "--out",
        str(out / "chart"),
        "--force",
    ]


def run(tree: Path, out: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run(pve_decide(tree, out), cwd=tree, env=env, check=True, capture_output=True)


def yardstick() -> None:
    subprocess.run([sys.executable, "-c", YARDSTICK], check=True, capture_output=True)


def timed(tree: Path, out: Path, rounds: int) -> tuple[list[float], list[float]]:
    """(the command's wall s, the yardstick's) in every round, the yardstick around the command."""
    return bracketed(rounds, lambda: run(tree, out), yardstick)


def test_pve_decide_search_wall_time(benchmark, record_ratio, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run(REPO, tmp_path)  # warm the file cache: the first interpreter reads every module from disk
    ours, theirs = timed(REPO, tmp_path, rounds=ROUNDS)
    benchmark.pedantic(lambda: None, rounds=1, iterations=1)  # timed above, in turn with the yardstick
    command_s, reference = min(ours), min(theirs)
    ratio = command_s / reference
    means = "pve decide (5 rates, configuration search) wall s / numpy yardstick (fresh interpreter) wall s"
    record_ratio(ratio, reference, means=means, spread=ratios(ours, theirs))
    assert ratio <= MAX_RATIO, (
        f"pve decide took {command_s:.2f} s = {ratio:.2f} yardsticks of {reference:.2f} s; "
        f"3 s is {MAX_RATIO:.2f} (where the yardstick takes {YARDSTICK_ON_THIS_VM_S} s)"
    )
