"""Scenario files: what to run, validated with errors that name the file and the field.

A scenario is TOML: a workload (arrivals, contents, keys), the strategies to run on it with
their parameters, a backend, a latency profile, a task, repetitions and a seed. Bundled
scenarios live in ``bench/scenarios/``; a path to your own file works wherever a name does.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bench.errors import InputError, parse_nested
from bench.requirements import Requirements, RequirementsError
from bench.scenario.bounds import (
    MAX_FILES_PER_DAY,
    MAX_GAP_S,
    MAX_NAME_LENGTH,
    MAX_OBJECT_BYTES,
    MAX_SPAN_S,
    MIN_INTERVAL_S,
    MIN_TIME_SCALE,
)
from bench.scenario.kinds import Kind
from pollers.paths import key_problem

Backend = Literal["moto", "moto-server", "moto-process", "folder"]
CursorName = Literal["seen-set", "watermark", "start-after", "inbox"]


# Bounds that keep a typo from planning a run that lasts for days, each with its reason, live in
# bench.scenario.bounds (the flags read them too); MAX_GAP_S and the others stay importable here.
MAX_RATE_PER_S = MAX_FILES_PER_DAY / 86400.0
# start-after's full listing every this many cycles: a poll's default, and a scheduled poll's always
# (its live poller keeps the cursor's own default, pollers.cursors.StartAfterCursor)
SWEEP_EVERY = 60
Delay = Annotated[float, Field(ge=0, le=21600, allow_inf_nan=False)]  # a retry delay (AWS: at most 6 h)


class ScenarioError(InputError):
    """A scenario that cannot be run; the message names the file and every bad field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)  # NaN passes every bound


# -- workload ----------------------------------------------------------------------------------
class Arrivals(_Strict):
    """When files arrive, in scenario seconds (divided by ``time_scale`` to run)."""

    process: Literal["constant", "poisson", "bursts", "onoff", "diurnal", "replay"]
    count: int | None = Field(None, gt=0, description="number of files (or use duration_s)")
    duration_s: float | None = Field(None, gt=0, le=MAX_SPAN_S, description="arrivals stop after this")
    rate_per_s: float | None = Field(None, gt=0, le=MAX_RATE_PER_S, description="mean arrival rate")
    burst_size: int = Field(10, gt=0)
    burst_interval_s: float = Field(5.0, gt=0, le=MAX_GAP_S)
    burst_spread_s: float = Field(0.0, ge=0, le=MAX_GAP_S, description="spread of one burst's files")
    on_s: float = Field(10.0, gt=0, le=MAX_GAP_S)
    off_s: float = Field(10.0, gt=0, le=MAX_GAP_S)
    period_s: float = Field(86400.0, gt=0, le=MAX_GAP_S, description="diurnal period")
    peak_to_trough: float = Field(10.0, ge=1, description="diurnal peak rate / trough rate")
    replay_path: str | None = None

    def mean_rate_per_s(self) -> float | None:
        """Files per scenario second over the whole arrival period (None for a replayed trace)."""
        if self.process == "replay":
            return None
        rate = (
            self.burst_size / self.burst_interval_s
            if self.process == "bursts"
            else float(self.rate_per_s or 0)
        )
        if self.process == "onoff":
            rate *= self.on_s / (self.on_s + self.off_s)
        return rate

    @model_validator(mode="after")
    def _check(self) -> Arrivals:
        if self.process == "replay":
            if not self.replay_path:
                raise ValueError("process 'replay' needs replay_path (a CSV with arrival_s and size_bytes)")
            return self
        if self.count is None and self.duration_s is None:
            raise ValueError("give count or duration_s")
        if self.rate_per_s is None and self.process != "bursts":
            raise ValueError(f"process {self.process!r} needs rate_per_s")
        return self


class Content(_Strict):
    """What each file contains."""

    kind: Literal["csv", "image", "bytes"] = "csv"
    rows: int = Field(50, ge=0)
    columns: int = Field(5, ge=1)
    width: int = Field(640, gt=0)
    height: int = Field(480, gt=0)
    size_bytes: int = Field(1024, ge=0, le=MAX_OBJECT_BYTES, description="for kind 'bytes'")
    corrupt_every: int = Field(0, ge=0, description="every Nth file is corrupt (0: none)")


