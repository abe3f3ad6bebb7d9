"""Statistics over more values than fit in memory at once: exact count, mean and max, and
quantiles from a fine logarithmic histogram (bins 0.1% wide: a quantile is off by at most that)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

LOW, HIGH = 1e-6, 1e8  # seconds: a microsecond to three years
BINS_PER_DECADE = 2300  # 10 ** (1 / 2300) = 1.001: 0.1% per bin
BIN_SLICE = 1 << 20  # values binned at a time (8 MB of indices)


@dataclass
class StreamingStats:
    count: int = 0
    total: float = 0.0
    maximum: float = -math.inf
    _counts: np.ndarray = field(default_factory=lambda: np.zeros(_n_bins() + 2, dtype=np.int64))
    _exact: list[np.ndarray] = field(default_factory=list)
    keep_exact_up_to: int = 2_000_000

    def add(self, values: np.ndarray, *, finite: bool = False) -> None:
        """Add values (``finite=True`` skips the check when the caller knows)."""
        if not finite:
            values = values[np.isfinite(values)]
        if values.size == 0:
            return
        self.count += int(values.size)
        self.total += float(np.sum(values, dtype=np.float64))
        self.maximum = max(self.maximum, float(values.max()))
        for start in range(0, values.size, BIN_SLICE):  # counts add up exactly, slice by slice
            self._bin(values[start : start + BIN_SLICE])
        if self.count <= self.keep_exact_up_to:
            self._exact.append(values.astype(np.float64, copy=True))
        else:
            self._exact.clear()

    def _bin(self, values: np.ndarray) -> None:
        """Count ``values`` into the histogram. A slice at a time: a 5-million-value chunk binned at
        once held 90 MB of temporaries (bincount widens its indices to 64 bits)."""
        scaled = values.astype(np.float32)  # float32 is ample for 0.1% bins; casting is monotone,
        np.clip(scaled, np.float32(LOW), np.float32(HIGH), out=scaled)  # so clipping after it is the same
        np.log10(scaled, out=scaled)
        scaled -= np.float32(math.log10(LOW))
        scaled *= np.float32(BINS_PER_DECADE)
        index = scaled.astype(np.intp)  # the width bincount counts in: no second copy
        index += 1
        index[values < LOW] = 0
        self._counts += np.bincount(index, minlength=self._counts.size)[: self._counts.size]

    @property
    def exact(self) -> bool:
        return bool(self._exact) and sum(a.size for a in self._exact) == self.count

    def quantiles(self, qs: tuple[float, ...]) -> list[float | None]:
        if self.count == 0:
            return [None] * len(qs)
        if self.exact:
            values = np.concatenate(self._exact) if len(self._exact) > 1 else self._exact[0]
            return [float(v) for v in np.percentile(values, [q * 100 for q in qs])]
        cumulative = np.cumsum(self._counts)
        out: list[float | None] = []
        for q in qs:
            rank = q * (self.count - 1)
            index = int(np.searchsorted(cumulative, rank, side="right"))
            if index == 0:
                out.append(0.0)
                continue
            lower = LOW * 10 ** ((index - 1) / BINS_PER_DECADE)
            out.append(lower * 10 ** (0.5 / BINS_PER_DECADE))  # the bin's middle
        return out

    def summary(self) -> dict[str, float | None]:
        p50, p95, p99, p999 = self.quantiles((0.5, 0.95, 0.99, 0.999))
        return {
            "p50": _round(p50),
            "p95": _round(p95),
            "p99": _round(p99),
            "p999": _round(p999),
            "mean": _round(self.total / self.count) if self.count else None,
            "max": _round(self.maximum) if self.count else None,
        }


def _n_bins() -> int:
    return math.ceil(math.log10(HIGH / LOW) * BINS_PER_DECADE) + 1


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
