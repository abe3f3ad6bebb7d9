"""Polling strategies: an always-on loop (``poll``) and a scheduled function (``scheduled-poll``)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from bench.cost.scaling import poll_workers
from bench.live.strategies.base import RunContext, StrategyRun, deploy_function, local_function, timed_task
from bench.scenario.kinds import Kind
from bench.scenario.seeds import poll_phase
from bench.scenario.spec import FOLDER_INBOX_DIRS, PollStrategy, Scenario, ScheduledPollStrategy
from event_handlers.errors import is_permanent
from event_handlers.idempotency import ObjectVersion
from event_handlers.ledger import SQLiteLedger
from pollers import CycleResult, Entry, FolderPoller, PollListener, PollLoop, RetryPolicy, S3Poller
from pollers.base import Poller
from pollers.eventbridge import MIN_SCHEDULE_S, make_scheduled_handler
from pollers.timing import FixedRateSchedule


class _Stamps(PollListener):
    """Stamps detection times, and keeps each cycle's start (the simulator's calibration uses them)."""

    def __init__(self, ctx: RunContext, to_key: Any) -> None:
        self.ctx, self.to_key = ctx, to_key
        self.cycle_starts: list[float] = []

    def files_detected(self, entries: Sequence[Entry], at: float) -> None:
        for entry in entries:
            self.ctx.recorder.detected(self.to_key(entry), at)

    def cycle_finished(self, cycle: CycleResult) -> None:
        self.cycle_starts.append(cycle.started_at)


LIVE_MAX_WORKERS = 16  # threads this machine runs for one poller, whatever the rate asks for
ASSUMED_SERVICE_S = (
    0.1  # assumption: per-file time used to size a live poller's workers (the simulator's default)
)


def live_workers(spec: PollStrategy, scenario: Scenario) -> int:
    """The scenario's workers, else enough for its arrival rate (``poll_workers``), at most 16 here."""
    if spec.workers is not None:
        return spec.workers
    rate = scenario.workload.arrivals.mean_rate_per_s() or 0.0
    return min(LIVE_MAX_WORKERS, poll_workers(rate * scenario.workload.time_scale, ASSUMED_SERVICE_S))