class Workload(_Strict):
    arrivals: Arrivals
    content: Content = Content()
    prefix: str = "incoming/"
    key_style: Literal["plain", "odd"] = Field(
        "plain", description="'odd' puts spaces, +, %, unicode and emoji in some keys"
    )
    time_scale: float = Field(1.0, ge=MIN_TIME_SCALE, le=1e9, description="scenario seconds per real second")

    @field_validator("prefix")
    @classmethod
    def _confined_prefix(cls, prefix: str) -> str:
        """Keys are written, listed and moved under the backend's root (a folder, for the folder
        backend): a prefix that could leave it is refused here, before any work."""
        problem = key_problem(prefix, allow_empty=True)
        if problem is not None:
            raise ValueError(
                f"workload.prefix {prefix!r:.80} {problem}: keys must stay under the backend's root"
            )
        return prefix


# -- strategies ----------------------------------------------------------------------------------
def _not_dots(name: str) -> str:
    """A name becomes a folder or file name (``results/<name>/``): ``.`` or ``..`` would leave it."""
    if not name.strip("."):
        raise ValueError(f"name {name!r} is only dots; it would name a parent folder")
    return name


class _Strategy(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[A-Za-z0-9._-]+$")
    backend: Backend | None = Field(None, description="this strategy's backend, if not the scenario's")

    _name_not_dots = field_validator("name")(_not_dots)

    @property
    def settings_hold_s(self) -> float:
        """Seconds its own settings hold a new file back by design (a poller's cycle, a queue's
        batching window); a delivery route's delay is the latency profile's, not a setting."""
        return 0.0


class FunctionSettings(_Strict):
    """A Lambda function's deployment settings (for the event routes and scheduled polls)."""

    memory_mb: int = Field(128, ge=128, le=10240)
    timeout_s: float = Field(30.0, gt=0, le=900)
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    reserved_concurrency: int | None = Field(None, ge=0)
    init_delay_s: float = Field(0.0, ge=0, le=900, description="modelled INIT time added to each cold start")


class PollStrategy(_Strategy):
    kind: Literal["poll"]
    interval_s: float = Field(ge=MIN_INTERVAL_S, le=MAX_GAP_S)
    phase_s: float | None = Field(
        None, ge=0, le=MAX_GAP_S, description="delay of the first poll; default: random in [0, interval)"
    )
    cursor: CursorName = "seen-set"
    min_age_s: float = Field(0.0, ge=0, le=MAX_GAP_S)
    jitter_s: float = Field(0.0, ge=0, le=MAX_GAP_S)
    page_size: int = Field(1000, ge=1, le=1000)
    lookback_s: float = Field(900.0, ge=0)
    sweep_every: int = Field(SWEEP_EVERY, ge=1)
    max_attempts: int = Field(3, ge=1, description="tries per file before it counts as failed")
    workers: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="threads processing one cycle's files; default: sized for the arrival rate "
        "(bench.cost.scaling.poll_workers)",
    )

    @property
    def settings_hold_s(self) -> float:
        """A file written just after a cycle waits for the next, then until it is old enough and
        the jitter has passed."""
        return self.interval_s + self.min_age_s + self.jitter_s


class ScheduledPollStrategy(_Strategy):
    kind: Literal["scheduled-poll"]
    interval_s: float = Field(ge=MIN_INTERVAL_S, le=MAX_GAP_S)
    cursor: CursorName = "watermark"
    function: FunctionSettings = FunctionSettings()

    @property
    def settings_hold_s(self) -> float:
        return self.interval_s  # a file written just after a tick waits for the next


class _EventStrategy(_Strategy):
    function: FunctionSettings = FunctionSettings()
    event_loss: float = Field(
        0.0, ge=0, le=1, description="drop this share of notifications (tests reconciliation)"
    )


