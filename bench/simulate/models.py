"""Each strategy as a model in virtual time: arrivals in, detection and finish times out.

Times are real seconds from the writer's start (scenario seconds divided by ``time_scale``), as
in a live run. Models take arrivals in chunks, in time order, and carry what a queue needs
from one chunk to the next (when the consumer is free, how many files were written so far).
``bench.simulate.queues`` says what is exact and what is approximated.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bench.cost.scaling import Stability, poll_workers, stability
from bench.cost.work import Work
from bench.errors import InputError
from bench.scenario.kinds import Kind, family
from bench.scenario.retention import Retention, StartState
from bench.scenario.spec import (
    KIND_SPECS,
    SWEEP_EVERY,
    AsyncLambdaStrategy,
    HybridStrategy,
    InotifyStrategy,
    PollStrategy,
    ScheduledPollStrategy,
    SnsSqsLambdaStrategy,
    SqsLambdaStrategy,
    Strategy,
    async_part,
)
from bench.simulate.queues import (
    bulk_batches,
    group_cumsum,
    many_servers,
    never_more_than,
    single_server,
    start_on_arrival,
    varying_servers,
    window_batches,
)
from bench.simulate.scaling import SqsTimeline
from event_handlers.runtime.latency import Distribution, LatencyProfile
from event_handlers.runtime.scaling import LAMBDA_RULES, function_concurrency_limit, sqs_mapping_cap

STATE_MS = 40.0  # a scheduled poller reads and writes its cursor object each invocation (assumed)
LAMBDA_LIMIT_S = 900.0  # Lambda's maximum timeout (Lambda quotas, "Function timeout: 900 seconds")


@dataclass
class SimContext:
    """What every model needs besides its own parameters."""

    profile: LatencyProfile
    processing: Distribution  # seconds per file
    list_base_s: float  # a listing's fixed time
    list_per_object_s: float  # and its time per object returned (moto scans; S3 pages)
    seed: int
    horizon_s: float  # the end of the simulated period (real seconds)
    outputs_per_file: int = 1
    file_size: float = 0.0  # mean bytes per file of the workload
    rate_per_s: float = 0.0  # mean arrival rate over the period (sizes a poller's workers)
    writer_lead_s: float = 0.2
    ticks: np.ndarray | None = None  # a live run's cycle starts, to replay its schedule exactly
    route_samples: dict[str, tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict
    )  # (delay, handler) pairs
    list_per_page_s: float = 0.0  # each ListObjectsV2 page of up to 1,000 keys
    bucket: StartState = field(default_factory=lambda: StartState("empty", Retention("keep"), 0.0, 0.0))
    work: Work | None = None  # the work model (CPU + wait seconds), when no processing time is given

    def listing_s(self, objects: np.ndarray) -> np.ndarray:
        """Seconds to list ``objects`` keys: the fixed time, each page's, and each object's."""
        return self.list_base_s + self.list_per_page_s * _pages(objects) + self.list_per_object_s * objects


@dataclass
class ChunkResult:
    detected: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    path: np.ndarray  # 0: the strategy's main path, 1: a hybrid's sweep; -1: never processed


@dataclass
class ModelTotals:
    counters: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    api_calls: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    why_not: list[str] = field(default_factory=list)  # why this configuration cannot run as modelled


class Model(ABC):
    path_names: tuple[str, ...] = ("events", "sweep")
    # CPU seconds per file relative to a poll's, to share strategies among worker processes
    # (bench.simulate.parallel); measured on the monthly scenario at 10M files a day, 2026-12-07
    # (per 10M files: polls 0.33 s, S3 -> Lambda 0.65 s, hybrid 0.72 s, SQS 1.4 s)
    relative_cost = 1.0
    on_lambda = True  # where the work runs: a Lambda function at its memory, or a full core
    memory_mb = 128

    def __init__(self, spec: Strategy, ctx: SimContext) -> None:
        self.spec, self.ctx = spec, ctx
        self.rng = np.random.default_rng(ctx.seed)
        self.totals = ModelTotals()

    @abstractmethod
    def chunk(self, arrivals: np.ndarray) -> ChunkResult: ...

    def finish(self, last_activity_s: float) -> ModelTotals:
        return self.totals

    route = ""

    @property
    def servers(self) -> float:
        """How many files the strategy can work on at once (its capacity, for the stability check)."""
        return math.inf

    def stability(self, rate_per_s: float) -> Stability:
        """Whether the strategy's servers keep up with ``rate_per_s`` over the run."""
        return stability(rate_per_s, self.mean_service(), self.servers)

    @property
    def work_s(self) -> float:
        """One file's work under the work model: ``bench.cost.lambda_duration_s`` at the function's
        memory on Lambda, CPU plus wait on a poller's core (what ``pve decide`` uses too)."""
        w = self.ctx.work
        assert w is not None
        return w.lambda_s(self.memory_mb) if self.on_lambda else w.ec2_s

    def mean_service(self) -> float:
        """The mean per-file work, as ``service`` draws it."""
        if self.ctx.work is not None:
            return self.work_s
        per_byte = float(self.ctx.processing.params.get("per_byte_s", 0.0))
        return float(self.ctx.processing.mean()) + per_byte * self.ctx.file_size

    def service(self, n: int) -> np.ndarray:
        """Per-file work: the task's processing time, plus ``per_byte_s`` of the processing spec
        times the workload's file size (big files take longer to stream and summarise); under the
        work model, ``work_s``."""
        if self.ctx.work is not None:
            return np.full(n, self.work_s)
        base = self.ctx.processing.sample(self.rng, n)
        per_byte = float(self.ctx.processing.params.get("per_byte_s", 0.0))
        return base + per_byte * self.ctx.file_size if per_byte else base

    def delay_and_service(self, route: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """A route's delivery delay and handler time: whole pairs from a live run when the profile
        was fitted to one (what a busy machine does to both is kept), else independent draws."""
        pairs = self.ctx.route_samples.get(route)
        if pairs is not None:
            pick = self.rng.integers(0, pairs[0].size, n)
            return pairs[0][pick], pairs[1][pick]
        return self.ctx.profile.distribution(route).sample(self.rng, n), self.service(n)

    def count_work(self, n: int, *, moved: bool = False) -> None:
        """The GET and output PUTs of ``n`` processed files, and their DELETE when the retention
        deletes processed files (unless the strategy already moved them out)."""
        self.totals.api_calls["s3.GetObject"] += n
        self.totals.api_calls["s3.PutObject"] += n * self.ctx.outputs_per_file
        if self.ctx.bucket.retention.kind == "delete" and not moved:
            self.totals.api_calls["s3.DeleteObject"] += n


# -- polling --------------------------------------------------------------------------------------------
MAX_POLL_CYCLES = 5e7  # one poller's schedule in a simulation: 800 MB of times and counts at most


class _Ticks:
    """A poller's schedule: live cycle starts when replaying a run, else phase + k * interval."""

    def __init__(self, interval: float, phase: float, ctx: SimContext, horizon: float) -> None:
        cycles = horizon / interval
        if cycles > MAX_POLL_CYCLES:  # 16 bytes a cycle: refuse before numpy asks for terabytes
            raise InputError(
                f"interval_s {interval:g} over {horizon:,.0f} s is {cycles:,.0f} poll cycles, more than "
                f"the {MAX_POLL_CYCLES:,.0f} a simulation holds: a longer interval_s or fewer --days"
            )
        if ctx.ticks is not None and ctx.ticks.size:
            extra = ctx.ticks[-1] + interval * np.arange(1, int((horizon - ctx.ticks[-1]) / interval) + 3)
            self.times = np.concatenate([ctx.ticks, extra])
        else:
            first = -ctx.writer_lead_s + phase
            self.times = first + interval * np.arange(int(max(0.0, horizon - first) / interval) + 3)
        self.found = np.zeros(self.times.size, dtype=np.int64)

    def first_at_or_after(self, t: np.ndarray) -> np.ndarray:
        """For sorted ``t``, the index of the first tick at or after each time."""
        counts = self.per_tick(t)
        return np.repeat(np.arange(self.times.size), counts)

    def window(self, t: np.ndarray) -> tuple[int, np.ndarray]:
        """``per_tick(t)`` where it may be non-zero: (the first tick at or after ``t[0]``, the
        counts from that tick to the first at or after ``t[-1]``); the ticks outside find nothing.
        A month of 1 s ticks is 2.6 million of them, and a chunk of arrivals spans a sixtieth."""
        if t.size == 0:
            return 0, np.zeros(0, dtype=np.int64)
        lo = int(np.searchsorted(self.times, t[0], side="left"))
        hi = int(np.searchsorted(self.times, t[-1], side="left")) + 1
        if hi > self.times.size:
            raise ValueError("arrivals beyond the simulated horizon")
        return lo, np.diff(np.searchsorted(t, self.times[lo:hi], side="right"), prepend=0)

    def per_tick(self, t: np.ndarray) -> np.ndarray:
        """How many of the sorted times ``t`` each tick finds (those since the tick before)."""
        below = np.searchsorted(t, self.times, side="right")  # K searches, not one per file
        if t.size and below[-1] < t.size:
            raise ValueError("arrivals beyond the simulated horizon")
        return np.diff(below, prepend=0)


def _pages(objects: np.ndarray) -> np.ndarray:
    return np.maximum(1, np.ceil(np.asarray(objects, dtype=float) / 1000.0))


def present_objects(
    bucket: StartState, times: np.ndarray, idx: np.ndarray, cumulative: np.ndarray, new: np.ndarray
) -> np.ndarray:
    """Objects in the watched prefix at ticks ``idx``: files written by then (``cumulative`` per
    tick) plus the start's, less what the retention removed. Under ``delete`` only the files not
    processed yet remain (``new``: those since the tick before); a lifecycle rule expires a file
    its lifetime after it was written (the start's files, of uniform age, expire at an even pace)."""
    life = bucket.retention.lifetime_s
    if life == 0:
        return np.asarray(new, dtype=float)
    present = cumulative[idx].astype(float)
    if bucket.initial_objects:
        if math.isinf(life):
            present += bucket.initial_objects
        else:
            elapsed = np.maximum(times[idx], 0.0)
            present += bucket.initial_objects * np.clip(1.0 - elapsed / life, 0.0, 1.0)
    if math.isfinite(life):
        j = np.searchsorted(times, times[idx] - life, side="right") - 1
        present -= np.where(j >= 0, cumulative[np.maximum(j, 0)], 0)
    return present


def _worst_window(values: np.ndarray, window: int) -> float:
    """The largest sum of ``window`` consecutive values (the whole sum if shorter)."""
    if values.size == 0:
        return 0.0
    if values.size <= window:
        return float(values.sum())
    total = np.concatenate(([0.0], np.cumsum(values)))
    return float(np.max(total[window:] - total[:-window]))


class PollModel(Model):
    """List at each tick, find what arrived since, process it with one consumer (FIFO)."""

    path_names: tuple[str, ...] = ("poll",)

    def __init__(
        self,
        spec: PollStrategy | ScheduledPollStrategy,
        ctx: SimContext,
        phase: float,
        *,
        scheduled: bool = False,
    ) -> None:
        super().__init__(spec, ctx)
        self.interval, self.cursor = float(spec.interval_s), str(spec.cursor)
        self.ticks = _Ticks(self.interval, phase, ctx, ctx.horizon_s)
        self.written = 0
        self.free_at = -math.inf
        self.scheduled = scheduled
        self.on_lambda = scheduled  # a scheduled poll is a function; a polling loop runs on EC2
        if isinstance(spec, PollStrategy):  # a loop on EC2: its sweep period and workers are settings
            self.sweep_every, stated = spec.sweep_every, spec.workers
            self.timeout_s = LAMBDA_LIMIT_S  # no function, no timeout of its own
        else:  # a function: its poller sweeps at start-after's default period (as its live run does)
            self.sweep_every, stated = SWEEP_EVERY, None
            self.memory_mb, self.timeout_s = spec.function.memory_mb, spec.function.timeout_s
        self.workers = int(stated) if stated else poll_workers(ctx.rate_per_s, self.mean_service())
        self.sized = not stated
        self.listing_utilisation = 0.0
        self.exact = True
        self.busy_ms = np.zeros(self.ticks.times.size if scheduled else 0)  # a scheduled poll's only

    def listed_objects(self, idx: np.ndarray, cumulative: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Keys listed at ticks ``idx``: the whole prefix for seen-set and watermark (and at
        start-after's full sweeps), only what came since the last cycle for inbox and start-after."""
        if self.cursor == "inbox":
            return np.asarray(new, dtype=float)
        present = present_objects(self.ctx.bucket, self.ticks.times, idx, cumulative, new)
        if self.cursor == "start-after":
            return np.where(idx % self.sweep_every == 0, present, np.asarray(new, dtype=float))
        return present

    @property
    def servers(self) -> float:
        return math.inf if self.scheduled else float(self.workers)

    def stability(self, rate_per_s: float) -> Stability:
        """The workers' utilisation, or the lister's (its worst listings over the time they have)
        when that is higher: a poller whose listings outgrow its interval falls behind for ever."""
        workers = super().stability(rate_per_s)
        if self.listing_utilisation > workers.utilisation:
            return Stability(self.listing_utilisation, 1.0)
        return workers

    def chunk(self, arrivals: np.ndarray) -> ChunkResult:
        n = arrivals.size
        lo, per_tick = self.ticks.window(arrivals)  # the ticks from lo on that find these files
        hi = lo + per_tick.size
        self.ticks.found[lo:hi] += per_tick
        self.written += n
        touched = np.flatnonzero(per_tick)
        new = per_tick[touched]
        touched += lo
        cumulative = np.cumsum(self.ticks.found[:hi])  # no tick after hi has found a file yet
        objects = self.listed_objects(touched, cumulative, new)
        del cumulative
        detected = np.repeat(self.ticks.times[touched] + self.ctx.listing_s(objects), new)
        service = self.service(n)
        if self.scheduled:  # one invocation per tick, each working through its own files
            k = np.repeat(np.arange(per_tick.size), per_tick)  # each file's tick (from lo)
            first = np.concatenate(([True], k[1:] != k[:-1]))
            finished = detected + group_cumsum(service, first)
            self.busy_ms[lo:hi] += np.bincount(k, weights=service * 1000.0, minlength=per_tick.size)
        elif self.workers == 1:
            finished = single_server(detected, service, self.free_at)
            self.free_at = float(finished[-1])
        else:  # a cycle's files shared by parallel workers
            start, exact = many_servers(detected, service, self.workers)
            self.exact &= exact
            finished = start + service
        self.count_work(n, moved=self.cursor == "inbox")
        if self.cursor == "inbox":
            self.totals.api_calls["s3.CopyObject"] += n
            self.totals.api_calls["s3.DeleteObject"] += n
        started = np.subtract(finished, service, out=service)  # in place: service is done with
        return ChunkResult(detected, started, finished, np.zeros(n, dtype=np.int8))

    def finish(self, last_activity_s: float) -> ModelTotals:
        times = self.ticks.times
        cycles = int(np.searchsorted(times, last_activity_s, side="right"))
        found = self.ticks.found[:cycles]
        objects = self.listed_objects(np.arange(cycles), np.cumsum(found), found)
        pages = _pages(objects)
        listing = self.ctx.listing_s(objects)
        totals = self.totals
        if self.sized and not self.scheduled:
            totals.notes.append(
                f"{self.spec.name}: {self.workers} workers, sized for "
                f"{self.ctx.rate_per_s:,.3g} files/s x {self.mean_service():.3g} s (poll_workers)"
            )
        totals.counters["workers"] = self.workers
        if not self.exact:
            totals.notes.append(
                f"{self.spec.name}: {self.workers} workers shared each cycle's files; "
                "waiting times are the fluid approximation"
            )
        totals.api_calls["s3.ListObjectsV2"] += int(pages.sum())
        totals.counters["poll_cycles"] += cycles
        totals.counters["empty_polls"] += int(np.sum(found == 0))
        totals.counters["list_requests"] += int(pages.sum())
        self._check_listing(listing, pages)
        if self.scheduled:  # each invocation lists, works, and reads and saves its cursor in S3
            invocation_ms = self.busy_ms[:cycles] + listing * 1000.0 + STATE_MS
            billed = np.ceil(invocation_ms)
            totals.counters["invocations"] += cycles
            totals.counters["billed_ms"] += int(billed.sum())
            totals.counters["gb_s"] += float(billed.sum()) / 1000.0 * self.memory_mb / 1024.0
            totals.api_calls["s3.GetObject"] += cycles
            totals.api_calls["s3.PutObject"] += cycles
            longest = float(invocation_ms.max(initial=0.0)) / 1000.0
            totals.counters["invocation_s_max"] = round(longest, 6)
            if longest > self.timeout_s:
                totals.why_not.append(
                    f"an invocation would run {longest:,.0f} s (listing, work and cursor), beyond its "
                    f"timeout of {self.timeout_s:g} s (Lambda's limit is 900 s)"
                )
        return totals

    def _check_listing(self, listing: np.ndarray, pages: np.ndarray) -> None:
        """A poller whose listings take longer than its interval cannot keep its schedule: its
        cycles fall further behind for ever. Start-after's full sweeps may overrun one cycle; over
        a sweep period the listings must still fit in that period."""
        counters = self.totals.counters
        counters["listing_s_max"] = round(float(listing.max(initial=0.0)), 6)
        counters["listing_s_mean"] = round(float(listing.mean()) if listing.size else 0.0, 6)
        counters["listing_pages_max"] = int(pages.max(initial=0))
        counters["cycles_listing_over_interval"] = int(np.sum(listing > self.interval))
        window = self.sweep_every if self.cursor == "start-after" else 1
        worst = _worst_window(listing, window)
        self.listing_utilisation = worst / (window * self.interval)  # the lister is a server too
        if worst > window * self.interval:
            per_page = self.ctx.list_per_page_s
            where = (
                f"{int(pages.max(initial=0)):,} pages x {per_page * 1000:g} ms"
                if per_page
                else f"{int(pages.max(initial=0)):,} pages"
            )
            span = f"{window} cycles' listings take" if window > 1 else "a listing takes"
            self.totals.why_not.append(
                f"{span} up to {worst:,.1f} s ({where} at the longest), more than the "
                f"{window * self.interval:g} s they have (interval {self.interval:g} s): "
                "the poller falls behind for ever"
            )


# -- events -----------------------------------------------------------------------------------------------
class AsyncEventModel(Model):
    """S3 (or EventBridge, or inotify) pushes each event after a delivery delay; each invocation
    may pay a cold start; up to the concurrency limit run at once."""

    relative_cost = 2.0

    def __init__(self, spec: AsyncLambdaStrategy | InotifyStrategy | HybridStrategy, ctx: SimContext) -> None:
        super().__init__(spec, ctx)
        self.route = KIND_SPECS[Kind(spec.kind)].routes[0]
        self.on_lambda = family(spec.kind).lambda_delivered  # inotify's handler is a local process
        self.limit = function_concurrency_limit(spec.function.reserved_concurrency)
        self.memory_mb = spec.function.memory_mb
        self.loss = spec.event_loss
        # an event's maximum age is the async invocation's (a hybrid's: its events part's); the
        # local inotify handler has none of its own and keeps Lambda's bound
        local = isinstance(spec, InotifyStrategy)
        age = LAMBDA_RULES.max_event_age_s.value if local else async_part(spec).max_event_age_s
        self.max_age = float(age)
        self.exact = True

    @property
    def servers(self) -> float:
        return float(self.limit)

    def deliver(self, arrivals: np.ndarray) -> ChunkResult:
        """Each event's delivery, start and finish. In place where the values allow it: a chunk's
        arrays are 40 MB each, and a month's peak memory is the most of them alive at once."""
        n = arrivals.size
        lost = self.rng.random(n) < self.loss if self.loss else None
        delay, busy = self.delay_and_service(self.route, n)
        available = np.add(arrivals, delay, out=delay)
        del delay
        hits, cold = self._cold(n)  # no cold start elsewhere: x + 0.0 is x, so nothing to add there
        busy[hits] += cold  # the handler's time, and the cold start's where there is one
        if lost is not None:
            available[lost] = np.inf  # never delivered: sorts last, never starts
        delivered = n if lost is None else n - int(lost.sum())
        notifications_lost = n - delivered
        if self.limit == 0:
            exact = True
        else:
            exact = never_more_than(
                np.sort(available, kind="stable")[:delivered], float(busy.max(initial=0.0)), self.limit
            )
        start = available
        if not exact:  # the lost sort last, at infinity
            order = np.argsort(available, kind="stable")[:delivered]
            begun, exact = many_servers(available[order], busy[order], self.limit)
            start = np.full(n, np.nan)
            start[order] = begun
        self.exact &= exact
        lost, delivered, start = self._expire(start, available, lost, delivered)
        counters = self.totals.counters
        if start is available:  # each started on delivery: none waited
            counters["throttled"] += 0
        else:
            waited = np.isfinite(start) & (start > available + 1e-9)
            counters["throttled"] += int(waited.sum())  # each at least once, then retried
        del available
        finished = start + busy
        billed = busy if lost is None else busy[~lost]
        billed *= 1000.0
        np.ceil(billed, out=billed)
        counters["invocations"] += delivered
        counters["cold_starts"] += (
            int(np.count_nonzero(cold)) if lost is None else int(np.count_nonzero(cold[~lost[hits]]))
        )
        counters["billed_ms"] += int(billed.sum())
        counters["gb_s"] += float(billed.sum()) / 1000.0 * self.memory_mb / 1024.0
        counters["notifications_lost"] += notifications_lost
        del busy, billed
        self.count_work(delivered)
        received = start  # start + cold, in place: start is this chunk's own array
        received[hits] += cold
        path = np.zeros(n, dtype=np.int8)
        if lost is not None:
            received[lost] = finished[lost] = np.nan
            path[lost] = -1
        return ChunkResult(received, received, finished, path)

    def _expire(
        self, start: np.ndarray, available: np.ndarray, lost: np.ndarray | None, delivered: int
    ) -> tuple[np.ndarray | None, int, np.ndarray]:
        """(lost, delivered, start) once the events throttled for longer than they may age are
        dropped (to the on-failure destination, if any); all of them when the limit is 0."""
        if start is available and self.limit > 0 and self.max_age >= 0:
            return lost, delivered, start  # each started on delivery: none aged
        with np.errstate(invalid="ignore"):  # lost events: inf - inf
            late = start - available > self.max_age  # throttled for longer than the event may age
        if self.limit == 0 or late.any():
            expired = np.isfinite(available) & (late | (self.limit == 0))
            self.totals.counters["event_age_exceeded"] += int(expired.sum())
            start = np.where(expired, np.inf, start)
            lost = expired if lost is None else (lost | expired)
            delivered = len(start) - int(lost.sum())
        return lost, delivered, start

    def _cold(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(which of ``n`` invocations pay a cold start, its time for each of them)."""
        p = self.ctx.profile.cold_start_probability
        if p <= 0:
            return np.empty(0, dtype=np.intp), np.empty(0)
        hits = np.flatnonzero(self.rng.random(n) < p)
        return hits, self.ctx.profile.cold_start_init().sample(self.rng, hits.size)

    def chunk(self, arrivals: np.ndarray) -> ChunkResult:
        return self.deliver(arrivals)

    def finish(self, last_activity_s: float) -> ModelTotals:
        if not self.exact:
            self.totals.notes.append(
                f"{self.spec.name}: the concurrency limit of {self.limit} was reached; "
                "waiting times are the fluid approximation"
            )
        return self.totals


class HybridModel(AsyncEventModel):
    """Events, and a sweep every ``sweep_interval_s`` that finds what the events lost, after a grace."""

    relative_cost = 2.2
    spec: HybridStrategy

    def __init__(self, spec: HybridStrategy, ctx: SimContext, phase: float) -> None:
        super().__init__(spec, ctx)
        self.sweep = _Ticks(
            float(spec.sweep_interval_s), phase, replace(ctx, ticks=None), ctx.horizon_s + float(spec.grace_s)
        )
        self.grace = float(spec.grace_s)
        self.free_at = -math.inf
        self.written = 0

    def chunk(self, arrivals: np.ndarray) -> ChunkResult:
        result = self.deliver(arrivals)
        lost = np.flatnonzero(result.path < 0)
        self.written += arrivals.size
        self.sweep.found += self.sweep.per_tick(arrivals)
        if lost.size:
            k = self.sweep.first_at_or_after(arrivals[lost] + self.grace)
            cumulative = np.cumsum(self.sweep.found)
            listed = self.ctx.listing_s(self.sweep_objects(k, cumulative, self.sweep.found[k]))
            detected = self.sweep.times[k] + listed  # the sweep's whole listing comes first
            service = self.service(lost.size)
            finished = single_server(detected, service, self.free_at)
            self.free_at = float(finished[-1])
            result.detected[lost], result.started[lost], result.finished[lost] = (
                detected,
                finished - service,
                finished,
            )
            result.path[lost] = 1
            self.count_work(lost.size)
            self.totals.counters["sweep_processed"] += int(lost.size)
        return result

    def sweep_objects(self, idx: np.ndarray, cumulative: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Keys a sweep lists: the whole prefix (seen-set, watermark), or what came since the sweep
        before (start-after, inbox)."""
        if self.spec.cursor in ("seen-set", "watermark"):
            return present_objects(self.ctx.bucket, self.sweep.times, idx, cumulative, new)
        return np.asarray(new, dtype=float)

    def finish(self, last_activity_s: float) -> ModelTotals:
        cycles = int(np.searchsorted(self.sweep.times, last_activity_s, side="right"))
        found = self.sweep.found[:cycles]
        objects = self.sweep_objects(np.arange(cycles), np.cumsum(found), found)
        pages = _pages(objects)
        listing = self.ctx.listing_s(objects)
        self.totals.api_calls["s3.ListObjectsV2"] += int(pages.sum())
        self.totals.counters["sweep_cycles"] += cycles
        self.totals.counters["sweep_list_requests"] += int(pages.sum())
        longest = float(listing.max(initial=0.0))
        self.totals.counters["listing_s_max"] = round(longest, 6)
        if longest > LAMBDA_LIMIT_S:
            self.totals.why_not.append(
                f"a reconciliation sweep lists {int(pages.max()):,} pages in {longest:,.0f} s, beyond "
                f"Lambda's {LAMBDA_LIMIT_S:g} s limit"
            )
        return super().finish(last_activity_s)


class SqsModel(Model):
    """S3 -> SQS -> Lambda's event source mapping: batches of up to B (a window waits for more),
    run by as many concurrent batches as the mapping has scaled to (``bench.simulate.scaling``),
    or by the scenario's fixed ``pollers``."""

    route = "sqs_to_lambda"
    to_queue = "s3_to_sqs"  # the profile route from the write to the message in the queue
    relative_cost = 4.3

    def __init__(self, spec: SqsLambdaStrategy | SnsSqsLambdaStrategy, ctx: SimContext) -> None:
        super().__init__(spec, ctx)
        self.batch = int(spec.batch_size)
        self.window = float(spec.batching_window_s)
        self.wait = int(spec.wait_time_s) or 1
        self.memory_mb = int(spec.function.memory_mb)
        reserved = spec.function.reserved_concurrency
        maximum, fixed = spec.maximum_concurrency, spec.pollers
        self.fixed = None if fixed is None else min(int(fixed), function_concurrency_limit(reserved))
        self.cap = self.fixed if self.fixed is not None else sqs_mapping_cap(maximum, reserved)
        self.timeline = SqsTimeline(
            -ctx.writer_lead_s,
            ctx.horizon_s,
            self.cap,
            fixed=self.fixed,
            maximum_concurrency_set=maximum is not None,
            wait_s=self.wait,
        )
        sqs = ctx.profile.extra.get("sqs")
        self.measured_queueing = bool(sqs.get("delays_include_queueing")) if isinstance(sqs, dict) else False
        self.free_capacity = -math.inf
        self.first = True

    @property
    def servers(self) -> float:
        return float(self.cap)

    def chunk(self, arrivals: np.ndarray) -> ChunkResult:
        n = arrivals.size
        profile = self.ctx.profile
        # in place where the values allow it: a chunk's arrays are 40 MB each (x + y is y + x)
        queued = profile.distribution(self.to_queue).sample(self.rng, n)
        queued += arrivals  # S3 (or its topic) -> the queue
        delay, service = self.delay_and_service("sqs_to_lambda", n)
        if self.window > 0:  # a batch closes when full or when its window ends, in queue order
            order = np.argsort(queued, kind="stable")
            arrivals = queued[order]
            del queued
            starts = window_batches(arrivals, self.batch, self.window)
            ends = np.append(starts[1:], n)
            closes = np.minimum(arrivals[starts] + self.window, arrivals[ends - 1])
            del arrivals
            available = np.repeat(closes, ends - starts)
            available += delay
            del delay
            if not self.measured_queueing:
                resort = np.argsort(available, kind="stable")
                order, available, service = order[resort], available[resort], service[resort]
                del resort
        else:  # below, everything is in the order the pollers see it; scattered back at the end
            available = queued  # delays are drawn independently of the order
            available += delay
            del queued, delay
            order = np.argsort(available, kind="stable")
            available = available[order]
            service = service[order]
        self.timeline.add(available, service)
        start = self._starts(available, service)
        if self.window > 0:
            batches = int(starts.size)
            receives = n  # each message arriving inside a window ends one long poll
        else:  # a message finding a poller idle opens a batch; those that waited go B at a time
            batches = bulk_batches(available, start, self.batch)
            receives = batches
        del available
        finished = start + service
        finite = np.isfinite(start)
        served_s = float(np.sum(service if finite.all() else service[finite]))  # the same sum either way
        del finite, service
        if self.first:  # the s3:TestEvent S3 sends when the rule is saved
            batches, receives, self.first = batches + 1, receives + 1, False
            self.totals.counters["records"] += 1
        started = np.empty(n)
        started[order] = start
        del start
        finished_in_order = np.empty(n)
        finished_in_order[order] = finished
        finished = finished_in_order
        del order
        done = np.isfinite(finished)
        totals = self.totals
        totals.counters["invocations"] += batches
        totals.counters["batches"] += batches
        totals.counters["records"] += n
        totals.counters["sqs_receives"] += receives
        billed = served_s * 1000.0 + 0.5 * batches
        totals.counters["billed_ms"] += int(billed)
        totals.counters["gb_s"] += billed / 1000.0 * self.memory_mb / 1024.0
        totals.api_calls["sqs.ReceiveMessage"] += receives
        totals.api_calls["sqs.DeleteMessageBatch"] += batches if self.batch <= 10 else math.ceil(n / 10)
        self.count_work(int(done.sum()))
        path = np.zeros(n, dtype=np.int8)
        path[~done] = -1
        return ChunkResult(started, started, finished, path)

    def _starts(self, available: np.ndarray, service: np.ndarray) -> np.ndarray:
        """When each message (in the pollers' order) starts: on arrival while the mapping's
        batches suffice, else when the scaling capacity clock reaches it (the fluid approximation)."""
        if self.measured_queueing or self.cap == 0:  # a calibrated profile's delays hold the waits
            return available if self.cap else np.full(available.size, np.nan)
        if start_on_arrival(available, service, self.timeline.lowest_since(available[0])):
            return available
        start, self.free_capacity = varying_servers(
            available, service, *self.timeline.knots(), self.free_capacity
        )
        return start

    def finish(self, last_activity_s: float) -> ModelTotals:
        timeline = self.timeline
        timeline.advance(last_activity_s)
        empty = round(timeline.empty_receives(last_activity_s))
        self.totals.counters["sqs_empty_receives"] += empty
        self.totals.counters["sqs_receives"] += empty
        self.totals.api_calls["sqs.ReceiveMessage"] += empty
        self.totals.counters["sqs_peak_batches"] = timeline.peak
        self.totals.counters["sqs_scale_ups"] = timeline.scale_ups
        self.totals.counters["cold_starts"] += (
            timeline.peak
        )  # one environment per concurrent batch, kept warm
        if self.fixed is not None:
            self.totals.notes.append(
                f"{self.spec.name}: a fixed {self.fixed} concurrent batches (the scenario's pollers), "
                "not AWS's scaling"
            )
        elif timeline.scale_ups:
            self.totals.notes.append(
                f"{self.spec.name}: the SQS mapping scaled from {timeline.levels[0]:.0f} to "
                f"{timeline.peak} concurrent batches (cap {self.cap}); waiting times while it "
                "scaled are the fluid approximation"
            )
        return self.totals


class SnsSqsModel(SqsModel):
    """S3 -> SNS -> SQS -> Lambda: the queue's model, with the topic's hop on the way to the queue
    (``s3_to_sns_to_sqs``: S3's notification, then SNS's delivery). Each notification is one SNS
    publish and one delivery: the ``records`` counter, priced by ``bench.cost.model.RUN_CHARGES``."""

    to_queue = "s3_to_sns_to_sqs"


# the simulate facet of bench.kinds.REGISTRY: kind -> (spec, context, poll phase) -> model
ModelFactory = Callable[[Any, SimContext, float], Model]
MODELS: dict[Kind, ModelFactory] = {
    Kind.POLL: lambda spec, ctx, phase: PollModel(spec, ctx, phase),
    Kind.SCHEDULED_POLL: lambda spec, ctx, phase: PollModel(spec, ctx, phase, scheduled=True),
    Kind.S3_LAMBDA: lambda spec, ctx, phase: AsyncEventModel(spec, ctx),
    Kind.S3_SQS_LAMBDA: lambda spec, ctx, phase: SqsModel(spec, ctx),
    Kind.S3_EVENTBRIDGE_LAMBDA: lambda spec, ctx, phase: AsyncEventModel(spec, ctx),
    Kind.S3_SNS_SQS_LAMBDA: lambda spec, ctx, phase: SnsSqsModel(spec, ctx),
    Kind.INOTIFY: lambda spec, ctx, phase: AsyncEventModel(spec, ctx),
    Kind.HYBRID: lambda spec, ctx, phase: HybridModel(spec, ctx, phase),
}


def make_model(spec: Strategy, ctx: SimContext, phase: float) -> Model:
    return MODELS[Kind(spec.kind)](spec, ctx, phase)
