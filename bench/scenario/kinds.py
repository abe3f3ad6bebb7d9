"""The strategy kinds, as one enum every stage keys its table by.

A kind's facets live with the stage that owns them (layering: scenario < results < cost <
{simulate, live} < report), each a table keyed by :class:`Kind`:

* scenario: its spec class, allowed backends and latency routes (``bench.scenario.spec.KIND_SPECS``);
* live: its run class (``bench.live.strategies.RUNS``);
* simulate: its model (``bench.simulate.models.MODELS``) and how ``pve calibrate`` fits it
  (``bench.simulate.calibrate.CALIBRATION``);
* cost: the AWS deployment it stands for and what its run adds to the bill
  (``bench.cost.kinds.DEPLOYMENTS``, ``bench.cost.model.RUN_CHARGES``).

``bench.kinds.REGISTRY`` composes them into one row per kind, and a test walks every kind
through every facet. Adding a kind: add it here, then a row to each table (the test names
the table that lacks it).
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """How a strategy finds new files (the ``kind`` of a scenario's strategy)."""

    POLL = "poll"  # a long-running loop lists the prefix every interval
    SCHEDULED_POLL = "scheduled-poll"  # a scheduled function lists it (at most once a minute)
    S3_LAMBDA = "s3-lambda"  # S3 notification -> Lambda async invoke
    S3_SQS_LAMBDA = "s3-sqs-lambda"  # S3 notification -> SQS -> Lambda event source mapping
    S3_EVENTBRIDGE_LAMBDA = "s3-eventbridge-lambda"  # S3 -> EventBridge rule -> Lambda
    S3_SNS_SQS_LAMBDA = "s3-sns-sqs-lambda"  # S3 -> SNS topic -> SQS (fan-out) -> Lambda mapping
    INOTIFY = "inotify"  # local kernel events on a folder (watchdog)
    HYBRID = "hybrid"  # S3 -> Lambda plus a slow reconciliation sweep