class AsyncLambdaStrategy(_EventStrategy):
    """A function invoked asynchronously by S3 itself or by an EventBridge rule: the same knobs."""

    kind: Literal["s3-lambda", "s3-eventbridge-lambda"]
    max_retries: int = Field(2, ge=0, le=2)
    retry_delays_s: tuple[Delay, Delay] = (60.0, 120.0)
    max_event_age_s: float = Field(21600.0, gt=0, le=21600)
    workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="local threads running invocations, fixed; default: grow while events wait, "
        "up to 32 here (the function's concurrency limit throttles beyond it, as on AWS)",
    )


S3LambdaStrategy = AsyncLambdaStrategy  # the two specs were identical; both names stay
EventBridgeStrategy = AsyncLambdaStrategy


class QueueLambdaStrategy(_EventStrategy):
    """A function fed by an SQS queue through Lambda's event source mapping (the queue's knobs)."""

    batch_size: int = Field(10, ge=1, le=10000)
    batching_window_s: float = Field(0.0, ge=0, le=300)
    wait_time_s: int = Field(20, ge=0, le=20)
    visibility_timeout_s: int = Field(30, ge=0, le=43200)
    max_receive_count: int = Field(3, ge=1, le=1000)
    pollers: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="override: a fixed number of concurrent batches; default: AWS's scaling (five, "
        "up to 300 more a minute while messages wait, at most 1,000)",
    )
    maximum_concurrency: int | None = Field(
        None, ge=2, le=1000, description="the mapping's ScalingConfig.MaximumConcurrency (2-1,000)"
    )

    @model_validator(mode="after")
    def _batch_window(self) -> QueueLambdaStrategy:
        # Lambda guide, "Using Lambda with Amazon SQS" (read 2026-12-07): a batch of more than 10
        # needs MaximumBatchingWindowInSeconds of at least 1 s; refused here, not at setup
        if self.batch_size > 10 and self.batching_window_s <= 0:
            raise ValueError(
                f"batch_size {self.batch_size} needs batching_window_s > 0 (a batch above 10 "
                "messages waits for a window, as on AWS)"
            )
        return self

    @property
    def settings_hold_s(self) -> float:
        return self.batching_window_s  # a batch stays open for its window


class SqsLambdaStrategy(QueueLambdaStrategy):
    """S3 notifies the queue itself."""

    kind: Literal["s3-sqs-lambda"]


class SnsSqsLambdaStrategy(QueueLambdaStrategy):
    """S3 notifies an SNS topic, the topic fans out to the queue (one queue per consumer): the
    route AWS recommends when more than one consumer needs the same object events, since S3 allows
    one destination per event type and overlapping prefix (Amazon S3 User Guide, "Amazon S3 Event
    Notifications", and Amazon SNS Developer Guide, "Fanout to Amazon SQS queues", read 2026-12-07).
    """

    kind: Literal["s3-sns-sqs-lambda"]
    raw_message_delivery: bool = Field(
        False,
        description="the subscription's RawMessageDelivery: off (the default, as on AWS), the queue "
        "gets SNS's JSON envelope whose Message is the S3 event; on, the S3 event itself",
    )


class InotifyStrategy(_EventStrategy):
    kind: Literal["inotify"]
    workers: int = Field(4, ge=1, le=64)


class HybridStrategy(_EventStrategy):
    kind: Literal["hybrid"]
    sweep_interval_s: float = Field(ge=MIN_INTERVAL_S, le=MAX_GAP_S)
    cursor: CursorName = "watermark"
    grace_s: float = Field(5.0, ge=0, le=MAX_GAP_S, description="a file this young is left to the events")
    max_retries: int = Field(2, ge=0, le=2)
    retry_delays_s: tuple[Delay, Delay] = (60.0, 120.0)
    workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="local threads running invocations, fixed; default: grow while events wait, "
        "up to 32 here (the function's concurrency limit throttles beyond it, as on AWS)",
    )

    def events_part(self) -> AsyncLambdaStrategy:
        """The S3 -> Lambda route a hybrid runs beside its sweep, with the hybrid's settings."""
        return AsyncLambdaStrategy(
            kind="s3-lambda",
            name=self.name,
            backend=self.backend,
            function=self.function,
            event_loss=self.event_loss,
            max_retries=self.max_retries,
            retry_delays_s=self.retry_delays_s,
            workers=self.workers,
        )


