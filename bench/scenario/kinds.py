"""The strategy kinds, as one enum every stage keys its table by.

A kind's facets live with the stage that owns them (layering: scenario < results < cost <
{simulate, live, decide} < report, aws), each a table keyed by :class:`Kind`:

* scenario: its spec class, allowed backends and latency routes (``bench.scenario.spec.KIND_SPECS``),
  and how it learns of a file (``FAMILIES`` here: charts, reproduce, validate and capacity ask it);
* live: its run class (``bench.live.strategies.RUNS``), how many files it works on at once here
  (``bench.live.stability.SERVERS``) and how its route's own floor is played
  (``bench.live.route_floor.ROUTES``);
* simulate: its model (``bench.simulate.models.MODELS``) and how ``pve calibrate`` fits it
  (``bench.simulate.calibrate.CALIBRATION``);
* cost: the AWS deployment it stands for and what its run adds to the bill
  (``bench.cost.kinds.DEPLOYMENTS``, ``bench.cost.model.RUN_CHARGES``);
* aws: how it is planned, hosted and run on AWS (``bench.aws.routes.AWS_ROUTES``) and what an AWS
  run's estimate counts for it (``bench.aws.estimate.COUNTS``).

``bench.kinds.REGISTRY`` composes them into one row per kind, and a test walks every kind
through every facet. Adding a kind: add it here, then a row to each table (the test names
the table that lacks it). A stage asks its table with :func:`facet`, which raises
:class:`UnknownKindError` naming the kind and the table: nothing falls through to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from bench.errors import InputError

T = TypeVar("T")


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


class Family(StrEnum):
    """How a kind learns of a new file: what charts, reports and checks group kinds by."""

    POLL = "poll"  # a long-running loop on this machine lists the prefix every interval
    SCHEDULED = "scheduled"  # a scheduled function lists the prefix (one invocation a tick)
    EVENT = "event"  # a notification invokes a function asynchronously
    QUEUE = "queue"  # a notification is queued; a consumer receives it in batches
    LOCAL = "local"  # kernel events on this machine's folder

    @property
    def lists(self) -> bool:
        """It finds files by listing the prefix (its latency is a listing's, not a delivery's)."""
        return self in (Family.POLL, Family.SCHEDULED)

    @property
    def lambda_delivered(self) -> bool:
        """A notification reaches a function through AWS (directly or through a queue)."""
        return self in (Family.EVENT, Family.QUEUE)


FAMILIES: dict[Kind, Family] = {
    Kind.POLL: Family.POLL,
    Kind.SCHEDULED_POLL: Family.SCHEDULED,
    Kind.S3_LAMBDA: Family.EVENT,
    Kind.S3_SQS_LAMBDA: Family.QUEUE,
    Kind.S3_SNS_SQS_LAMBDA: Family.QUEUE,
    Kind.S3_EVENTBRIDGE_LAMBDA: Family.EVENT,
    Kind.INOTIFY: Family.LOCAL,
    Kind.HYBRID: Family.EVENT,  # S3 -> Lambda delivers; the sweep only reconciles
}


class UnknownKindError(InputError, LookupError):
    """A strategy kind a stage has no row for (a results file from a newer version, say)."""


def facet(table: Mapping[Kind, T], kind: str, name: str) -> T:
    """``table``'s row for ``kind`` (a :class:`Kind` or its string); an unknown kind raises,
    naming it and the table (``name``), instead of falling through to some default."""
    try:
        known = Kind(kind)
    except ValueError:  # the input names no kind: a one-line error, exit 2
        kinds = ", ".join(k.value for k in Kind)
        raise UnknownKindError(
            f"{name} has no row for strategy kind {str(kind)!r} (known: {kinds})"
        ) from None
    try:
        return table[known]
    except KeyError:  # a kind the table forgot: a bug, so a traceback, not an input error
        raise LookupError(f"{name} has no row for strategy kind {known.value!r}") from None


def family(kind: str) -> Family:
    """How ``kind`` learns of a new file; raises :class:`UnknownKindError` for an unknown kind."""
    return facet(FAMILIES, kind, "bench.scenario.kinds.FAMILIES")
