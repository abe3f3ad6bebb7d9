"""Did a live strategy keep up? The same check as the simulator's, with what ran on this machine.

Servers are what the local run had, not what AWS would have: a poller's worker threads, the async
invoker's threads (within the function's concurrency limit), the SQS mapping's pollers within
the local thread cap. A run that was unstable here may be stable on AWS: the note says which
servers were counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench.cost.scaling import Stability, stability
from bench.live.strategies.events import LOCAL_MAX_INVOKERS
from bench.live.strategies.poll import live_workers
from bench.results.model import StrategyResult
from bench.scenario.kinds import Kind, facet
from bench.scenario.spec import (
    AsyncLambdaStrategy,
    HybridStrategy,
    InotifyStrategy,
    PollStrategy,
    QueueLambdaStrategy,
    Scenario,
    ScheduledPollStrategy,
    Strategy,
    function_of,
)
from event_handlers.runtime.scaling import function_concurrency_limit, sqs_mapping_cap
from event_handlers.runtime.sqs_mapping import SqsMappingConfig


def _poller_servers(spec: PollStrategy, scenario: Scenario) -> float:
    return float(live_workers(spec, scenario))


def _tick_servers(spec: ScheduledPollStrategy, scenario: Scenario) -> float:
    return math.inf  # each tick is its own invocation


def _mapping_servers(spec: QueueLambdaStrategy, scenario: Scenario) -> float:
    reserved = spec.function.reserved_concurrency
    if spec.pollers is not None:
        return float(min(spec.pollers, function_concurrency_limit(reserved)))
    local = SqsMappingConfig().local_max_pollers
    return float(min(sqs_mapping_cap(spec.maximum_concurrency, reserved), local))


Invoked = AsyncLambdaStrategy | InotifyStrategy | HybridStrategy  # an invoker's threads run them


def _invoker_servers(spec: Invoked, scenario: Scenario) -> float:
    threads = spec.workers or LOCAL_MAX_INVOKERS  # None: the invoker grows up to its cap
    return float(min(function_concurrency_limit(spec.function.reserved_concurrency), threads))


# (the kind's spec, as its class: the table's type cannot say which, hence Any, scenario) -> servers
ServerCount = Callable[[Any, Scenario], float]

#: The stability facet: how many files a kind's live run could work on at once here.
SERVERS: dict[Kind, ServerCount] = {
    Kind.POLL: _poller_servers,
    Kind.SCHEDULED_POLL: _tick_servers,
    Kind.S3_LAMBDA: _invoker_servers,
    Kind.S3_SQS_LAMBDA: _mapping_servers,
    Kind.S3_EVENTBRIDGE_LAMBDA: _invoker_servers,
    Kind.S3_SNS_SQS_LAMBDA: _mapping_servers,
    Kind.INOTIFY: _invoker_servers,  # the watcher hands each file to the local invoker's threads
    Kind.HYBRID: _invoker_servers,
}


def local_servers(spec: Strategy, scenario: Scenario) -> float:
    """How many files the strategy could work on at once in a live run here."""
    return facet(SERVERS, spec.kind, "bench.live.stability.SERVERS")(spec, scenario)


def live_stability(spec: Strategy, scenario: Scenario, result: StrategyResult) -> Stability:
    """Utilisation = the scenario's arrival rate (real seconds) x the mean processing time measured
    / the local servers; for a replayed trace, the files over a repetition's wall time."""
    stated = scenario.workload.arrivals.mean_rate_per_s()
    if stated:
        rate = stated * scenario.workload.time_scale
    else:
        spans = [r.wall_s for r in result.repetitions]  # drain included: a lower bound of the rate
        files = result.files / max(1, len(spans))
        rate = files / max(spans) if spans and max(spans) > 0 else 0.0
    servers = local_servers(spec, scenario)
    if servers <= 0 and rate > 0:  # nothing measured a processing time: no server ever ran
        return Stability(math.inf, 0.0)
    return stability(rate, float(result.processing_s.mean or 0.0), servers)


def no_servers_note(spec: Strategy) -> str:
    """Why a strategy with no servers processed nothing (a reserved concurrency of 0)."""
    function = function_of(spec)
    reserved = function.reserved_concurrency if function is not None else None
    cause = (
        "its function's reserved_concurrency is 0, so Lambda throttles every invocation (on AWS too: "
        "a reserved concurrency of 0 stops a function)"
        if reserved == 0
        else "it had no servers to process them"
    )
    return f"{spec.name}: no file could be processed: {cause}"
