"""Event strategies: S3 -> Lambda, S3 -> SQS -> Lambda, S3 -> SNS -> SQS -> Lambda,
S3 -> EventBridge -> Lambda, inotify.

Each deploys what AWS would need (function, permissions, queues, notification rules) against the
backend, and runs the handler in the local runtime fed by moto's own deliveries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.live.strategies.base import (
    OUTPUT_PREFIXES,
    RecordingListener,
    StrategyRun,
    create_queue,
    deploy_function,
    handler_dead_letters,
    keys_in_failure_record,
    local_function,
    make_handler_factory,
)
from bench.scenario.kinds import Kind
from bench.scenario.spec import (
    AsyncLambdaStrategy,
    InotifyStrategy,
    QueueLambdaStrategy,
    SnsSqsLambdaStrategy,
)
from event_handlers.dlq import drain_queue, unresolved
from event_handlers.filters import KeyFilter
from event_handlers.folder_events import FolderEventSource
from event_handlers.ledger import SQLiteLedger
from event_handlers.permissions import FunctionGrants, attach_function_policy
from event_handlers.runtime import moto_bridge
from event_handlers.runtime.async_invoke import AsyncConfig, AsyncInvoker, sqs_failure_sink
from event_handlers.runtime.function import FunctionConfig, LocalFunction
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig
from event_handlers.trigger import (
    FanoutClients,
    NotificationRule,
    allow_s3_to_invoke_lambda,
    allow_s3_to_send_to_queue,
    configure_notifications,
    configure_s3_eventbridge_route,
    configure_s3_sns_sqs_route,
)

LOCAL_MAX_INVOKERS = 32  # invoker threads this machine runs for one async route (Lambda's limit is 1,000)


def _sum(*draws: Callable[[], float]) -> Callable[[], float]:
    """One delay made of consecutive hops (S3 to the queue, then the queue to Lambda)."""
    return lambda: sum(draw() for draw in draws)


def _completed_keys(ledger_path: Path, record: dict[str, Any]) -> set[str]:
    """Keys of an on-failure record whose object version the ledger says was processed."""
    from event_handlers.events import parse_s3_event

    try:
        events = parse_s3_event(record.get("requestPayload"))
    except ValueError:
        return set()
    ledger = SQLiteLedger(ledger_path)
    try:
        left = {id(e) for e in unresolved(events, ledger)}
    finally:
        ledger.close()
    return {e.key for e in events if id(e) not in left}


class _FunctionRun(StrategyRun):
    """Shared by the routes: a deployed function, its local twin, a dead-letter queue."""

    route = ""
    function: LocalFunction
    listener: RecordingListener

    def _deploy(self, trigger_filters: list[KeyFilter]) -> FunctionConfig:
        ctx, spec = self.ctx, self.spec
        self.config = deploy_function(ctx, spec.name, spec.function)
        self.dlq_url, self.dlq_arn = create_queue(ctx, f"{spec.name}-dlq")
        self.listener = RecordingListener(ctx.recorder, self.path)
        factory = make_handler_factory(
            ctx,
            self.listener,
            dead_letters=handler_dead_letters(ctx, self.dlq_url),
            ledger_path=ctx.workdir / "ledger.sqlite",
            trigger_filters=trigger_filters,
        )
        self.function = local_function(ctx, self.config, factory, spec.function, salt=1)
        return self.config

    def _grant(self, queue_arn: str | None = None) -> None:
        """The execution role's least-privilege policy (``event_handlers.permissions``)."""
        ctx = self.ctx
        grants = FunctionGrants(
            function_name=self.config.name,
            bucket=ctx.env.bucket,
            watched_prefix=ctx.prefix,
            output_prefix=None if ctx.scenario.task == "noop" else OUTPUT_PREFIXES[ctx.scenario.task],
            region=ctx.env.region,
            account_id=ctx.env.account_id,
            queue_arn=queue_arn,
            dlq_arn=self.dlq_arn,
        )
        attach_function_policy(ctx.env.client("iam", "setup"), f"{self.config.name}-role", grants)

    @property
    def path(self) -> str:
        return "events"

    def counters(self) -> dict[str, Any]:
        return {
            **self.function.counters.snapshot(),
            "duplicate_deliveries": self.listener.duplicate_deliveries,
        }

    def notes(self) -> list[str]:
        """Failed invocations, by error, so that a retry in the counts can be explained."""
        errors: dict[str, int] = {}
        for record in self.function.records:
            if not record.ok:
                errors[record.error[:200]] = errors.get(record.error[:200], 0) + 1
        return [
            f"{self.spec.name}: {n} invocation(s) failed with {error}" for error, n in sorted(errors.items())
        ]


