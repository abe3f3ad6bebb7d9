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

As pyperf does, a quick subject is timed in a calibrated loop (enough calls for one timing to
last ``CALIBRATED_S``, so the clock's resolution and the loop's overhead vanish), over several
rounds, and the rounds' spread is kept with the result: mean, standard deviation, minimum and
maximum of the per-round ratios. A spread above ``UNSTABLE_RSD`` (pyperf warns at a standard
deviation above 10% of the mean) marks the measurement unstable, and the regression allowance
of a benchmark is set from its spread (``benchmarks/baseline.py``).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

CALIBRATED_S = 0.1  # one timing of a calibrated loop lasts at least this long
UNSTABLE_RSD = 0.10  # pyperf's warning: a standard deviation above 10% of the mean
SLICES = 10  # turns per round of a calibrated loop (``rounds_of``)


@dataclass(frozen=True)
class Spread:
    """Several rounds of one quantity (a ratio, lower is better): where they sit and how far apart."""

    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    @property
    def rsd(self) -> float:
        """The relative standard deviation (std / mean); NaN for a single round."""
        return self.std / self.mean if len(self.values) > 1 and self.mean > 0 else math.nan

    @property
    def unstable(self) -> bool:
        """A single round has no spread to trust; several whose std exceeds 10% of the mean."""
        return not self.rsd <= UNSTABLE_RSD

    def as_dict(self) -> dict[str, Any]:
        return {
            "rounds": len(self.values),
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
            "rsd": None if math.isnan(self.rsd) else self.rsd,
            "unstable": self.unstable,
        }


def _timed(subject: Callable[[], Any], number: int) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            subject()
        return (time.perf_counter() - start) / number
    finally:
        gc.enable()


def calibrate(*subjects: Callable[[], Any], target_s: float = CALIBRATED_S) -> int:
    """Calls per timing so that the quickest subject's timing lasts at least ``target_s``."""
    number = 1
    while True:
        quickest = min(_timed(s, number) for s in subjects) * number
        if quickest >= target_s or number >= 1_000_000:
            return number
        number = max(number * 2, math.ceil(number * target_s / max(quickest, 1e-9) * 1.1))
        number = min(number, 1_000_000)


def rounds_of(
    rounds: int, *subjects: Callable[[], Any], number: int = 1, slices: int = 1
) -> list[list[float]]:
    """Time per call of each subject in each of ``rounds`` rounds, the subjects taken in turn
    within every round; ``number`` calls per timing. With ``slices``, a round's ``number`` calls
    are cut into that many turns (subject, reference, subject, ...), so that load which comes and
    goes within a round falls on every subject alike and the per-round ratios spread less."""
    slices = max(1, min(slices, number))
    times: list[list[float]] = [[] for _ in subjects]
    for _ in range(rounds):
        spent = [0.0] * len(subjects)
        calls = [0] * len(subjects)
        gc.collect()
        gc.disable()
        try:
            for piece in range(slices):
                count = number // slices + (1 if piece < number % slices else 0)
                for i, subject in enumerate(subjects):
                    start = time.perf_counter()
                    for _ in range(count):
                        subject()
                    spent[i] += time.perf_counter() - start
                    calls[i] += count
        finally:
            gc.enable()
        for i in range(len(subjects)):
            times[i].append(spent[i] / calls[i])
    return times


def bracketed(
    rounds: int, subject: Callable[[], Any], reference: Callable[[], Any]
) -> tuple[list[float], list[float]]:
    """(subject times, reference times) per round for a subject too long to slice (one call of
    seconds): each round times the reference just before and just after the subject and keeps
    their mean, so that drift within the round falls on both sides alike."""
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        before, middle, after = (t[0] for t in rounds_of(1, reference, subject, reference))
        ours.append(middle)
        theirs.append((before + after) / 2)
    return ours, theirs


def best_of(rounds: int, *subjects: Callable[[], Any], number: int = 1) -> list[float]:
    """The best time per call of each subject over ``rounds``, taken in turn within every round;
    ``number`` calls per timing (for subjects too quick to time one call at a time)."""
    return [min(t) for t in rounds_of(rounds, *subjects, number=number)]


@dataclass(frozen=True)
class Comparison:
    """A subject against its reference over the same rounds: the ratio of their best rounds (the
    least disturbed), and the spread of the per-round ratios (each round times both in turn)."""

    subject_s: float
    reference_s: float
    spread: Spread

    @property
    def ratio(self) -> float:
        return self.subject_s / self.reference_s


def compare(
    rounds: int, subject: Callable[[], Any], reference: Callable[[], Any], *, number: int | None = None
) -> Comparison:
    """``subject`` against ``reference``, in a calibrated loop unless ``number`` is given."""
    calls = calibrate(subject, reference) if number is None else number
    ours, theirs = rounds_of(rounds, subject, reference, number=calls, slices=SLICES)
    return Comparison(min(ours), min(theirs), ratios(ours, theirs))


def ratios(subject: Sequence[float], reference: Sequence[float]) -> Spread:
    """The per-round ratios of two subjects timed in the same rounds."""
    return Spread(tuple(s / r for s, r in zip(subject, reference, strict=True)))


def slowed(subject: Callable[[], Any], factor: float) -> Callable[[], Any]:
    """``subject`` made ``factor`` times slower by doing its own work ``factor`` times: for 1.5,
    every second call runs it twice (an injected regression, to show that the check catches one;
    for subjects timed in loops of many calls - a spin-wait instead would be stretched by load
    that the subject itself does not see)."""
    owed = [0.0]

    def run() -> Any:
        result = subject()
        owed[0] += factor - 1.0
        while owed[0] >= 1.0 - 1e-9:
            subject()
            owed[0] -= 1.0
        return result

    return run


def stretched(subject: Callable[[], Any], factor: float) -> Callable[[], Any]:
    """``subject`` made ``factor`` times slower in wall time, call by call: each call runs it once,
    then keeps the core busy ``factor - 1`` times as long as that run took. For a subject timed one
    call per round (seconds long), where doing its work again would not scale the whole call: a
    simulation of 1.5 days took only 1.24x one day's (its setup and summary do not grow with the
    days). The subject's own run sees the load it would see, and the injected slowdown is exactly
    ``factor`` times that run. A busy wait, not a sleep: the core stays as busy as a slower
    subject would keep it, so the reference timed next starts as it would after one."""

    def run() -> Any:
        start = time.perf_counter()
        result = subject()
        until = start + factor * (time.perf_counter() - start)
        while time.perf_counter() < until:
            pass
        return result

    return run
