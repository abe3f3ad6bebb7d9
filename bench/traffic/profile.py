"""A traffic profile per prefix, built in one streaming pass: arrivals per minute, sizes (a log2
histogram), the busiest hour and minute, the index of dispersion of the per-minute counts (1 for a
Poisson stream, far above 1 for bursts), overwrites, deletes, listings, and the objects still there.

Memory grows with the minutes observed and the distinct keys (kept as 64-bit hashes for the overwrite
count), never with the number of records."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bench.traffic.model import Access, Op

MINUTE, HOUR, DAY = 60, 3600, 86400
OTHER = "(other)"


@dataclass(frozen=True)
class Grouping:
    """How keys become prefixes: the first ``depth`` folders, or the longest of ``prefixes``."""

    depth: int = 1
    prefixes: tuple[str, ...] = ()

    def of(self, parent: str) -> str:
        """The group of a key whose folder (everything up to its last ``/``) is ``parent``."""
        if self.prefixes:
            hits = [p for p in self.prefixes if parent.startswith(p)]
            return max(hits, key=len) if hits else OTHER
        parts = parent.split("/")[:-1]
        return "".join(f"{p}/" for p in parts[: self.depth])


@dataclass
class _Group:
    per_minute: Counter[int] = field(default_factory=Counter)
    sizes: list[int] = field(default_factory=lambda: [0] * 65)  # log2 bins of bytes
    size_total: int = 0
    size_max: int = 0
    sized: int = 0
    deletes: int = 0
    overwrites: int = 0
    lists: int = 0
    keys: set[int] = field(default_factory=set)  # hashes of the keys created and not deleted
    ever: set[int] = field(default_factory=set)  # hashes of every key created


@dataclass(frozen=True)
class SizeSummary:
    """A prefix's file sizes: the summary ``--json`` prints, and the log2 histogram the chart draws."""

    count: int
    mean: float | None
    p50: float | None  # the upper edge of the log2 bin holding the median (within a factor of 2)
    p95: float | None
    max: int | None
    bins: tuple[int, ...] = ()  # files per log2 size bin, from the smallest bin used to the largest
    low: float | None = None  # the smallest bin's lower edge, bytes

    def as_dict(self) -> dict[str, object]:
        """The summary as ``pve traffic --json`` has always printed it (the histogram is not in it)."""
        return {"count": self.count, "mean": self.mean, "p50": self.p50, "p95": self.p95, "max": self.max}


@dataclass(frozen=True)
class PrefixProfile:
    bucket: str
    prefix: str
    creates: int
    deletes: int
    overwrites: int
    lists: int
    objects_live: int  # written and not deleted in the window (for an inventory: the objects it lists)
    window_start: float
    window_s: float  # the whole read's span (every prefix is rated over the same window)
    hourly: tuple[float, ...]  # mean files in each UTC hour of a day
    busiest_hour: tuple[float, int]  # (start, files)
    busiest_minute: tuple[float, int]
    dispersion: float  # variance / mean of files per minute over the window, zeros included
    sizes: SizeSummary  # with the log2 histogram of the sizes

    @property
    def size_bins(self) -> tuple[int, ...]:
        """Files per log2 size bin (``sizes.bins``)."""
        return self.sizes.bins

    @property
    def sizes_low(self) -> float | None:
        """The smallest size bin's lower edge, bytes (``sizes.low``)."""
        return self.sizes.low

    @property
    def name(self) -> str:
        return self.prefix or "(root)"

    @property
    def window_days(self) -> float:
        return self.window_s / DAY

    @property
    def rated_days(self) -> float:
        """The days the counts are rated over: the read's span, at least one day (as ``hourly``). A
        read shorter than a day is a day whose other hours were quiet: rating a bursty prefix over
        its first-to-last record alone would bill its quiet hours as more bursts."""
        return max(self.window_days, 1.0)

    @property
    def files_per_day(self) -> float:
        return self.creates / self.rated_days

    @property
    def peak_files_per_day(self) -> float:
        """The busiest minute as a daily rate: what feasibility and latency are judged at."""
        return self.busiest_minute[1] * 1440.0

    @property
    def lists_per_day(self) -> float:
        return self.lists / self.rated_days

    def as_dict(self) -> dict[str, object]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "creates": self.creates,
            "deletes": self.deletes,
            "overwrites": self.overwrites,
            "lists": self.lists,
            "lists_per_day": self.lists_per_day,
            "objects_live": self.objects_live,
            "window_days": self.window_days,
            "files_per_day": self.files_per_day,
            "hourly": list(self.hourly),
            "busiest_hour": {"start_s": self.busiest_hour[0], "files": self.busiest_hour[1]},
            "busiest_minute": {"start_s": self.busiest_minute[0], "files": self.busiest_minute[1]},
            "peak_files_per_day": self.peak_files_per_day,
            "index_of_dispersion": self.dispersion,
            "sizes_bytes": self.sizes.as_dict(),
        }