class _AsyncRoute(_FunctionRun):
    """Routes where the function is invoked asynchronously (S3 and EventBridge push)."""

    spec: AsyncLambdaStrategy  # a hybrid's events run too, as its events_part()
    invoker: AsyncInvoker

    def _make_invoker(self, route: str, event_loss: float) -> AsyncInvoker:
        spec, ctx = self.spec, self.ctx
        runtime_sqs = ctx.env.client("sqs", "runtime")
        send = sqs_failure_sink(runtime_sqs, self.dlq_url)

        def on_failure(record: dict[str, Any]) -> None:
            send(record)
            reason = f"{record['requestContext']['condition']}: {record['responsePayload']['errorMessage']}"
            done = _completed_keys(ctx.workdir / "ledger.sqlite", record)
            for key in keys_in_failure_record(record):
                if key not in done:  # an invocation declared timed out after its record completed
                    ctx.recorder.failed(key, reason, time.time())

        return AsyncInvoker(
            self.function,
            AsyncConfig(
                max_retries=spec.max_retries,
                retry_delays_s=tuple(spec.retry_delays_s),
                max_event_age_s=spec.max_event_age_s,
                workers=spec.workers or 1,
                max_workers=None if spec.workers else LOCAL_MAX_INVOKERS,
            ),
            on_failure=on_failure,
            delivery_delay=ctx.sampler(route, salt=2),
            drop_probability=event_loss,
            seed=ctx.seed,
        )

    def start(self) -> None:
        self.invoker.start()

    def stop(self) -> None:
        moto_bridge.unregister_function(self.config.arn)
        self.invoker.wait_idle(timeout=5)
        self.invoker.stop()
        self.function.shutdown()

    def counters(self) -> dict[str, Any]:
        return {
            **super().counters(),
            "notifications_lost": len(self.invoker.lost),
            "peak_invokers": self.invoker.peak_workers,
        }


class S3LambdaRun(_AsyncRoute):
    """S3 notification -> Lambda async invoke (internal queue, retries, on-failure DLQ)."""

    kind = Kind.S3_LAMBDA
    spec: AsyncLambdaStrategy

    def setup(self) -> None:
        ctx = self.ctx
        rule_filter = KeyFilter(ctx.prefix)
        config = self._deploy([rule_filter])
        self._grant()
        allow_s3_to_invoke_lambda(
            config.name,
            ctx.env.bucket,
            account_id=ctx.env.account_id,
            lambda_client=ctx.env.client("lambda", "setup"),
        )
        self.invoker = self._make_invoker(self.routes[0], self.spec.event_loss)
        moto_bridge.register_function(config.arn, self.invoker.submit)
        configure_notifications(
            ctx.env.bucket,
            [NotificationRule(config.arn, filter=rule_filter)],
            s3_client=ctx.env.client("s3", "setup"),
        )


class EventBridgeRun(_AsyncRoute):
    """S3 -> EventBridge (default bus) -> rule -> Lambda async invoke."""

    kind = Kind.S3_EVENTBRIDGE_LAMBDA
    spec: AsyncLambdaStrategy

    def setup(self) -> None:
        ctx = self.ctx
        config = self._deploy([KeyFilter(ctx.prefix)])
        self._grant()
        self.invoker = self._make_invoker(self.routes[0], self.spec.event_loss)
        moto_bridge.register_function(config.arn, self.invoker.submit)
        configure_s3_eventbridge_route(
            ctx.env.bucket,
            config.arn,
            rule_name=f"{self.spec.name}-rule",
            prefix=ctx.prefix,
            events_client=ctx.env.client("events", "setup"),
            s3_client=ctx.env.client("s3", "setup"),
            lambda_client=ctx.env.client("lambda", "setup"),
        )


