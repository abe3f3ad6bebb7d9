"""Who runs the deployed functions: AWS itself, or (on moto) the local runtime in Lambda's place.

moto stores functions but runs no code without Docker. ``LocalLambdaHost`` runs the *same*
entry point (``bench.aws.lambda_entry.build_handler``) with the same environment variables, fed
by moto's own deliveries (S3 and EventBridge pushes through ``moto_bridge``; the SQS queue polled
as the event source mapping would), and afterwards writes each invocation's REPORT line to the
function's log group, where the harness reads it back exactly as it reads Lambda's. The deployed
mapping is disabled while the local one consumes in its place (else moto would try Docker).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from bench.aws.deploy import Clients
from bench.aws.lambda_entry import build_handler
from bench.aws.plan import Plan, Resource, ResourceKind, StrategyTarget
from bench.aws.reports import Report, format_report
from bench.aws.routes import Delivery, aws_route
from bench.live.strategies.events import LOCAL_MAX_INVOKERS
from bench.scenario.spec import QueueLambdaStrategy, Strategy, async_part, spec_as
from event_handlers.runtime import moto_bridge
from event_handlers.runtime.async_invoke import AsyncConfig, AsyncInvoker, sqs_failure_sink
from event_handlers.runtime.function import FunctionConfig, LocalFunction
from event_handlers.runtime.sqs_mapping import SqsEventSourceMapping, SqsMappingConfig

if TYPE_CHECKING:
    from types_boto3_logs.type_defs import InputLogEventTypeDef

    from bench.live.clients import ClientFactory

log = logging.getLogger(__name__)
LOCAL_STREAM = "local-runtime"


class FunctionHost(Protocol):
    def start(self, target: StrategyTarget, spec: Strategy) -> None: ...

    def stop(self, target: StrategyTarget) -> None: ...


class AwsLambdaHost:
    """On a real account Lambda runs the functions: nothing to start or stop here."""

    def start(self, target: StrategyTarget, spec: Strategy) -> None:
        return None

    def stop(self, target: StrategyTarget) -> None:
        return None


class LocalLambdaHost:
    """The local runtime standing in for Lambda on moto (same process as moto's server)."""

    def __init__(self, plan: Plan, factory: ClientFactory, queue_urls: dict[str, str]) -> None:
        """``factory``: the strategy's counted clients; the handler's and the runtime's are counted apart."""
        self.plan, self.queue_urls = plan, queue_urls
        self.handler_clients, self.runtime_clients = Clients(factory, "handler"), Clients(factory, "runtime")
        self._running: dict[str, tuple[LocalFunction, Callable[[], None]]] = {}

    def _resource(self, kind: ResourceKind, strategy: str) -> Resource:
        return next(r for r in self.plan.of_kind(kind) if r.strategy == strategy)

    def start(self, target: StrategyTarget, spec: Strategy) -> None:
        if target.function is None:
            return
        function_spec = self._resource(ResourceKind.FUNCTION, target.strategy).spec
        environment = dict(function_spec["environment"])
        dlq_name = self._resource(ResourceKind.DLQ, target.strategy).name
        environment["PVE_DLQ_URL"] = self.queue_urls[dlq_name]  # moto's URL for the same queue
        config = FunctionConfig(
            name=target.function,
            memory_mb=function_spec["memory_mb"],
            timeout_s=float(function_spec["timeout_s"]),
            architecture=function_spec["architecture"],
            reserved_concurrency=function_spec["reserved_concurrency"],
            account_id=self.plan.account_id,
            region=self.plan.region,
        )
        function = LocalFunction(config, lambda: build_handler(environment, self.handler_clients))
        if aws_route(target.kind).delivery is Delivery.QUEUE:
            assert target.queue_url_name is not None
            lam = self.runtime_clients("lambda")
            for mapping in lam.list_event_source_mappings(FunctionName=target.function)[
                "EventSourceMappings"
            ]:
                lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
            queued = spec_as(spec, QueueLambdaStrategy)
            sqs_mapping = SqsEventSourceMapping(
                function,
                self.runtime_clients("sqs"),
                self.queue_urls[target.queue_url_name],
                SqsMappingConfig(
                    batch_size=queued.batch_size,
                    batching_window_s=queued.batching_window_s,
                    wait_time_s=min(queued.wait_time_s, 1),  # a short poll so that stop() is quick
                    pollers=queued.pollers,
                ),
            ).start()
            self._running[target.strategy] = (function, lambda: sqs_mapping.stop(timeout=2.0))
            return
        invoked = async_part(spec)  # S3 (or EventBridge) -> Lambda; a hybrid: its events part
        invoker = AsyncInvoker(
            function,
            AsyncConfig(
                max_retries=invoked.max_retries,
                retry_delays_s=(1.0, 2.0),
                workers=invoked.workers or 1,
                max_workers=None if invoked.workers else LOCAL_MAX_INVOKERS,
            ),
            on_failure=sqs_failure_sink(self.runtime_clients("sqs"), self.queue_urls[dlq_name]),
        ).start()
        moto_bridge.register_function(config.arn, invoker.submit)

        def stop() -> None:
            moto_bridge.unregister_function(config.arn)
            invoker.wait_idle(timeout=5)
            invoker.stop()

        self._running[target.strategy] = (function, stop)

    def stop(self, target: StrategyTarget) -> None:
        running = self._running.pop(target.strategy, None)
        if running is None:
            return
        function, stop = running
        stop()
        function.shutdown()
        self._write_reports(target, function)

    def _write_reports(self, target: StrategyTarget, function: LocalFunction) -> None:
        """Each invocation's REPORT line into the function's log group, as Lambda writes it."""
        lines = [
            (
                int(record.started_at * 1000),
                format_report(
                    Report(
                        request_id=record.request_id,
                        duration_ms=record.duration_ms,
                        billed_ms=record.billed_ms,
                        memory_mb=function.config.memory_mb,
                        max_memory_mb=0,
                        init_ms=record.init_ms if record.cold_start else 0.0,
                        status="" if record.ok else "error",
                    )
                ),
            )
            for record in function.records
        ]
        if not lines:
            return
        logs = self.runtime_clients("logs")
        group = f"/aws/lambda/{target.function}"
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):  # an earlier repetition's
            logs.create_log_stream(logGroupName=group, logStreamName=LOCAL_STREAM)
        events: list[InputLogEventTypeDef] = [{"timestamp": t, "message": m} for t, m in sorted(lines)]
        for start in range(0, len(events), 1000):
            logs.put_log_events(
                logGroupName=group, logStreamName=LOCAL_STREAM, logEvents=events[start : start + 1000]
            )
