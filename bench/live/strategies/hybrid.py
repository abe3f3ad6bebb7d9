"""Hybrid: events for latency, plus a slow reconciliation sweep for what the events missed.

The sweep is an ``S3Poller`` with a cursor and a grace period (``min_age_s``): a file younger than
``grace_s`` is left to the events. For each older new file the sweep asks the idempotency ledger
the handler writes to: a file already completed (or failed for good) is skipped; anything else
is processed by the sweep. The records' ``path`` column says which path handled each file.
"""

from __future__ import annotations

import time
from typing import Any

from bench.live.strategies.base import RunContext, StrategyRun
from bench.live.strategies.events import S3LambdaRun
from bench.scenario.kinds import Kind
from bench.scenario.spec import HybridStrategy
from event_handlers.errors import is_permanent
from event_handlers.ledger import Claim, SQLiteLedger
from pollers import Entry, PollLoop, S3Poller


class HybridRun(StrategyRun):
    """An S3 -> Lambda run (its events path) beside a sweep: composed, each doing its own job."""

    kind = Kind.HYBRID
    spec: HybridStrategy

    def __init__(self, spec: HybridStrategy, ctx: RunContext) -> None:
        super().__init__(spec, ctx)
        self.events = S3LambdaRun(spec.events_part(), ctx)
        self.swept = 0
        self.already_done = 0

    def setup(self) -> None:
        self.events.setup()
        ctx, spec = self.ctx, self.spec
        self.sweep_ledger = SQLiteLedger(ctx.workdir / "ledger.sqlite")
        self.sweeper = S3Poller(
            ctx.env.client("s3", "poller"),
            ctx.env.bucket,
            prefix=ctx.prefix,
            strategy=spec.cursor,
            min_age_s=spec.grace_s,
            state_path=ctx.workdir / "sweep-state.json",
        )
        task = ctx.make_task()
        store = ctx.store("poller")

        def reconcile(entry: Entry) -> None:
            claim = self.sweep_ledger.begin(f"{ctx.env.bucket}/{entry.key}#{entry.etag}")
            if claim is not Claim.ACQUIRED:
                self.already_done += 1
                return
            ctx.recorder.detected(entry.key, time.time())
            ctx.recorder.started(entry.key, time.time(), "sweep")
            try:
                task(store, entry.key)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if is_permanent(exc):
                    self.sweep_ledger.fail(f"{ctx.env.bucket}/{entry.key}#{entry.etag}", reason)
                    ctx.recorder.failed(entry.key, reason, time.time())
                else:
                    self.sweep_ledger.release(f"{ctx.env.bucket}/{entry.key}#{entry.etag}")
                raise
            self.sweep_ledger.complete(f"{ctx.env.bucket}/{entry.key}#{entry.etag}")
            self.swept += 1
            ctx.recorder.succeeded(entry.key, time.time(), "sweep")

        self.sweep = PollLoop(
            self.sweeper,
            reconcile,
            interval_s=spec.sweep_interval_s,
            seed=ctx.seed,
            max_attempts=3,
            retryable=lambda exc: not is_permanent(exc),
        )

    def start(self) -> None:
        self.events.start()
        self.sweep.start()

    def stop(self) -> None:
        self.sweep.stop(timeout=30)
        self.events.stop()
        self.sweep_ledger.close()

    def notes(self) -> list[str]:
        return self.events.notes()

    def finish(self) -> None:
        self.events.finish()

    def counters(self) -> dict[str, Any]:
        stats = self.sweeper.stats
        return {
            **self.events.counters(),
            "sweep_cycles": stats.poll_cycles,
            "sweep_list_requests": stats.list_requests,
            "sweep_processed": self.swept,
            "sweep_already_done": self.already_done,
        }