class PollRun(StrategyRun):
    """List every ``interval_s`` (S3Poller or FolderPoller) and process what is new, in order."""

    kind = Kind.POLL
    spec: PollStrategy

    def __init__(self, spec: PollStrategy, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.poller = self._make_poller()
        self.stamps = _Stamps(ctx, self._key)
        task = timed_task(ctx.make_task(), ctx.recorder, "poll")
        store = ctx.store("poller")

        def process(entry: Entry) -> None:
            task(store, self._key(entry))

        def on_failure(entry: Entry, exc: BaseException) -> None:
            ctx.recorder.failed(self._key(entry), f"{type(exc).__name__}: {exc}", time.time())

        # the event side's ledger, so a poller restarted after a crash repeats no effect; keyed by
        # the event side's recipe on S3 (bucket, key, etag, size), by path and version on a folder
        self.ledger = SQLiteLedger(ctx.workdir / "poll-ledger.sqlite")
        self.loop = PollLoop(
            self.poller,
            process,
            interval_s=spec.interval_s,
            jitter_s=spec.jitter_s,
            seed=ctx.seed,
            on_failure=on_failure,
            retry=RetryPolicy(max_attempts=spec.max_attempts, retryable=lambda exc: not is_permanent(exc)),
            workers=live_workers(spec, ctx.scenario),
            listener=self.stamps,
            ledger=self.ledger,
            ledger_key=self._ledger_key,
        )

    def _ledger_key(self, entry: Entry) -> str:
        env = self.ctx.env
        if env.kind == "folder":
            return f"{self.poller.source}/{entry.key}#{entry.version}"
        return ObjectVersion(env.bucket, entry.key, etag=entry.etag, size=entry.size).ledger_key

    def _make_poller(self) -> Poller:
        spec, ctx = self.spec, self.ctx
        options: dict[str, Any] = dict(
            cursor=spec.cursor,
            state_path=ctx.workdir / "poller-state.json",
            min_age_s=spec.min_age_s,
            lookback_s=spec.lookback_s,
            sweep_every=spec.sweep_every,
        )
        if ctx.env.kind == "folder":
            assert ctx.env.folder is not None
            root = ctx.watched_folder()
            return FolderPoller(
                root,
                # the workload writes ".name.part" and renames, so a new inode marks every
                # overwrite: an idle cycle needs no stat per file
                change_check="inode",
                processed_dir=ctx.env.folder / FOLDER_INBOX_DIRS[0],
                failed_dir=ctx.env.folder / FOLDER_INBOX_DIRS[1],
                **options,
            )
        return S3Poller(
            ctx.env.client("s3", "poller"),
            ctx.env.bucket,
            prefix=ctx.prefix,
            page_size=spec.page_size,
            claims_prefix=None,  # one poller per run: no claim PUT/DELETE (the cost model has none)
            **options,
        )

    def _key(self, entry: Entry) -> str:
        """Workload keys include the prefix; a folder poller's keys are relative to it."""
        return self.ctx.prefix + entry.key if self.ctx.env.kind == "folder" else entry.key

    def start(self) -> None:
        self.loop.start(phase_s=self.phase_s)

    def details(self) -> dict[str, Any]:
        return {
            "phase_s": round(self.phase_s, 6),
            "cycle_starts": [round(t, 6) for t in self.stamps.cycle_starts],
        }

    @property
    def phase_s(self) -> float:
        """Where the ticks fall relative to the writer's start: drawn from the seed unless given."""
        if self.spec.phase_s is not None:
            return float(self.spec.phase_s)
        return poll_phase(self.ctx.seed, self.spec.interval_s)

    def stop(self) -> None:
        self.loop.stop(timeout=30)
        self.ledger.close()

    def counters(self) -> dict[str, Any]:
        stats, loop = self.poller.stats, self.loop.stats
        return {
            "invocations": 0,
            "poll_cycles": stats.poll_cycles,
            "empty_polls": stats.empty_polls,
            "list_requests": stats.list_requests,
            "objects_scanned": stats.objects_scanned,
            "stat_calls": stats.stat_calls,
            "new_files": stats.new_files,
            "moved": stats.inbox.moved,
            "bytes_read": loop.bytes_read,
            "file_retries": loop.file_retries,
            "workers": self.loop.workers,
            "listing_errors": loop.listing.errors,
            "throttles": loop.listing.throttles,
            "late_cycles": loop.late_cycles,
            "max_lateness_s": round(loop.max_lateness_s, 6),
            "cursor_keys_remembered": self.poller.cursor.remembered,
            "ledger_duplicates_skipped": loop.duplicates_skipped,
            "ledger_claimed_elsewhere": loop.claimed_elsewhere,
            "listing_resumes": stats.listing_resumes,  # a failed page asked again from its token
            "symlinks_followed": stats.walk.symlinks_followed,
            "symlinks_refused": stats.walk.symlinks_refused,  # links that lead outside the root
            "stuck": loop.stuck,  # inbox files that could not be claimed or moved: failed once
        }


class ScheduledPollRun(StrategyRun):
    """The poll as a Lambda on an EventBridge schedule: one invocation per cycle, state in S3."""

    kind = Kind.SCHEDULED_POLL
    spec: ScheduledPollStrategy

    def setup(self) -> None:
        ctx, spec = self.ctx, self.spec
        config = deploy_function(ctx, self.spec.name, spec.function)
        state_path = f"s3://{ctx.env.bucket}/.pve/{spec.name}-cursor.json"
        task = timed_task(ctx.make_task(), ctx.recorder, "poll")
        store = ctx.store("poller")
        s3 = ctx.env.client("s3", "poller")
        self.last_stats: dict[str, int] = {"poll_cycles": 0, "empty_polls": 0, "new_files": 0}
        lock = threading.Lock()

        def make_poller() -> Poller:
            return S3Poller(s3, ctx.env.bucket, prefix=ctx.prefix, cursor=spec.cursor, state_path=state_path)

        def detected(entries: list[Entry]) -> None:
            now = time.time()
            for entry in entries:
                ctx.recorder.detected(entry.key, now)

        def process(entry: Entry) -> None:
            try:
                task(store, entry.key)
            except Exception as exc:
                ctx.recorder.failed(entry.key, f"{type(exc).__name__}: {exc}", time.time())
                raise

        handler = make_scheduled_handler(make_poller, process, on_detected=detected)

        def counted(event: Any, context: Any) -> Any:
            result = handler(event, context)
            with lock:
                self.last_stats["poll_cycles"] += 1
                self.last_stats["empty_polls"] += result["found"] == 0
                self.last_stats["new_files"] += result["found"]
            return result

        self.function = local_function(ctx, config, lambda: counted, spec.function, salt=7)
        self._stop = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._schedule, name="schedule", daemon=True)
        self._thread.start()

    def _schedule(self) -> None:
        schedule = FixedRateSchedule(self.spec.interval_s, time.monotonic())
        due = schedule.first_due()
        event = {"version": "0", "source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            with contextlib.suppress(Exception):  # counted by the runtime; the schedule goes on
                self.function.invoke(event)
            due = schedule.next_due(time.monotonic())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        self.function.shutdown()

    def counters(self) -> dict[str, Any]:
        return {**self.last_stats, **self.function.counters.snapshot()}

    def notes(self) -> list[str]:
        if self.spec.interval_s < MIN_SCHEDULE_S:
            return [
                f"{self.spec.name}: EventBridge schedules run at most once a minute; "
                f"an interval of {self.spec.interval_s:g}s runs here but is not deployable"
            ]
        return []