class ProfileBuilder:
    """Feed accesses in any order; ``profiles()`` at the end."""

    def __init__(self, grouping: Grouping | None = None) -> None:
        self.grouping = grouping or Grouping()
        self.groups: dict[tuple[str, str], _Group] = {}
        self._names: dict[str, str] = {}
        self.first = math.inf
        self.last = -math.inf

    def add(self, a: Access) -> None:
        t = a.time
        self.first = min(self.first, t)
        self.last = max(self.last, t)
        key = a.key
        parent = key if a.op is Op.LIST else key[: key.rfind("/") + 1]
        name = self._names.get(parent)
        if name is None:
            name = self._names[parent] = self.grouping.of(parent)
        group = self.groups.get((a.bucket, name))
        if group is None:
            group = self.groups[(a.bucket, name)] = _Group()
        if a.op is Op.LIST:
            group.lists += 1
            return
        h = hash(key)
        if a.op is Op.DELETE:
            group.deletes += 1
            group.keys.discard(h)
            return
        group.per_minute[int(t // MINUTE)] += 1
        if h in group.ever:
            group.overwrites += 1
        group.ever.add(h)
        group.keys.add(h)
        if a.size is not None:
            group.sized += 1
            group.size_total += a.size
            group.size_max = max(group.size_max, a.size)
            group.sizes[a.size.bit_length()] += 1

    def profiles(self) -> list[PrefixProfile]:
        if not self.groups:
            return []
        start = math.floor(self.first / MINUTE) * MINUTE
        window = max(self.last - start, MINUTE)
        minutes = math.ceil(window / MINUTE)
        return [_profile(b, p, g, start, window, minutes) for (b, p), g in sorted(self.groups.items())]


def _profile(bucket: str, prefix: str, g: _Group, start: float, window: float, minutes: int) -> PrefixProfile:
    creates = sum(g.per_minute.values())
    by_hour_of_day = [0.0] * 24
    by_hour: Counter[int] = Counter()
    for minute, n in g.per_minute.items():
        by_hour_of_day[(minute // 60) % 24] += n
        by_hour[minute // 60] += n
    days = max(window / DAY, 1.0)
    mean = creates / minutes
    square = sum(n * n for n in g.per_minute.values()) / minutes
    dispersion = (square - mean * mean) / mean if mean > 0 else 0.0
    top_minute = max(g.per_minute.items(), key=lambda kv: (kv[1], -kv[0]), default=(0, 0))
    top_hour = max(by_hour.items(), key=lambda kv: (kv[1], -kv[0]), default=(0, 0))
    return PrefixProfile(
        bucket=bucket,
        prefix=prefix,
        creates=creates,
        deletes=g.deletes,
        overwrites=g.overwrites,
        lists=g.lists,
        objects_live=len(g.keys),
        window_start=start,
        window_s=window,
        hourly=tuple(n / days for n in by_hour_of_day),
        busiest_hour=(float(top_hour[0] * HOUR), top_hour[1]),
        busiest_minute=(float(top_minute[0] * MINUTE), top_minute[1]),
        dispersion=dispersion,
        sizes=_sizes(g),
    )


def _bins(g: _Group) -> tuple[tuple[int, ...], float | None]:
    used = [i for i, n in enumerate(g.sizes) if n]
    if not used:
        return (), None
    return tuple(g.sizes[used[0] : used[-1] + 1]), float(2 ** (used[0] - 1)) if used[0] else 0.0


def _sizes(g: _Group) -> SizeSummary:
    bins, low = _bins(g)
    if not g.sized:
        return SizeSummary(0, None, None, None, None, bins, low)

    def quantile(q: float) -> float:
        rank, seen = q * g.sized, 0
        for bits, n in enumerate(g.sizes):
            seen += n
            if seen >= rank and n:
                return float(min(2**bits - 1, g.size_max)) if bits else 0.0
        return float(g.size_max)

    return SizeSummary(g.sized, g.size_total / g.sized, quantile(0.5), quantile(0.95), g.size_max, bins, low)


def profile_traffic(accesses: Iterable[Access], grouping: Grouping | None = None) -> list[PrefixProfile]:
    """One profile per (bucket, prefix), streamed from ``accesses``."""
    builder = ProfileBuilder(grouping)
    for access in accesses:
        builder.add(access)
    return builder.profiles()
