"""Timing two or more subjects fairly on a machine whose speed drifts.

This VM's speed moves by tens of percent within minutes (its neighbours), so a reference timed
before the subject and the subject timed after can disagree by 2x about nothing. Every subject is
timed once per round, in turn, and each keeps its best round: load that comes and goes hits all
of them alike, and the best round is the one least disturbed.

The collector is run before each timing and paused during it. A subject that allocates 100,000
objects (a first poll) triggers full collections whose cost is the size of the whole heap, and in
a benchmark that heap is pytest's session, not the subject's: with the collector running, the same
first poll measured 1.9x to 3.7x its reference between runs. Paused, each subject pays for its own
allocations only, as it would in a small poller process.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any


def best_of(rounds: int, *subjects: Callable[[], Any], number: int = 1) -> list[float]:
    """The best time per call of each subject over ``rounds``, taken in turn within every round;
    ``number`` calls per timing (for subjects too quick to time one call at a time)."""
    best = [float("inf")] * len(subjects)
    for _ in range(rounds):
        for i, subject in enumerate(subjects):
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                for _ in range(number):
                    subject()
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            best[i] = min(best[i], elapsed / number)
    return best
