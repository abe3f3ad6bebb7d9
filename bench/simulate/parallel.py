"""Run groups of a simulation's strategies in worker processes, one group per core.

Every strategy's model is independent of the others given the arrivals, and the arrivals are a
seeded process, so a worker can draw them again rather than receive them: each worker makes one
pass over the arrivals for its group of strategies and sends back what that pass left (tallies,
what the summary reads of the finished models, sampled records). Nothing depends on which worker
ran a strategy, so the merged numbers are those of one process. Groups are balanced by each
strategy's relative cost (longest first onto the least loaded worker); a worker keeps its freed
arrays in its own heap instead of giving them back to the kernel (``keep_freed_memory``), which
removes most of the page faults of a month's chunks.

Progress: each worker reports the files it has passed after every chunk on a queue; the parent
reports the files every strategy has passed (the slowest group's).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import traceback
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

R = TypeVar("R")
Progress = Callable[[int], None]
Work = Callable[[Sequence[int], Progress | None], list[R]]

# glibc's mallopt parameters (malloc.h): a freed block this large stays in the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEEP_BELOW_BYTES = 1 << 30  # blocks up to 1 GiB come from (and go back to) the heap, not mmap


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
    process when there is a single group), results concatenated in group order. A worker's
    error is raised here, and a worker that dies (killed for memory) is an error; an interrupt
    here (Ctrl-C, SIGTERM) stops the workers at once."""
    if len(groups) <= 1 or multiprocessing.current_process().daemon:  # a daemon may not fork workers
        return [r for group in groups for r in work(group, on_progress)]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    messages = context.Queue()
    report = on_progress is not None
    workers = [
        context.Process(target=_worker, args=(work, group, n, messages, report), daemon=True)  # type: ignore[attr-defined]
        for n, group in enumerate(groups)
    ]
    try:
        for worker in workers:
            worker.start()
        results = _follow(workers, messages, on_progress)
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # their months are of no use without this process
        raise
    finally:
        for worker in workers:
            worker.join()
        messages.close()
    return [r for n in range(len(groups)) for r in results[n]]


def _worker(work: Work[R], group: Sequence[int], number: int, messages: Any, report: bool) -> None:
    # the parent answers Ctrl-C and SIGTERM (and stops the workers): a worker just ends, quietly
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    keep_freed_memory()

    def progress(done: int) -> None:
        messages.put((number, "progress", done))

    try:
        result = work(group, progress if report else None)
    except Exception as exc:  # a bug stays a traceback: the parent raises it, with this one as a note
        exc.add_note(f"in simulation worker {number}:\n{traceback.format_exc()}")
        messages.put((number, "error", exc))
        return
    messages.put((number, "done", result))


def _follow(workers: list[Any], messages: Any, on_progress: Progress | None) -> dict[int, list[Any]]:
    """Each worker's results, passing on meanwhile the files every worker has passed."""
    passed = [0] * len(workers)
    reported = 0
    results: dict[int, list[Any]] = {}
    while len(results) < len(workers):
        try:
            number, kind, payload = messages.get(timeout=0.2)
        except queue.Empty:
            for n, worker in enumerate(workers):
                if n not in results and worker.exitcode not in (None, 0):
                    raise RuntimeError(
                        f"simulation worker {n} died (exit code {worker.exitcode}): killed for memory? "
                        "try --jobs 1"
                    ) from None
            continue
        if kind == "error":
            raise payload
        if kind == "done":
            results[number] = payload
            passed[number] = max(passed[number], 10**18)  # all of its files
        else:
            passed[number] = max(passed[number], payload)
        if on_progress is not None and kind == "progress" and min(passed) > reported:
            reported = min(passed)
            on_progress(reported)
    return results
