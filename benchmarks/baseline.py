"""Ratios from pytest-benchmark JSON files, and the check that none regressed past an allowance.

Every benchmark in this folder stores ``extra_info["ratio"]``: its time divided by a reference
measured in the same run (a peer library, moto's bare floor, a bare numpy pass), so that a
baseline saved on one machine can judge a run on another. Absolute times are never compared.

Save a baseline (the documented command; see the README's Development section)::

    python -m pytest benchmarks -m slow --benchmark-json results/reference/benchmarks/baseline.json

While that command runs, its own output file is empty, so it is not compared with anything.
Compare a new run against it::

    python -m pytest benchmarks -m slow --benchmark-json /tmp/new.json   # fails on a regression
    python benchmarks/baseline.py results/reference/benchmarks/baseline.json /tmp/new.json
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BASELINE = Path(__file__).resolve().parent.parent / "results" / "reference" / "benchmarks" / "baseline.json"
# The allowance of a benchmark that measured its spread (several rounds, ``timing.Spread``): its
# ratio may grow by SPREAD_FACTOR relative standard deviations of its per-round ratios, and never
# by less than MIN_ALLOWANCE, before it counts as a regression. Stored with the baseline
# (``extra_info["allowance"]``), so a quiet machine's baseline judges with a quiet machine's spread.
# A spread of 10% (pyperf's "unstable") allows +30%: a 1.5x slip is caught while the spread is
# under 16.7%, and a benchmark whose spread is wider says that it cannot catch one. Never less than
# +30%: quiet runs of the parser ratio on this 2-core VM moved by up to 15% between sessions
# (0.557-0.644 for one record), more than one run's spread shows, and +30% still catches a 1.5x slip.
SPREAD_FACTOR = 3.0
MIN_ALLOWANCE = 0.30
# Benchmarks that time one round (no spread to judge by) keep the old allowance: a ratio may
# triple. On the 2-core VM that made the baseline, such a ratio moved by up to 2.8x between quiet
# runs within one hour (harness CPU per file, poll-1s, 1.30-2.52x the floor). PVE_BENCH_ALLOWANCE
# overrides every allowance (stored or not).
NO_SPREAD_ALLOWANCE = 2.0
OVERRIDE = os.environ.get("PVE_BENCH_ALLOWANCE")
ALLOWANCE = float(OVERRIDE) if OVERRIDE else NO_SPREAD_ALLOWANCE  # the fallback, for old callers
SLIP = 1.5  # the slowdown a benchmark with a spread must catch


def allowance_from_spread(rsd: float | None) -> float:
    """The regression allowance of a benchmark whose per-round ratios have this relative standard
    deviation (None or NaN: one round, no spread: the no-spread allowance)."""
    if rsd is None or math.isnan(rsd):
        return NO_SPREAD_ALLOWANCE
    return max(MIN_ALLOWANCE, SPREAD_FACTOR * rsd)


@dataclass(frozen=True)
class Regression:
    name: str
    baseline: float
    current: float
    allowance: float

    def __str__(self) -> str:
        return (
            f"{self.name}: ratio {self.current:.3g} against the baseline's {self.baseline:.3g} "
            f"(+{self.current / self.baseline - 1:.0%}, allowance +{self.allowance:.0%})"
        )


def _benchmarks(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not text.strip():  # none yet, or the file pytest-benchmark is writing now (it opens it empty)
        return []
    return list(json.loads(text).get("benchmarks", []))


def load_ratios(path: str | Path) -> dict[str, float]:
    """``{benchmark name: ratio}`` from a ``--benchmark-json`` file ({} if there is none)."""
    return {
        str(b["name"]): float(b["extra_info"]["ratio"])
        for b in _benchmarks(path)
        if isinstance(b.get("extra_info", {}).get("ratio"), int | float)
    }


def load_allowances(path: str | Path) -> dict[str, float]:
    """``{benchmark name: allowance}`` stored with the ratios: each benchmark's own (from its
    spread), the no-spread allowance where none was stored; PVE_BENCH_ALLOWANCE overrides all."""
    out = {}
    for b in _benchmarks(path):
        stored = b.get("extra_info", {}).get("allowance")
        chosen = max(MIN_ALLOWANCE, stored) if isinstance(stored, int | float) else NO_SPREAD_ALLOWANCE
        out[str(b["name"])] = float(OVERRIDE) if OVERRIDE else float(chosen)
    return out


def regression(name: str, current: float, baseline: float, allowance: float = ALLOWANCE) -> Regression | None:
    """A regression when the ratio (lower is better) grew by more than ``allowance``."""
    if baseline > 0 and current > baseline * (1 + allowance):
        return Regression(name, baseline, current, allowance)
    return None


def regressions(
    current: dict[str, float], baseline: dict[str, float], allowance: dict[str, float] | float = ALLOWANCE
) -> list[Regression]:
    """The benchmarks in both files whose ratio grew past their allowance (one for all, or each its own)."""

    def allowed(name: str) -> float:
        return allowance if isinstance(allowance, float) else allowance.get(name, ALLOWANCE)

    found = (regression(n, current[n], baseline[n], allowed(n)) for n in sorted(current) if n in baseline)
    return [r for r in found if r is not None]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python benchmarks/baseline.py BASELINE.json NEW.json", file=sys.stderr)
        return 2
    baseline, current = load_ratios(argv[0]), load_ratios(argv[1])
    allowances = load_allowances(argv[0])
    for name in sorted(current):
        before = baseline.get(name)
        allowed = allowances.get(name)
        print(
            f"{name:<60} {current[name]:>9.3g}  baseline {'-' if before is None else f'{before:.3g}'}"
            f"  allowance {'-' if allowed is None else f'+{allowed:.0%}'}"
        )
    found = regressions(current, baseline, allowances)
    for r in found:
        print(f"REGRESSION {r}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