Strategy = Annotated[
    PollStrategy
    | ScheduledPollStrategy
    | AsyncLambdaStrategy
    | SqsLambdaStrategy
    | SnsSqsLambdaStrategy
    | InotifyStrategy
    | HybridStrategy,
    Field(discriminator="kind"),
]


class Bucket(_Strict):
    """What the watched prefix holds: how long processed files stay, and, for ``pve simulate``,
    what a simulated period starts with (live runs always start with an empty bucket)."""

    retention: str = Field("keep", description="keep | delete | lifecycle:N (days)")
    start: Literal["steady", "empty"] = Field(
        "steady", description="steady: the prefix already holds what retention keeps; empty: a first period"
    )
    history_days: float | None = Field(
        None, gt=0, description="keep: days of earlier traffic at a steady start (default: one period)"
    )

    @model_validator(mode="after")
    def _check(self) -> Bucket:
        from bench.scenario.retention import parse_retention

        parse_retention(self.retention)  # a RetentionError is a ValueError: reported with the field
        return self


#: The folders under the folder backend's root where an inbox poller moves handled files.
FOLDER_INBOX_DIRS = ("processed", "failed")

S3_BACKENDS: frozenset[Backend] = frozenset({"moto", "moto-server"})
# moto in a process of its own (two cores): it cannot hand Lambda deliveries back to this process
# (bench.live.backends), so only the kinds that poll S3 or SQS themselves run there
S3_AND_MOTO_PROCESS: frozenset[Backend] = S3_BACKENDS | {"moto-process"}
FOLDER_BACKENDS: frozenset[Backend] = frozenset({"folder"})


@dataclass(frozen=True)
class KindSpec:
    """The scenario facet of a kind: its spec class, where it can run, which delays it draws."""

    spec: type[_Strategy]
    backends: frozenset[Backend]
    routes: tuple[str, ...]  # latency-profile routes of its delivery, in hop order (none: it polls)
    loses_events: bool = False  # its live run honours ``event_loss`` (drops notifications on purpose)

    @property
    def route(self) -> str | None:
        """The route a live run's whole delivery delay is measured on (its last hop)."""
        return self.routes[-1] if self.routes else None


KIND_SPECS: dict[Kind, KindSpec] = {
    Kind.POLL: KindSpec(PollStrategy, S3_AND_MOTO_PROCESS | FOLDER_BACKENDS, ()),
    Kind.SCHEDULED_POLL: KindSpec(ScheduledPollStrategy, S3_BACKENDS, ()),
    Kind.S3_LAMBDA: KindSpec(AsyncLambdaStrategy, S3_BACKENDS, ("s3_to_lambda",), loses_events=True),
    Kind.S3_SQS_LAMBDA: KindSpec(SqsLambdaStrategy, S3_AND_MOTO_PROCESS, ("s3_to_sqs", "sqs_to_lambda")),
    Kind.S3_EVENTBRIDGE_LAMBDA: KindSpec(
        AsyncLambdaStrategy, S3_BACKENDS, ("eventbridge_to_lambda",), loses_events=True
    ),
    Kind.S3_SNS_SQS_LAMBDA: KindSpec(
        SnsSqsLambdaStrategy, S3_AND_MOTO_PROCESS, ("s3_to_sns_to_sqs", "sqs_to_lambda")
    ),
    Kind.INOTIFY: KindSpec(InotifyStrategy, FOLDER_BACKENDS, ("inotify_to_handler",)),
    Kind.HYBRID: KindSpec(HybridStrategy, S3_BACKENDS, ("s3_to_lambda",), loses_events=True),
}
S3_ONLY = {str(k) for k, row in KIND_SPECS.items() if S3_BACKENDS <= row.backends <= S3_AND_MOTO_PROCESS}
NEEDS_MOTO_IN_PROCESS = {
    str(k) for k, row in KIND_SPECS.items() if "moto" in row.backends and "moto-process" not in row.backends
}
FOLDER_ONLY = {str(k) for k, row in KIND_SPECS.items() if row.backends == FOLDER_BACKENDS}
EVENT_LOSS_ROUTES = {str(k) for k, row in KIND_SPECS.items() if row.loses_events}


