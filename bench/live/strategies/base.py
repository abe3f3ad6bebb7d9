"""What every strategy run shares: its context, its lifecycle, and the clocks it stamps."""

from __future__ import annotations

import io
import json
import time
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from bench.errors import PathOutsideRootError
from bench.live.backends import BackendEnv
from bench.live.recorder import Recorder
from bench.scenario.kinds import Kind
from bench.scenario.spec import KIND_SPECS, FunctionSettings, Scenario
from event_handlers.dlq import DeadLetterSink, MemoryDeadLetters, SqsDeadLetterQueue
from event_handlers.events import S3ObjectEvent, parse_s3_event
from event_handlers.filters import KeyFilter
from event_handlers.handler import HandlerListener, S3EventHandler
from event_handlers.ledger import Claim, SQLiteLedger
from event_handlers.runtime.function import FunctionConfig, LocalFunction
from event_handlers.runtime.latency import LatencyProfile
from event_handlers.storage import LocalFolderStore, ObjectStore, S3ObjectStore
from event_handlers.tasks import Task, TaskResult, make_task
from pollers.errors import PathRefusedError
from pollers.paths import confine

OUTPUT_PREFIXES = {"csv-summary": "summaries/", "thumbnail": "thumbnails/", "noop": "out/"}


@dataclass
class RunContext:
    """Everything a strategy run may use; it owns none of it."""

    scenario: Scenario
    env: BackendEnv
    recorder: Recorder
    profile: LatencyProfile
    seed: int
    workdir: Path

    @property
    def prefix(self) -> str:
        return self.scenario.workload.prefix

    def make_task(self, trigger_filters: list[KeyFilter] | None = None) -> Task:
        options: dict[str, Any] = {}
        if self.scenario.task != "noop":
            options["output_prefix"] = OUTPUT_PREFIXES[self.scenario.task]
        if self.scenario.task == "thumbnail":
            options["trigger_filters"] = trigger_filters or []
        return make_task(self.scenario.task, **options)

    def watched_folder(self) -> Path:
        """The folder backend's watched folder (``<root>/<prefix>``), created, checked by the guard."""
        if self.env.folder is None:
            raise RuntimeError(f"backend {self.env.kind!r} has no folder")
        try:
            folder = confine(self.env.folder, self.prefix, what="workload.prefix", allow_empty=True)
        except PathRefusedError as exc:
            raise PathOutsideRootError(str(exc)) from None
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def store(self, role: str) -> ObjectStore:
        if self.env.kind == "folder":
            assert self.env.folder is not None
            return LocalFolderStore(self.env.folder, guard=confine)
        return S3ObjectStore(self.env.client("s3", role), self.env.bucket)

    def sampler(self, route: str, salt: int) -> Callable[[], float]:
        return self.profile.sampler(route, self.seed * 1000 + salt)

    def init_delay(self, settings: FunctionSettings, salt: int) -> Callable[[], float]:
        """The modelled INIT delay per cold start: explicit, else the profile's, else none."""
        if settings.init_delay_s > 0:
            return lambda: settings.init_delay_s
        return self.profile.cold_start_init().sampler(self.seed * 1000 + salt)


class StrategyRun(ABC):
    """``setup`` (deploy), ``start``, then the writer writes, then ``stop``; ``counters`` last."""

    kind: ClassVar[Kind]

    def __init__(self, spec: Any, ctx: RunContext) -> None:
        self.spec = spec
        self.ctx = ctx

    @property
    def routes(self) -> tuple[str, ...]:
        """The latency-profile routes this kind's delivery draws from, in hop order."""
        return KIND_SPECS[self.kind].routes

    def setup(self) -> None:  # noqa: B027 - most strategies need no deployment
        """Create what the strategy needs before the first file is written."""

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def counters(self) -> dict[str, Any]:
        """Strategy counters for ``summary.json`` (invocations, poll cycles, ...)."""

    def notes(self) -> list[str]:
        """Caveats a reader of the results should see (e.g. 'not deployable as configured')."""
        return []

    def details(self) -> dict[str, Any]:
        """Facts of this repetition that do not add up across repetitions (a poller's phase)."""
        return {}

    def finish(self) -> None:  # noqa: B027
        """After the drain: account for what only the end of a run can tell (DLQ contents)."""


