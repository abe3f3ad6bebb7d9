"""Strategy runs, one class per kind (the live facet of ``bench.kinds.REGISTRY``)."""

from __future__ import annotations

from typing import Any

from bench.live.strategies.base import RunContext, StrategyRun
from bench.live.strategies.events import (
    EventBridgeRun,
    InotifyRun,
    S3LambdaRun,
    SnsSqsLambdaRun,
    SqsLambdaRun,
)
from bench.live.strategies.hybrid import HybridRun
from bench.live.strategies.poll import PollRun, ScheduledPollRun
from bench.scenario.kinds import Kind

RUNS: dict[Kind, type[StrategyRun]] = {
    cls.kind: cls
    for cls in (
        PollRun,
        ScheduledPollRun,
        S3LambdaRun,
        SqsLambdaRun,
        SnsSqsLambdaRun,
        EventBridgeRun,
        InotifyRun,
        HybridRun,
    )
}


def make_strategy(spec: Any, ctx: RunContext) -> StrategyRun:
    return RUNS[Kind(spec.kind)](spec, ctx)


__all__ = ["RUNS", "RunContext", "StrategyRun", "make_strategy"]
