"""The cost facet of each strategy kind: the AWS deployment a run's strategy stands for.

``deployment_for`` (in ``bench.cost.sweep``) gathers what every deployment shares (memory,
architecture, the per-file compute the run measured) and hands it to the kind's recipe here,
which adds the kind's own knobs from the strategy's parameters. A kind with no AWS bill (local
inotify) has no recipe: ``None``, stated, not missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.cost.model import Deployment, DeploymentKind
from bench.results.model import StrategyResult
from bench.scenario.kinds import Kind

# (the strategy's results, the fields every deployment shares) -> its deployment
DeploymentRecipe = Callable[[StrategyResult, dict[str, Any]], Deployment]


def _poll(s: StrategyResult, common: dict[str, Any]) -> Deployment:
    return Deployment.of(
        DeploymentKind.POLL_EC2,
        interval_s=float(s.parameters["interval_s"]),
        cursor=str(s.parameters.get("cursor", "seen-set")),
        sweep_every=int(s.parameters.get("sweep_every", 60)),
        instance="auto",  # the cheapest instance type that holds its CPU, memory and network
        **common,
    )


def _scheduled_poll(s: StrategyResult, common: dict[str, Any]) -> Deployment:
    return Deployment.of(
        DeploymentKind.POLL_SCHEDULED_LAMBDA,
        interval_s=max(60.0, float(s.parameters["interval_s"])),
        cursor=str(s.parameters.get("cursor", "watermark")),
        **common,
    )


def _queue_lambda(kind: DeploymentKind) -> DeploymentRecipe:
    """The recipe of a function fed by a queue (S3 -> SQS, or S3 -> SNS -> SQS): the mapping's knobs."""

    def recipe(s: StrategyResult, common: dict[str, Any]) -> Deployment:
        return Deployment.of(
            kind,
            batch_size=int(s.parameters.get("batch_size", 10)),
            batching_window_s=float(s.parameters.get("batching_window_s", 0.0)),
            sqs_pollers=max(5, int(s.parameters.get("pollers") or 5)),  # AWS starts five and scales up
            sqs_wait_s=int(s.parameters.get("wait_time_s", 20)),
            **common,
        )

    return recipe


def _hybrid(s: StrategyResult, common: dict[str, Any]) -> Deployment:
    return Deployment.of(
        DeploymentKind.HYBRID,
        sweep_interval_s=float(s.parameters.get("sweep_interval_s", 3600.0)),
        sweep_cursor=str(s.parameters.get("cursor", "watermark")),
        missed_share=s.counter("notifications_lost") / max(1, s.files),
        **common,
    )


DEPLOYMENTS: dict[Kind, DeploymentRecipe | None] = {
    Kind.POLL: _poll,
    Kind.SCHEDULED_POLL: _scheduled_poll,
    Kind.S3_LAMBDA: lambda s, common: Deployment.of(DeploymentKind.S3_LAMBDA, **common),
    Kind.S3_SQS_LAMBDA: _queue_lambda(DeploymentKind.S3_SQS_LAMBDA),
    Kind.S3_EVENTBRIDGE_LAMBDA: lambda s, common: Deployment.of(
        DeploymentKind.S3_EVENTBRIDGE_LAMBDA, **common
    ),
    Kind.S3_SNS_SQS_LAMBDA: _queue_lambda(DeploymentKind.S3_SNS_SQS_LAMBDA),
    Kind.INOTIFY: None,  # local kernel events: no AWS bill
    Kind.HYBRID: _hybrid,
}