def timed_task(task: Task, recorder: Recorder, path: str) -> Callable[[ObjectStore, str], TaskResult]:
    """Run ``task`` with start/finish stamps (for the poll side; the handler has its own hooks)."""

    def run(store: ObjectStore, key: str) -> TaskResult:
        recorder.started(key, time.time(), path)
        result = task(store, key)
        recorder.succeeded(key, time.time(), path)
        return result

    return run


class RecordingListener(HandlerListener):
    """Turns the handler's hooks into record stamps."""

    def __init__(self, recorder: Recorder, path: str) -> None:
        self.recorder, self.path = recorder, path
        self.duplicate_deliveries = 0

    def received(self, event: S3ObjectEvent) -> None:
        self.recorder.detected(event.key, time.time())

    def started(self, event: S3ObjectEvent) -> None:
        self.recorder.started(event.key, time.time(), self.path)

    def succeeded(self, event: S3ObjectEvent, result: TaskResult) -> None:
        self.recorder.succeeded(event.key, time.time(), self.path)

    def failed(self, event: S3ObjectEvent | None, reason: str, *, permanent: bool) -> None:
        if event is None:
            return
        if permanent:
            self.recorder.failed(event.key, reason, time.time())
        else:
            self.recorder.attempt_failed(event.key, reason)

    def duplicate(self, event: S3ObjectEvent, claim: Claim) -> None:
        self.duplicate_deliveries += 1


def make_handler_factory(
    ctx: RunContext,
    listener: RecordingListener,
    *,
    dead_letters: DeadLetterSink,
    ledger_path: Path,
    trigger_filters: list[KeyFilter] | None = None,
) -> Callable[[], S3EventHandler]:
    """What each new execution environment runs at INIT: build the handler and its clients."""

    def factory() -> S3EventHandler:
        store = ctx.store("handler")
        return S3EventHandler(
            ctx.make_task(trigger_filters),
            store_for=lambda bucket: store,
            ledger=SQLiteLedger(ledger_path),
            dead_letters=dead_letters,
            listener=listener,
        )

    return factory


def handler_dead_letters(ctx: RunContext, dlq_url: str | None) -> DeadLetterSink:
    if dlq_url is None:
        return MemoryDeadLetters()
    return SqsDeadLetterQueue(ctx.env.client("sqs", "handler"), dlq_url)


def create_queue(ctx: RunContext, name: str, attributes: dict[str, str] | None = None) -> tuple[str, str]:
    """(url, arn) of a new queue, created with the setup role."""
    sqs = ctx.env.client("sqs", "setup")
    url: str = sqs.create_queue(QueueName=name, Attributes=attributes or {})["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def deploy_function(ctx: RunContext, name: str, settings: FunctionSettings) -> FunctionConfig:
    """Create the function in the backend's Lambda, as a deployment would, and its local twin."""
    config = FunctionConfig(
        name=name,
        memory_mb=settings.memory_mb,
        timeout_s=settings.timeout_s,
        architecture=settings.architecture,
        reserved_concurrency=settings.reserved_concurrency,
        account_id=ctx.env.account_id,
        region=ctx.env.region,
    )
    iam = ctx.env.client("iam", "setup")
    role_arn = iam.create_role(
        RoleName=f"{name}-role",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr(
            "pve_handler.py", "from event_handlers.handler import lambda_handler  # noqa: F401\n"
        )
    lam = ctx.env.client("lambda", "setup")
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role_arn,
        Handler="pve_handler.lambda_handler",
        Code={"ZipFile": package.getvalue()},
        MemorySize=settings.memory_mb,
        Timeout=max(1, int(settings.timeout_s)),
        Architectures=[settings.architecture],
        Environment={"Variables": {"PVE_TASK": ctx.scenario.task}},
    )
    if settings.reserved_concurrency is not None:
        lam.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=settings.reserved_concurrency
        )
    return config


def local_function(
    ctx: RunContext, config: FunctionConfig, factory: Callable[[], Any], settings: FunctionSettings, salt: int
) -> LocalFunction:
    return LocalFunction(config, factory, init_delay=ctx.init_delay(settings, salt))


def keys_in_failure_record(record: dict[str, Any]) -> list[str]:
    """The object keys inside an async on-failure record (its ``requestPayload``)."""
    try:
        return [e.key for e in parse_s3_event(record.get("requestPayload"))]
    except ValueError:
        return []
