"""A deployment on AWS: its kind and its knobs, grouped by what they describe.

The knobs keep their flat names (the user's vocabulary: ``assumptions.toml`` keys, the search,
``--interval``/``--memory``, the JSON ``configuration``); ``Deployment.of(kind, **knobs)`` and
``d.with_(**knobs)`` are the one way to set one by that name: each is routed to its group, and an
unknown name raises. ``d.interval_s`` (any knob by its flat name) reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any, Literal

from bench.cost.work import Work, lambda_duration_s

LAMBDA_LOG_BYTES = 350  # START, END and REPORT lines of one invocation, without the handler's own logs

Retention = Literal["lifecycle", "keep"]


class DeploymentKind(StrEnum):
    """The deployments priced (the values are JSON output). What each one is, costs and can do is
    its row in ``bench.cost.deployments.ROWS``."""

    POLL_EC2 = "poll-ec2"
    POLL_SCHEDULED_LAMBDA = "poll-scheduled-lambda"
    S3_LAMBDA = "s3-lambda"
    S3_SQS_LAMBDA = "s3-sqs-lambda"
    S3_EVENTBRIDGE_LAMBDA = "s3-eventbridge-lambda"
    S3_SNS_SQS_LAMBDA = "s3-sns-sqs-lambda"  # fan-out: S3 -> SNS topic -> SQS queue -> Lambda
    HYBRID = "hybrid"


@dataclass(frozen=True)
class PollSettings:
    """How a poller (and the hybrid's sweep) lists: interval, cursor, host, listing's cost."""

    interval_s: float = 60.0
    cursor: str = "seen-set"
    sweep_every: int = 60  # a start-after cursor's full listing, every this many cycles
    instance: str = "t4g.nano"  # "auto": the cheapest type that holds the load
    public_ipv4: bool = True
    ebs_root_gb: float = 8.0  # the poller's root volume; 0 leaves it out
    list_ms_per_page: float = 200.0  # assumptions.toml's list_s_per_page (public measurements)
    list_cpu_s_per_page: float = 0.0  # CPU to parse one LIST page, at one full vCPU
    state_ms: float = 40.0  # a scheduled function's cursor read and write
    archive_processed: bool = True  # an inbox copies a processed file to an archive prefix
    peak_factor: float = 1.0  # the busiest hour's rate over the mean: what a poller is sized for


@dataclass(frozen=True)
class QueueSettings:
    """An SQS event source mapping."""

    batch_size: int = 10
    batching_window_s: float = 0.0
    sqs_pollers: int = 5
    sqs_wait_s: int = 20
    sqs_turnaround_s: float = 0.1


@dataclass(frozen=True)
class SweepSettings:
    """The hybrid's sweep, finding what notifications missed."""

    sweep_interval_s: float = 3600.0
    sweep_cursor: str = "start-after"
    missed_share: float = 0.0
    sweep_parallel: int = 1  # a full sweep split over this many prefixes, listed at once


@dataclass(frozen=True)
class FunctionSettings:
    """A Lambda function's configuration and what each invocation adds."""

    memory_mb: int = 128
    arch: str = "x86_64"
    init_s: float = 0.0  # an INIT phase's seconds
    cold_start_share: float = 0.0  # invocations that start a new environment (INIT billed)
    log_bytes_per_invocation: int = LAMBDA_LOG_BYTES


@dataclass(frozen=True)
class FileSettings:
    """The files: their size, the outputs each makes, how long inputs stay in the prefix."""

    file_size_mb: float = 0.1
    outputs_per_file: int = 1
    retention_days: float = 30.0
    retention: Retention = "lifecycle"
    delete_inputs: bool = False  # every input is deleted once processed (nothing stays to list or store)
    s3_storage: bool = False  # bill S3 storage of the inputs kept retention_days


@dataclass(frozen=True)
class NeedSettings:
    """What the requirements add (``bench.cost.fair`` sets them from ``bench.Requirements``); the
    defaults leave every such line out."""

    idempotency_ledger: bool = True
    ledger_writes_per_file: float = 2.0
    ledger_ttl_days: float = 0.0  # how long ledger items live (0: storage left out)
    azs: int = 1  # a poller's instances: at least one per Availability Zone
    network: str = "public"  # public IPv4, "nat" (private subnet, NAT gateway), "endpoint" (endpoints)
    encryption: str = "sse-s3"  # or "sse-kms", "sse-kms-bucket-key"
    log_bytes_per_file: float = 0.0  # the processing's own logs, on Lambda and on a poller alike


# group attribute -> its class, in the order the flat knobs were once listed
GROUPS: dict[str, type] = {
    "work": Work,
    "poll": PollSettings,
    "queue": QueueSettings,
    "sweep": SweepSettings,
    "function": FunctionSettings,
    "files": FileSettings,
    "needs": NeedSettings,
}
KNOB_GROUP: dict[str, str] = {f.name: group for group, cls in GROUPS.items() for f in fields(cls)}
# the knobs in the order 0.2.0's flat Deployment listed them (a JSON record keeps it)
KNOB_ORDER = [
    "interval_s",
    "cursor",
    "retention_days",
    "retention",
    "sweep_every",
    "memory_mb",
    "cpu_s",
    "wait_s",
    "arch",
    "instance",
    "public_ipv4",
    "ebs_root_gb",
    "batch_size",
    "batching_window_s",
    "sqs_pollers",
    "sqs_wait_s",
    "sqs_turnaround_s",
    "outputs_per_file",
    "list_ms_per_page",
    "state_ms",
    "sweep_interval_s",
    "sweep_cursor",
    "missed_share",
    "archive_processed",
    "log_bytes_per_invocation",
    "idempotency_ledger",
    "ledger_writes_per_file",
    "azs",
    "network",
    "encryption",
    "log_bytes_per_file",
    "file_size_mb",
    "s3_storage",
    "delete_inputs",
    "ledger_ttl_days",
    "peak_factor",
    "cold_start_share",
    "init_s",
    "list_cpu_s_per_page",
    "sweep_parallel",
]
assert sorted(KNOB_ORDER) == sorted(KNOB_GROUP), "every knob in KNOB_ORDER, once"


def unknown_knob(name: str) -> ValueError:
    return ValueError(f"unknown deployment knob {name!r}; known: {', '.join(sorted(KNOB_GROUP))}")


@dataclass(frozen=True)
class Deployment:
    """How a strategy would be deployed on AWS; the knobs that move its bill, by group.

    The per-file work is ``work`` (CPU seconds at one full vCPU plus I/O seconds): an EC2 poller
    pays the CPU in vCPU-seconds of its instance, a Lambda function runs it at its memory's share
    of a vCPU (``bench.cost.work.lambda_duration_s``).

    ``retention_days`` is how long processed files stay in the watched prefix (a poller that
    lists everything pays for every one of them, every cycle); ``retention`` says whether a
    lifecycle rule deletes them then (EventBridge bills an "Object Deleted" event for each) or
    they are kept. ``inbox`` moves them out, with a COPY to an archive prefix
    (``archive_processed``) or with a (free) DELETE alone.
    """

    kind: DeploymentKind
    name: str = ""
    work: Work = field(default_factory=Work)
    poll: PollSettings = field(default_factory=PollSettings)
    queue: QueueSettings = field(default_factory=QueueSettings)
    sweep: SweepSettings = field(default_factory=SweepSettings)
    function: FunctionSettings = field(default_factory=FunctionSettings)
    files: FileSettings = field(default_factory=FileSettings)
    needs: NeedSettings = field(default_factory=NeedSettings)

    @classmethod
    def of(cls, kind: DeploymentKind | str, name: str = "", **knobs: Any) -> Deployment:
        """A ``kind`` deployment with ``knobs`` set by their flat names (the rest at defaults)."""
        return cls(DeploymentKind(kind), name).with_(**knobs)

    def with_(self, **knobs: Any) -> Deployment:
        """This deployment with ``knobs`` set by their flat names (``kind`` and ``name`` too)."""
        top = {k: knobs.pop(k) for k in ("kind", "name") if k in knobs}
        by_group: dict[str, dict[str, Any]] = {}
        for knob, value in knobs.items():
            group = KNOB_GROUP.get(knob)
            if group is None:
                raise unknown_knob(knob)
            by_group.setdefault(group, {})[knob] = value
        changes: dict[str, Any] = {g: replace(getattr(self, g), **v) for g, v in by_group.items()}
        if "kind" in top:
            top["kind"] = DeploymentKind(top["kind"])
        return replace(self, **top, **changes) if top or changes else self

    def __getattr__(self, name: str) -> Any:
        """A knob read by its flat name (``d.memory_mb`` is ``d.function.memory_mb``)."""
        group = KNOB_GROUP.get(name)
        if group is None or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(object.__getattribute__(self, group), name)

    def knobs(self) -> dict[str, Any]:
        """Every knob by its flat name, with ``kind`` and ``name`` first (a JSON record)."""
        out: dict[str, Any] = {"kind": str(self.kind), "name": self.name}
        out.update({knob: getattr(getattr(self, KNOB_GROUP[knob]), knob) for knob in KNOB_ORDER})
        return out

    @property
    def lambda_s(self) -> float:
        """Seconds one file's work takes in this deployment's function."""
        return self.work.lambda_s(self.function.memory_mb)

    def list_s_per_page(self, on_lambda: bool) -> float:
        """Seconds one LIST page takes: the request, and parsing it at the caller's CPU (a Lambda
        function at its memory's share of a vCPU, an instance at a full one)."""
        cpu = self.poll.list_cpu_s_per_page
        if on_lambda:
            cpu = lambda_duration_s(cpu_s=cpu, wait_s=0.0, memory_mb=self.function.memory_mb)
        return self.poll.list_ms_per_page / 1000.0 + cpu

    @property
    def label(self) -> str:
        from bench.cost.deployments import row  # the table prices deployments: it imports this module

        if self.name:
            return self.name
        if row(self.kind).polls:
            return f"{self.kind} every {self.poll.interval_s:g}s"
        return str(self.kind)
