"""What this machine can give a run: refuse, before any work, a run that would not fit.

A live run holds every file's bytes in memory (and moto holds them again), and lasts as long as
its arrivals divided by ``time_scale``; ``pve idle-cost`` holds every object in moto; a file's
content is built whole in memory. These checks compute the size or the duration from the
scenario and the flags alone (nothing is generated) and raise an :class:`InputError` that says
the computed figure, the limit, and the field or flag to change: never a ``MemoryError``.
"""

from __future__ import annotations

import math
import os

from bench.errors import InputError
from bench.scenario.spec import Arrivals, Content, Scenario

MAX_LIVE_S = 3600.0  # one strategy's arrivals, in real seconds: a live run is a laptop experiment
MAX_LIVE_FILES = 100_000
MEMORY_SHARE = 0.5  # of the memory available now: the rest is for the interpreter, moto and charts
# moto's in-process S3 per stored object, measured with tracemalloc over 3,000 one-byte PUTs
# (2026-11-27, moto 5, Python 3.11): 4,240 bytes. An estimate for refusing, not a promise.
MOTO_BYTES_PER_OBJECT = 4240.0
CSV_BYTES_PER_CELL = 9.0  # "123.456," and the like: the generator's numbers, rounded to 3 decimals


def available_memory_bytes() -> float:
    """Memory available to new allocations now (Linux ``MemAvailable``; else free physical pages)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf  # unknown: do not refuse on memory


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def file_bytes(content: Content) -> float:
    """Peak bytes of building one file (an estimate from the content spec, nothing generated)."""
    if content.kind == "csv":
        text = float(content.rows) * content.columns * CSV_BYTES_PER_CELL
        return text * 3 + float(content.rows) * content.columns * 8  # text, its copies, the numbers
    if content.kind == "image":
        return float(content.width) * content.height * 3 * 2  # the RGB raster and its PNG
    return float(content.size_bytes)


def expected_files(arrivals: Arrivals) -> float:
    """Files the arrivals produce (a replay's: ``nan``, known only from its file)."""
    if arrivals.process == "replay":
        return math.nan
    if arrivals.count is not None:
        return float(arrivals.count)
    return _rate(arrivals) * float(arrivals.duration_s or 0.0)


def expected_span_s(arrivals: Arrivals) -> float:
    """Scenario seconds from the first arrival to the last (``nan`` for a replay)."""
    if arrivals.process == "replay":
        return math.nan
    if arrivals.duration_s is not None:
        span = float(arrivals.duration_s)
        return span if arrivals.count is None else min(span, _count_span(arrivals))
    return _count_span(arrivals)


def _rate(arrivals: Arrivals) -> float:
    if arrivals.process == "bursts":
        return arrivals.burst_size / arrivals.burst_interval_s
    rate = float(arrivals.rate_per_s or 1.0)
    if arrivals.process == "onoff":
        rate *= arrivals.on_s / (arrivals.on_s + arrivals.off_s)
    return rate


def _count_span(arrivals: Arrivals) -> float:
    count = float(arrivals.count or 0)
    if arrivals.process == "bursts":
        return max(0.0, math.ceil(count / arrivals.burst_size) - 1) * arrivals.burst_interval_s
    return count / _rate(arrivals)


def check_memory(need: float, what: str, fix: str) -> None:
    """Refuse ``need`` bytes beyond the share of available memory a run may take."""
    budget = available_memory_bytes() * MEMORY_SHARE
    if need > budget:
        raise InputError(
            f"{what} needs about {gib(need)} of memory; this machine can give {gib(budget)} "
            f"(half of what is available now): {fix}"
        )


def check_live(scenario: Scenario, origin: str = "") -> None:
    """A live run: its files, the real time its arrivals take, and the memory of its bodies."""
    where = f"{origin}: " if origin else ""
    workload = scenario.workload
    files = expected_files(workload.arrivals)
    span = expected_span_s(workload.arrivals) / workload.time_scale
    hint = f"simulate it with 'pve simulate {scenario.name}', or shrink the arrivals"
    if files > MAX_LIVE_FILES:
        raise InputError(
            f"{where}workload.arrivals: about {files:,.0f} files is too many to play live "
            f"(the limit is {MAX_LIVE_FILES:,}): {hint}"
        )
    if span > MAX_LIVE_S:
        runs = scenario.repetitions * len(scenario.strategies)
        raise InputError(
            f"{where}workload: the arrivals would take {span / 3600:,.1f} h of real time per strategy "
            f"({runs} strategy run(s): {span * runs / 3600:,.1f} h in all; the limit is "
            f"{MAX_LIVE_S / 3600:g} h per strategy): raise workload.time_scale, or {hint}"
        )
    per_file = file_bytes(workload.content)
    check_memory(per_file, f"{where}workload.content: one file", "make the files smaller")
    if math.isfinite(files):
        stored = per_file / 3 if workload.content.kind == "csv" else per_file / 2  # the bytes kept
        check_memory(
            files * (stored * 2 + MOTO_BYTES_PER_OBJECT),
            f"{where}workload: {files:,.0f} files (held by the writer and again by the backend)",
            "fewer or smaller files",
        )


def check_simulation(scenario: Scenario, files: float, flag: str) -> None:
    """A simulation streams its arrivals in chunks and keeps a bounded sample of records, so what
    grows with the period is its time: refuse a period of more than ``MAX_SIM_FILES`` files per
    strategy, and content whose one file does not fit in memory (the simulator builds a few to
    learn the mean size)."""
    check_memory(
        file_bytes(scenario.workload.content),
        f"{scenario.name}: workload.content: one file",
        "make the files smaller",
    )
    if files > MAX_SIM_FILES:
        hours = files * len(scenario.strategies) / ASSUMED_SIM_FILES_PER_S / 3600
        raise InputError(
            f"{flag}: about {files:,.0f} files per strategy ({len(scenario.strategies)} strategies) "
            f"is more than the {MAX_SIM_FILES:,.0f} a simulation accepts; at an assumed "
            f"{ASSUMED_SIM_FILES_PER_S:,.0f} files a second per strategy it would take about {hours:,.0f} h: "
            "fewer days or a lower rate"
        )


MAX_SIM_FILES = 1e9  # per strategy: about half an hour each at the speed below
# Strategy-files a second, the order of what results/reference/monthly/summary.json records
# (simulation.files_per_second: 0.3 to 0.9 million, 2026-11-27). Used only to say how long a
# refused simulation would take.
ASSUMED_SIM_FILES_PER_S = 5e5


def check_idle_objects(objects: int) -> None:
    """``pve idle-cost`` stores ``objects`` keys in in-process moto."""
    check_memory(
        objects * MOTO_BYTES_PER_OBJECT,
        f"--objects {objects:,}: moto holding {objects:,} objects",
        "use fewer objects (the per-object cost scales linearly; 100,000 shows the trend)",
    )
