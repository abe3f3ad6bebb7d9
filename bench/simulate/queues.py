"""Queueing arithmetic for the simulator, vectorised: no Python loop per file. Pure.

What is exact and what is approximated:

* ``single_server``: a FIFO queue with one consumer is solved exactly by Lindley's recursion
  ``F[n] = max(F[n-1], A[n]) + S[n]``, whose closed form is
  ``F[n] = C[n] + max(F0, max_{k<=n}(A[k] - C[k-1]))`` with ``C = cumsum(S)``: one cumulative sum
  and one running maximum.
* ``many_servers``: with c servers (Lambda's concurrency limit) each event starts on arrival as
  long as fewer than c are running. ``peak_concurrency`` checks that exactly (a sort and a
  ``searchsorted``). When the limit is reached the result is an approximation: the waiting is
  taken from a single server c times as fast (the fluid, work-conserving bound, exact in heavy
  traffic), while each event keeps its own service time.
* ``bulk_batches``: an SQS poller taking up to B waiting messages per receive. Per-message finish
  times are those of the FIFO queue (a batch's records run one after another); the number of
  batches is exact when each message finds the poller idle and approximated under queueing by
  splitting each busy period's backlog into batches of B.
"""

from __future__ import annotations

import numpy as np


def single_server(available: np.ndarray, service: np.ndarray, free_at: float = -np.inf) -> np.ndarray:
    """Finish times of a FIFO single server, in the arrays' order (sort by ``available`` first)."""
    if available.size == 0:
        return np.empty(0)
    done = np.cumsum(service)
    backlog_free = np.subtract(done, service)  # in place from here: two arrays alive, not five
    np.subtract(available, backlog_free, out=backlog_free)
    np.maximum.accumulate(backlog_free, out=backlog_free)
    np.maximum(backlog_free, free_at, out=backlog_free)
    backlog_free += done
    return backlog_free


def peak_concurrency(start: np.ndarray, finish: np.ndarray) -> int:
    """The most events running at once, if each starts at ``start`` and ends at ``finish``."""
    if start.size == 0:
        return 0
    order = np.argsort(start, kind="stable")
    starts = start[order]
    ends = np.sort(finish, kind="stable")  # nearly sorted: timsort is fast on it
    running = np.arange(1, starts.size + 1) - np.searchsorted(ends, starts, side="right")
    return int(running.max())


def at_most_concurrent(
    start: np.ndarray, finish: np.ndarray, servers: int, *, sorted_starts: bool = False
) -> bool:
    """``peak_concurrency(start, finish) <= servers``, without a search per event: in start order,
    the i-th start finds at most ``servers`` running exactly when at least ``i + 1 - servers``
    ends came at or before it, i.e. when the ``(i - servers)``-th earliest end does.
    ``sorted_starts``: ``start`` is ascending already (no copy); ``finish`` may then be sorted in
    place (the caller's temporary)."""
    if start.size <= servers:
        return True
    starts = start if sorted_starts else np.sort(start, kind="stable")
    ends = finish if sorted_starts else np.array(finish)
    ends.sort(kind="stable")  # nearly sorted: timsort is fast on it
    return bool(np.all(ends[: ends.size - servers] <= starts[servers:]))


def never_more_than(start: np.ndarray, longest: float, servers: int) -> bool:
    """A quick sufficient test (O(n), no sort): if any ``servers + 1`` consecutive starts span
    more than the longest job, no more than ``servers`` ever run at once."""
    if start.size <= servers:
        return True
    return bool(np.min(start[servers:] - start[:-servers]) > longest)


def more_at_once_than(start: np.ndarray, servers: int) -> bool:
    """A quick sufficient test the other way (O(n)): more than ``servers`` jobs start at the very
    same instant (a poller's cycle hands all it found to its workers at once)."""
    if start.size <= servers:
        return False
    edges = np.flatnonzero(np.diff(start))
    runs = np.diff(np.concatenate(([-1], edges, [start.size - 1])))
    return bool(runs.max() > servers)


