"""Timing two or more subjects fairly on a machine whose speed drifts.

This VM's speed moves by tens of percent within minutes (its neighbours), so a reference timed
before the subject and the subject timed after can disagree by 2x about nothing. Every subject is
timed once per round, in turn, and each keeps its best round: load that comes and goes hits all
of them alike, and the best round is the one least disturbed. A full garbage collection before
each timing starts every subject from the same heap, so one subject's garbage is not another's bill.
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
            start = time.perf_counter()
            for _ in range(number):
                subject()
            best[i] = min(best[i], (time.perf_counter() - start) / number)
    return best
