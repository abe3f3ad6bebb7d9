"""Hybrid: events for latency, plus a slow reconciliation sweep for what the events missed.

The sweep is an ``S3Poller`` with a cursor and a grace period (``min_age_s``): a file younger than
``grace_s`` is left to the events. For each older new file the sweep claims it in the idempotency
ledger the handler writes to, under the same key recipe (``event_handlers.idempotency``): a file
already completed (or failed for good) is skipped; anything else is processed by the sweep, and
a file the sweep fails for good goes to the same dead-letter queue as the handler's, with the
reason. The records' ``path`` column says which path handled each file.
"""

from __future__ import annotations

import time
from typing import Any

from bench.live.strategies.base import RunContext, StrategyRun
from bench.live.strategies.events import S3LambdaRun
from bench.scenario.kinds import Kind
from bench.scenario.spec import HybridStrategy
from event_handlers.dlq import DeadLetter, SqsDeadLetterQueue
from event_handlers.errors import is_permanent
from event_handlers.idempotency import ObjectVersion
from event_handlers.ledger import Claim, SQLiteLedger
from event_handlers.storage import S3ObjectStore
from pollers import Entry, PollLoop, RetryPolicy, S3Poller


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
            cursor=spec.cursor,
            min_age_s=spec.grace_s,
            state_path=ctx.workdir / "sweep-state.json",
        )
        task = ctx.make_task()
        store = ctx.store("poller")
        dead_letters = SqsDeadLetterQueue(ctx.env.client("sqs", "poller"), self.events.dlq_url)
        # on a versioned bucket the handler keys by version id, which a listing does not show:
        # ask HeadObject for it (one request per file the sweep reconciles, versioned buckets only)
        versioning = ctx.env.client("s3", "setup").get_bucket_versioning(Bucket=ctx.env.bucket)
        versioned = versioning.get("Status") == "Enabled"

        def reconcile(entry: Entry) -> None:
            if versioned and isinstance(store, S3ObjectStore):
                version = store.describe(entry.key)
            else:
                version = ObjectVersion(ctx.env.bucket, entry.key, etag=entry.etag, size=entry.size)
            ledger_key = version.ledger_key
            claim = self.sweep_ledger.claim(ledger_key)
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
                    letter = DeadLetter(
                        reason, type(exc).__name__, "sweep", "sweep", ctx.env.bucket, entry.key
                    )
                    dead_letters.send(letter)  # first: a failure the DLQ did not take stays open
                    self.sweep_ledger.fail(ledger_key, reason)
                    ctx.recorder.failed(entry.key, reason, time.time())
                else:
                    self.sweep_ledger.release(ledger_key)
                raise
            self.sweep_ledger.complete(ledger_key)
            self.swept += 1
            ctx.recorder.succeeded(entry.key, time.time(), "sweep")

        self.sweep = PollLoop(
            self.sweeper,
            reconcile,
            interval_s=spec.sweep_interval_s,
            seed=ctx.seed,
            retry=RetryPolicy(max_attempts=3, retryable=lambda exc: not is_permanent(exc)),
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