def start_on_arrival(available: np.ndarray, service: np.ndarray, servers: int) -> bool:
    """Whether every job starts on arrival with ``servers`` parallel consumers (never more than
    that many running at once); ``available`` sorted ascending. Exact: ``many_servers`` returns
    ``available`` itself when this holds."""
    if never_more_than(available, float(service.max(initial=0.0)), servers):
        return True
    return not more_at_once_than(available, servers) and at_most_concurrent(
        available, available + service, servers, sorted_starts=True
    )


def many_servers(available: np.ndarray, service: np.ndarray, servers: int) -> tuple[np.ndarray, bool]:
    """(start times, exact?) for ``servers`` parallel consumers; ``available`` sorted ascending."""
    if start_on_arrival(available, service, servers):  # returned as is; callers do not write to it
        return available, True
    return fluid_servers(available, service, servers), False


def fluid_servers(available: np.ndarray, service: np.ndarray, servers: int) -> np.ndarray:
    """Start times when ``servers`` consumers are not enough: the waiting of a single server
    ``servers`` times as fast (the fluid approximation); ``available`` sorted ascending."""
    share = service / servers
    waiting = single_server(available, share)  # the fluid finish; then, in place, the wait
    waiting -= share
    waiting -= available
    np.maximum(0.0, waiting, out=waiting)
    waiting += available
    return waiting


def bulk_batches(available: np.ndarray, finish_prev: np.ndarray, batch_size: int) -> int:
    """Batches an SQS poller makes: a message arriving to an idle poller opens a busy period;
    the rest of each busy period is taken B at a time. ``finish_prev[i]`` is when the consumer
    finished the message before ``i`` (-inf for the first)."""
    if available.size == 0:
        return 0
    opened = np.flatnonzero(available >= finish_prev)  # where each busy period begins
    # the busy periods' sizes; before the first, the tail of a busy period begun earlier
    sizes = np.diff(opened, prepend=0, append=available.size)
    carried = int(np.ceil(sizes[0] / batch_size))
    return carried + int(np.sum(1 + np.ceil((sizes[1:] - 1) / batch_size)))


def window_batches(available: np.ndarray, batch_size: int, window_s: float) -> np.ndarray:
    """Batch start indices when a batch opens at a message and closes ``window_s`` later or at
    ``batch_size`` messages (greedy, exact). Loops over batches, not files: with a window, each
    batch holds many messages whenever there are many to hold."""
    n = available.size
    if n == 0:
        return np.empty(0, dtype=np.int64)
    closes_by_time = np.searchsorted(available, available + window_s, side="right")
    nxt = np.minimum(closes_by_time, np.arange(n) + batch_size)
    starts = []
    i = 0
    while i < n:
        starts.append(i)
        i = int(nxt[i])
    return np.asarray(starts, dtype=np.int64)


def group_cumsum(values: np.ndarray, group_start: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each index where ``group_start`` is True."""
    total = np.cumsum(values)
    starts = np.flatnonzero(group_start)
    offsets = np.zeros_like(total)
    if starts.size:
        base = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
        marks = np.zeros_like(total)
        marks[starts] = np.diff(np.concatenate(([0.0], base)))
        offsets = np.cumsum(marks)
    return total - offsets


def varying_servers(
    available: np.ndarray,
    service: np.ndarray,
    knot_t: np.ndarray,
    knot_capacity: np.ndarray,
    free_capacity: float = -np.inf,
) -> tuple[np.ndarray, float]:
    """(start times, where the queue's work ends in capacity units) when the number of servers
    changes over time (an SQS mapping scaling its batches).

    The fluid approximation of ``many_servers``, generalised: ``knot_capacity`` is the cumulative
    server-seconds available by each time in ``knot_t`` (piecewise linear, increasing). In that
    clock the servers act as one of unit speed, so Lindley's recursion applies; a message starts
    when the capacity clock reaches the work queued ahead of it, then runs its own service time.
    With c constant servers this is exactly ``many_servers``' fluid branch. ``available`` sorted.
    """
    if available.size == 0:
        return np.empty(0), free_capacity
    arrive = np.interp(available, knot_t, knot_capacity)
    done = single_server(arrive, service, free_capacity)
    del arrive  # in place from here: a chunk's arrays are 40 MB each
    free_after = float(done[-1])
    done -= service  # when each begins, in capacity units
    begin = np.interp(done, knot_capacity, knot_t)
    del done
    return np.maximum(available, begin, out=begin), free_after
