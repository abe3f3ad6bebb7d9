"""Run groups of a simulation's strategies in worker processes, one group per core.

Every strategy's model is independent of the others given the arrivals, and the arrivals are a
seeded process, so a worker can draw them again rather than receive them: each worker makes one
pass over the arrivals for its group of strategies and sends back what that pass left (tallies,
finished models, sampled records). Nothing depends on which worker ran a strategy, so the merged
numbers are those of one process. Groups are balanced by each strategy's relative cost (longest
first onto the least loaded worker); a worker returns its freed arrays to its own heap instead of
the kernel (``keep_freed_memory``), which removes most of the page faults of a month's chunks.

Progress: each worker reports the files it has passed after every chunk on a queue; the parent
reports the files every strategy has passed (the slowest group's).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

R = TypeVar("R")
Progress = Callable[[int], None]
Work = Callable[[Sequence[int], Progress | None], list[R]]

# glibc's mallopt parameters (malloc.h): a freed block this large stays in the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BELOW_BYTES = 1 << 30  # blocks up to 1 GiB come from (and go back to) the heap, not mmap
_progress_queue: Any = None  # set in each worker by ``_start_worker``


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def balanced_groups(weights: Sequence[float], jobs: int) -> list[list[int]]:
    """Indices of ``weights`` in at most ``jobs`` groups of near-equal total weight (the longest
    job first onto the least loaded group), each group in index order; no empty groups."""
    count = max(1, min(jobs, len(weights)))
    groups: list[list[int]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for i in sorted(range(len(weights)), key=lambda i: (-weights[i], i)):
        target = min(range(count), key=lambda g: (loads[g], g))
        groups[target].append(i)
        loads[target] += weights[i]
    return [sorted(g) for g in groups if g]


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed blocks of up to 1 GiB in the heap for reuse instead of unmapping
    them: every temporary array of a 5-million-file chunk (40 MB) was a fresh mmap, paid for
    again in page faults, millions of them over a month. Peak memory is unchanged (the same
    arrays are alive at the peak); only their pages are reused. False where glibc is absent."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(
            libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_BELOW_BYTES) and libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1)
        )
    except (OSError, AttributeError):
        return False


def run_groups(
    work: Work[R], groups: Sequence[Sequence[int]], on_progress: Progress | None = None
) -> list[R]:
    """``work(group, progress)`` for every group, each in its own worker process (in this
    process when there is a single group), results concatenated in group order."""
    if len(groups) <= 1:
        return [r for group in groups for r in work(group, on_progress)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    reports = context.Queue()
    with ProcessPoolExecutor(
        max_workers=len(groups), mp_context=context, initializer=_start_worker, initargs=(reports,)
    ) as pool:
        futures = [pool.submit(_run_group, work, g, n, on_progress is not None) for n, g in enumerate(groups)]
        _follow(futures, reports, len(groups), on_progress)
        return [r for f in futures for r in f.result()]


def _start_worker(reports: Any) -> None:
    global _progress_queue
    _progress_queue = reports
    keep_freed_memory()


def _run_group(work: Work[R], group: Sequence[int], number: int, report: bool) -> list[R]:
    def progress(done: int) -> None:
        _progress_queue.put((number, done))

    return work(group, progress if report else None)


def _follow(futures: list[Future[Any]], reports: Any, groups: int, on_progress: Progress | None) -> None:
    """Wait for the workers, passing on the files every group has passed; a worker's error
    stops the wait (and surfaces from its ``result()``)."""
    passed = [0] * groups
    reported = 0
    while True:
        finished, pending = wait(futures, timeout=0.2, return_when=FIRST_EXCEPTION)
        while True:
            try:
                number, done = reports.get_nowait()
            except queue.Empty:
                break
            passed[number] = max(passed[number], done)
        if on_progress is not None and min(passed) > reported:
            reported = min(passed)
            on_progress(reported)
        if not pending or any(f.exception() is not None for f in finished):
            return
