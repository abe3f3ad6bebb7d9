"""``record_ratio``: store a benchmark's ratio and fail when it regressed against the baseline."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import ALLOWANCE, BASELINE, load_ratios, regression


@pytest.fixture
def record_ratio(benchmark, request: pytest.FixtureRequest) -> Callable[..., None]:  # type: ignore[no-untyped-def]
    """``record_ratio(ratio, reference_s, means=...)``: lower is better; ``means`` says what over what."""

    def record(ratio: float, reference_s: float, *, means: str) -> None:
        benchmark.extra_info.update(
            {"ratio": round(ratio, 4), "reference_s": reference_s, "ratio_means": means}
        )
        before = load_ratios(BASELINE).get(request.node.name)
        if before is not None:
            found = regression(request.node.name, ratio, before, ALLOWANCE)
            assert found is None, f"regressed: {found}"

    return record