class SqsLambdaRun(_FunctionRun):
    """S3 notification -> SQS -> Lambda event source mapping (batches, partial failures, redrive)."""

    kind = Kind.S3_SQS_LAMBDA
    spec: QueueLambdaStrategy  # SqsLambdaStrategy; SnsSqsLambdaStrategy for the fan-out subclass

    def setup(self) -> None:
        ctx, spec = self.ctx, self.spec
        self._deploy([KeyFilter(ctx.prefix)])
        queue_attributes = {
            "VisibilityTimeout": str(spec.visibility_timeout_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": self.dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}
            ),
        }
        self.queue_url, queue_arn = create_queue(ctx, f"{spec.name}-queue", queue_attributes)
        self._grant(queue_arn)
        self._notify(queue_arn)
        self.mapping = SqsEventSourceMapping(
            self.function,
            ctx.env.client("sqs", "runtime"),
            self.queue_url,
            SqsMappingConfig(
                batch_size=spec.batch_size,
                batching_window_s=spec.batching_window_s,
                wait_time_s=spec.wait_time_s,
                pollers=spec.pollers,
                maximum_concurrency=spec.maximum_concurrency,
                scale_interval_s=60.0 / ctx.scenario.workload.time_scale,  # AWS's minute, in run time
            ),
            delivery_delay=_sum(*(ctx.sampler(r, salt) for r, salt in zip(self.routes, (6, 3), strict=True))),
        )

    def _notify(self, queue_arn: str) -> None:
        """Wire the bucket's notifications to the queue: S3 sends to it directly."""
        ctx = self.ctx
        allow_s3_to_send_to_queue(
            self.queue_url,
            queue_arn,
            ctx.env.bucket,
            ctx.env.account_id,
            sqs_client=ctx.env.client("sqs", "setup"),
        )
        configure_notifications(
            ctx.env.bucket,
            [NotificationRule(queue_arn, filter=KeyFilter(ctx.prefix))],
            s3_client=ctx.env.client("s3", "setup"),
        )

    def start(self) -> None:
        self.mapping.start()

    def stop(self) -> None:
        self.mapping.stop(timeout=0.5)
        self.function.shutdown()

    def finish(self) -> None:
        """Messages SQS redrove to the DLQ after maxReceiveCount failed for good: say so."""
        sqs = self.ctx.env.client("sqs", "runtime")
        # a message redriven while another receive held it comes back after the visibility timeout
        patience_s = self.spec.visibility_timeout_s + 2.0
        for message in drain_queue(sqs, self.dlq_url, patience_s=patience_s):
            self._account_dead_letter(message.get("Body", ""), message.get("MessageId", ""))

    def _account_dead_letter(self, body: str, message_id: str) -> None:
        """A redriven message fails its files with the last failure reason SQS did not keep,
        unless the ledger says they were processed (a batch timeout returns finished ones too)."""
        from event_handlers.events import parse_s3_event

        try:
            document = json.loads(body)
        except json.JSONDecodeError:
            return
        if isinstance(document, dict) and "reason" in document and "key" in document:
            return  # the handler's own dead letter; already recorded as failed
        try:
            events = parse_s3_event(document)
        except ValueError:
            return
        last = self.mapping.failure_reason(message_id) or "no failure reason was recorded"
        reason = f"redriven to the DLQ after {self.spec.max_receive_count} receives; last failure: {last}"
        ledger = SQLiteLedger(self.ctx.workdir / "ledger.sqlite")
        try:
            for event in unresolved(events, ledger):
                self.ctx.recorder.failed(event.key, reason, time.time())
        finally:
            ledger.close()

    def counters(self) -> dict[str, Any]:
        return {
            **super().counters(),
            "sqs_receives": self.mapping.receives,
            "sqs_empty_receives": self.mapping.empty_receives,
            "sqs_peak_batches": self.mapping.peak_batches,
            "sqs_local_cap_reached": int(self.mapping.local_cap_reached),
        }


class SnsSqsLambdaRun(SqsLambdaRun):
    """S3 notification -> SNS topic -> SQS (subscribed, raw delivery off by default) -> the same
    event source mapping: the fan-out route, where other consumers subscribe queues of their own.

    Only the wiring differs from ``SqsLambdaRun``: the queue's body is SNS's envelope, which the
    handler unwraps with ``parse_s3_event`` like any other."""

    kind = Kind.S3_SNS_SQS_LAMBDA
    spec: SnsSqsLambdaStrategy

    def _notify(self, queue_arn: str) -> None:
        ctx = self.ctx
        self.route_wiring = configure_s3_sns_sqs_route(
            ctx.env.bucket,
            self.queue_url,
            queue_arn,
            topic_name=f"{self.spec.name}-topic",
            account_id=ctx.env.account_id,
            prefix=ctx.prefix,
            raw_message_delivery=self.spec.raw_message_delivery,
            clients=FanoutClients(
                s3=ctx.env.client("s3", "setup"),
                sns=ctx.env.client("sns", "setup"),
                sqs=ctx.env.client("sqs", "setup"),
            ),
        )


class InotifyRun(_FunctionRun):
    """Local folder: inotify (watchdog) -> the same async runtime and handler."""

    kind = Kind.INOTIFY
    spec: InotifyStrategy

    def setup(self) -> None:
        ctx, spec = self.ctx, self.spec
        assert ctx.env.folder is not None
        self.config = FunctionConfig(
            name=spec.name,
            memory_mb=spec.function.memory_mb,
            timeout_s=spec.function.timeout_s,
            architecture=spec.function.architecture,
            reserved_concurrency=spec.function.reserved_concurrency,
        )
        self.listener = RecordingListener(ctx.recorder, self.path)
        factory = make_handler_factory(
            ctx,
            self.listener,
            dead_letters=handler_dead_letters(ctx, None),
            ledger_path=ctx.workdir / "ledger.sqlite",
        )
        self.function = local_function(ctx, self.config, factory, spec.function, salt=4)
        self.invoker = AsyncInvoker(
            self.function,
            AsyncConfig(retry_delays_s=(1.0, 2.0), workers=spec.workers),
            delivery_delay=ctx.sampler(self.routes[0], salt=5),
            seed=ctx.seed,
        )
        watched = ctx.watched_folder()
        self.source = FolderEventSource(
            watched, self.invoker.submit, bucket_name=str(ctx.env.folder), key_prefix=ctx.prefix
        )

    def start(self) -> None:
        self.invoker.start()
        self.source.start()

    def stop(self) -> None:
        self.source.stop()
        self.invoker.wait_idle(timeout=5)
        self.invoker.stop()
        self.function.shutdown()

    def counters(self) -> dict[str, Any]:
        return {**super().counters(), "announced": self.source.announced}