def kind_spec(kind: str) -> KindSpec:
    """The scenario facet of ``kind`` (a ``Kind`` or its string)."""
    return KIND_SPECS[Kind(kind)]


def is_polling(kind: str) -> bool:
    """Whether ``kind`` finds files by listing (no delivery route); False for a kind this version
    does not know (a results file from a newer one)."""
    try:
        return not kind_spec(kind).routes
    except ValueError:
        return False


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME_LENGTH, pattern=r"^[A-Za-z0-9._-]+$")
    _name_not_dots = field_validator("name")(_not_dots)
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63, description="numpy seeds are non-negative")
    backend: Backend = "moto"
    latency_profile: str = "instant"
    task: Literal["csv-summary", "thumbnail", "noop"] = "csv-summary"
    repetitions: int = Field(1, ge=1, le=100)
    drain_timeout_s: float = Field(
        60.0, gt=0, le=MAX_GAP_S, description="wait this long for stragglers after the last write"
    )
    workload: Workload
    bucket: Bucket = Bucket()
    strategies: list[Strategy] = Field(min_length=1)
    requirements: dict[str, Any] = Field(
        default_factory=dict,
        description="what every option must deliver (bench.Requirements: exactly_once, inputs, keep_days, "
        "availability, network, encryption, log_bytes_per_file, latency_p95_s, budget_usd); what is "
        "left out takes the default",
    )

    @property
    def required(self) -> Requirements:
        """The ``[requirements]`` table as :class:`bench.Requirements` (what it sets is pinned)."""
        return Requirements.from_mapping(self.requirements)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        try:
            self.required  # noqa: B018  (validates the table: a bad value names its field)
        except RequirementsError as exc:
            raise ValueError(str(exc)) from None
        names = [s.name for s in self.strategies]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"strategy names must be unique; repeated: {', '.join(duplicates)}")
        for strategy in self.strategies:
            backend = self.backend_of(strategy)
            allowed = kind_spec(strategy.kind).backends
            if backend not in allowed:
                choices = " or ".join(repr(b) for b in sorted(allowed))
                needs = "an S3 backend" if allowed == S3_BACKENDS else f"backend {choices}"
                if backend == "moto-process" and "moto" in allowed:  # moto_bridge needs moto here
                    needs = "moto in this process ('moto' or 'moto-server')"
                raise ValueError(
                    f"strategy {strategy.name!r} ({strategy.kind}) needs {needs}, not {backend!r}"
                )
        for i, strategy in enumerate(self.strategies):
            if event_loss_of(strategy) > 0 and strategy.kind not in EVENT_LOSS_ROUTES:
                raise ValueError(
                    f"strategies[{i}].event_loss: {strategy.name!r} ({strategy.kind}) does not model "
                    f"lost notifications; only {', '.join(sorted(EVENT_LOSS_ROUTES))} do"
                )
        _check_no_loop(self.task, self.workload.prefix)
        self._check_inbox_folders()
        if self.task == "thumbnail" and self.workload.content.kind != "image":
            raise ValueError("task 'thumbnail' needs workload.content.kind = 'image'")
        if self.task == "csv-summary" and self.workload.content.kind != "csv":
            raise ValueError("task 'csv-summary' needs workload.content.kind = 'csv'")
        return self

    def _check_inbox_folders(self) -> None:
        """A folder inbox moves handled files to ``<root>/processed`` or ``<root>/failed``: a
        prefix naming one of them would list the moved files again, forever."""
        parts = tuple(p for p in PurePosixPath(self.workload.prefix).parts if p != ".")
        if len(parts) != 1 or parts[0] not in FOLDER_INBOX_DIRS:
            return
        for strategy in self.strategies:
            if cursor_of(strategy) == "inbox" and self.backend_of(strategy) == "folder":
                raise ValueError(
                    f"workload.prefix {self.workload.prefix!r} is where the folder inbox "
                    f"{strategy.name!r} moves handled files; choose another prefix"
                )

    def backend_of(self, strategy: Any) -> str:
        """The backend a strategy runs on: its own if it names one, else the scenario's."""
        return str(strategy.backend or self.backend)

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with top-level fields replaced (validated again)."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        try:
            return Scenario.model_validate(data)
        except ValidationError as exc:  # a bad override is bad input, named as the command's flag
            raise ScenarioError(format_errors(exc, f"{self.name} with the command's overrides")) from None


