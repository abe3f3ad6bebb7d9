"""What a live run and its simulation must draw alike: each strategy's seed and a poller's first tick."""

from __future__ import annotations

import numpy as np

WRITER_LEAD_S = 0.2  # strategies start this long before the first scheduled write


def strategy_seed(scenario_seed: int, index: int, repetition: int) -> int:
    """Each strategy's own seed (delays, phases), the same in live runs and in simulations."""
    return scenario_seed * 7919 + index * 101 + repetition


def poll_phase(strategy_seed: int, interval_s: float) -> float:
    """The delay of a poller's first tick, drawn from its seed (live runs and simulations agree)."""
    return float(np.random.default_rng([strategy_seed, 1]).uniform(0.0, interval_s))
