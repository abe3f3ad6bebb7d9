"""``record_ratio``: store a benchmark's ratio (and its spread) and fail when it regressed against
the baseline, by the baseline's own allowance."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import BASELINE, SLIP, allowance_from_spread, load_allowances, load_ratios, regression
from timing import Spread


class UnstableBenchmark(UserWarning):
    """A benchmark's rounds disagree by more than pyperf's 10%: its ratio is less trustworthy."""


@pytest.fixture
def record_ratio(benchmark, request: pytest.FixtureRequest) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``record_ratio(ratio, reference_s, means=..., spread=None)``: lower is better; ``means`` says
    what over what; ``spread``, the per-round ratios when the benchmark timed several rounds."""

    def record(ratio: float, reference_s: float, *, means: str, spread: Spread | None = None) -> None:
        name = request.node.name
        allowance = allowance_from_spread(None if spread is None else spread.rsd)
        benchmark.extra_info.update(
            {"ratio": round(ratio, 4), "reference_s": reference_s, "ratio_means": means}
        )
        if spread is not None:
            benchmark.extra_info.update({"ratio_spread": spread.as_dict(), "allowance": round(allowance, 4)})
            if spread.unstable:
                warnings.warn(
                    f"{name}: unstable: per-round ratios {spread.min:.3g}-{spread.max:.3g}, std "
                    f"{spread.rsd:.0%} of the mean (pyperf warns above 10%); allowance +{allowance:.0%}"
                    + ("" if allowance < SLIP - 1 else f", too wide to catch a {SLIP}x slip"),
                    UnstableBenchmark,
                    stacklevel=2,
                )
        before = load_ratios(BASELINE).get(name)
        if before is not None:
            found = regression(name, ratio, before, load_allowances(BASELINE)[name])
            assert found is None, f"regressed: {found}"

    return record