def _check_no_loop(task: str, prefix: str) -> None:
    """Every task's recursion guard, checked before a run: outputs outside the watched prefix."""
    from event_handlers.errors import RecursionGuardError
    from event_handlers.filters import KeyFilter
    from event_handlers.tasks import make_task

    try:
        make_task(task, trigger_filters=[KeyFilter(prefix)])
    except RecursionGuardError as exc:
        raise ValueError(f"workload.prefix {prefix!r}: {exc}") from None


# -- what a strategy's spec has, typed (mypy checks each access; a default is its model's) ---------
S = TypeVar("S", bound=_Strategy)


def function_of(spec: Strategy) -> FunctionSettings | None:
    """The Lambda function ``spec`` deploys (a scheduled poll and every event route), or None: a
    polling loop runs on a machine, not in a function."""
    return spec.function if isinstance(spec, ScheduledPollStrategy | _EventStrategy) else None


def event_loss_of(spec: Strategy) -> float:
    """The share of notifications ``spec`` drops on purpose: none for a poller, which gets none."""
    return spec.event_loss if isinstance(spec, _EventStrategy) else 0.0


def cursor_of(spec: Strategy) -> CursorName | None:
    """The listing cursor of a strategy that lists (a poll, a scheduled poll, a hybrid's sweep)."""
    return spec.cursor if isinstance(spec, PollStrategy | ScheduledPollStrategy | HybridStrategy) else None


def spec_as(spec: Strategy, cls: type[S]) -> S:
    """``spec`` as the class its kind's row expects; another class is a bug in a kind's table."""
    if not isinstance(spec, cls):
        got = type(spec).__name__
        raise TypeError(f"strategy {spec.name!r} ({spec.kind}) is a {got}, not a {cls.__name__}")
    return spec


def async_part(spec: Strategy) -> AsyncLambdaStrategy:
    """The asynchronous S3 -> Lambda (or EventBridge -> Lambda) invocation's settings (retries,
    the event's maximum age): a hybrid's are its events part's."""
    if isinstance(spec, HybridStrategy):
        return spec.events_part()
    return spec_as(spec, AsyncLambdaStrategy)


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario names and their files."""
    folder = resources.files("bench") / "scenarios"
    return {
        p.name.removesuffix(".toml"): Path(str(p))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    }


def resolve_scenario_path(name_or_path: str) -> Path:
    """A scenario file: the path if it is a file, else the bundled scenario of that name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    bundled = bundled_scenarios()
    if name_or_path in bundled:
        return bundled[name_or_path]
    if path.suffix == ".toml":
        raise ScenarioError(f"scenario file not found: {path}")
    if name_or_path not in bundled:
        raise ScenarioError(
            f"unknown scenario {name_or_path!r}; bundled: {', '.join(bundled)} (or give a .toml path)"
        )
    return bundled[name_or_path]


def load_scenario(name_or_path: str) -> Scenario:
    """Load and validate a bundled scenario by name, or a scenario file by path."""
    path = resolve_scenario_path(name_or_path)
    try:
        data = parse_nested(tomllib.loads, path.read_text(encoding="utf-8"), str(path), "a scenario")
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text: {exc}") from exc
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc}") from exc
    return parse_scenario(data, str(path))


def parse_scenario(data: dict[str, Any], origin: str) -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(exc, origin)) from None


def format_errors(exc: ValidationError, origin: str) -> str:
    lines = [f"{origin}: {exc.error_count()} problem(s) in the scenario"]
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check its spelling and where it is nested)"
        elif "input" in error and error["type"] not in ("missing",):
            message = f"{message} (got {error['input']!r:.60})"
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)
