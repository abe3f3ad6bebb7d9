"""The results model: one run and its strategies' results, as typed, immutable objects.

As in pyperf (``Run``, ``Benchmark``), every command reads the same versioned file through these
models: the runner writes ``summary.json`` with :func:`bench.results.files.write_results`, and
``pve report``, ``pve compare``, the cost model, the calibrator and the notebooks read it with
:func:`bench.results.files.read_results`, which upgrades older schema versions on the way in.

The JSON field names are a public contract (the README documents them): a field keeps its name
and meaning for good. How to extend the model:

* a new field: add it with a default (``None``, ``0``, an empty list) to :class:`StrategyResult`
  or :class:`Run`, so files written before it still load; say what it means in its comment and in
  CHANGELOG.md's results-schema section. No schema bump is needed for an addition.
* until a field has its typed attribute, write it anyway: every model allows extra fields, keeps
  them on reading and writes them back (``strategy.model_extra``), so another stage can add
  e.g. ``harness`` or ``feasible`` without breaking anyone.
* a change of meaning (or a removal): bump ``SCHEMA_VERSION`` and add a reader for the old
  version to ``bench.results.files._JSON_MAP_VERSION`` that upgrades the old shape.

Dollars are not part of the model's truth: a strategy stores its raw counts (requests,
invocations, GB-seconds, instance time) and the run stores the pricing table's identity (label
and content hash). ``bench.cost.run.run_cost`` derives dollars from the counts, the same way for
the table, the charts and ``pve decide``; the ``cost`` block written into each strategy is that
function's output at write time, kept for readers of the JSON alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 2


class RunKind(StrEnum):
    """Where a run's numbers come from."""

    LIVE = "live"  # measured: a live run on moto, a folder or AWS
    SIMULATED = "simulated"  # modelled: ``pve simulate``


class ResultModel(BaseModel):
    """Base of every results model: immutable, extra fields kept (read them as attributes)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key in type(self).model_fields or key in (self.model_extra or {}))


class LatencyStats(ResultModel):
    """p50, p95, p99, p99.9, mean and max of a duration in seconds; None when no file got that far."""

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    p999: float | None = None  # the 99.9th percentile, where a rare delivery tail shows (None before it)
    mean: float | None = None
    max: float | None = None


class Failure(ResultModel):
    """A file that did not end processed."""

    key: str
    outcome: str
    error: str = ""


class Repetition(ResultModel):
    """One repetition of a live strategy: its wall time, the writer's pace and every call by role.

    Strategies add their own details (a poller's ``phase_s`` and ``cycle_starts``) as fields.
    """

    repetition: int
    wall_s: float
    writer: dict[str, float] = Field(default_factory=dict)
    api_calls_by_role: dict[str, dict[str, int]] = Field(default_factory=dict)
    phase_s: float | None = None  # poll strategies: delay of the first cycle
    cycle_starts: list[float] | None = None  # poll strategies: epoch seconds of each cycle

    def calls(self) -> dict[str, int]:
        """Every API call of this repetition, all roles together (the writer's too)."""
        total: dict[str, int] = {}
        for calls in self.api_calls_by_role.values():
            for op, n in calls.items():
                total[op] = total.get(op, 0) + n
        return total


class SimulationStats(ResultModel):
    """How a simulated strategy was computed: its time, speed, and whether quantiles are exact."""

    seconds: float
    files_per_second: float | None = None
    exact_quantiles: bool = True


class CostBlock(ResultModel):
    """Dollars derived from a strategy's counts by ``bench.cost.run.run_cost`` at write time."""

    pricing: str
    pricing_sha256: str | None = None  # None in files written before schema 2
    run_usd: dict[str, float]
    per_million_files: float | None = None
    note: str = ""
    monthly_usd: dict[str, float] | None = None  # simulations at a given files_per_day only
    monthly_retention_days: float | None = None  # the retention the monthly projection used (days listed)

    @property
    def total_usd(self) -> float:
        return float(self.run_usd.get("total", 0.0))


class RequestTimes(ResultModel):
    """One role's requests to the backend, timed from sending to the parsed answer (long polls excluded)."""

    n: int
    p50: float
    p95: float
    max: float


class HarnessCheck(ResultModel):
    """Whether a live strategy's numbers measure the strategy or the harness and machine.

    Judged by ``bench.live.health.judge_health`` against the thresholds recorded with it.
    ``bound`` true means: do not read its latency as the strategy's (the table marks it with a
    dagger, the charts' captions name it, ``pve compare`` claims no significance for it).
    """

    bound: bool = False
    reasons: list[str] = Field(default_factory=list)
    writer_lag_p95_s: float = 0.0  # start delay of the writer's writes against their schedule
    writer_lag_max_s: float = 0.0
    cpu_cores_used: float = 0.0  # process CPU seconds / wall seconds while the writer wrote
    backlog_max: int = 0  # files written but not yet final, sampled every 0.2 s
    backlog_first_half: float | None = None  # mean over the first half of the writing
    backlog_second_half: float | None = None
    backlog_design: int = 0  # files the strategy's design holds while keeping up (a cycle's, a delay's)
    request_s: dict[str, RequestTimes] = Field(default_factory=dict)  # by role
    load_average: float | None = None  # the machine's 1-minute load average at the end
    cores: int = 1
    thresholds: dict[str, float] = Field(default_factory=dict)


class ClockOffsetInfo(ResultModel):
    """aws backend: the AWS-minus-local clock offset of a strategy's handler stamps (seconds), how it was
    measured (``s3-event-time``, ``date-header`` or ``none``) and whether it was subtracted."""

    offset_s: float = 0.0
    method: str = "none"
    samples: int = 0
    uncertainty_s: float | None = None
    applied: bool = False


class AwsStrategyInfo(ResultModel):
    """aws backend, per strategy: region, the applied clock offset (and every one measured), and the
    sums of the function's REPORT lines (invocations, billed_ms, gb_s, init_ms, cold_starts, ...)."""

    region: str
    clock: ClockOffsetInfo = ClockOffsetInfo()
    clocks_measured: list[ClockOffsetInfo] = Field(default_factory=list)
    lambda_reports: dict[str, float] = Field(default_factory=dict)
    # where each request count was measured: "this machine" (the harness's clients), "function"
    # (counted inside the deployed function, from its timing records), "derived" (what AWS does
    # for the route and no client of ours sees: S3's sends, the mapping's receives and deletes)
    api_calls_by_origin: dict[str, dict[str, int]] = Field(default_factory=dict)
    reports_partial: bool = False  # REPORT lines still missing when the wait for them ended
    # the EventBridge route: whether a probe object's event arrived before the clock started
    # (S3's EventBridge enablement takes minutes to take effect), after how long, how many probes
    eventbridge_probe: dict[str, float] = Field(default_factory=dict)


class AwsRunInfo(ResultModel):
    """aws backend, per run: where it ran, who ran the functions, the estimate it was allowed on,
    what was skipped and what teardown did (``teardown_left`` empty: nothing left behind)."""

    region: str
    run_id: str
    functions_run_by: str  # "AWS Lambda" or "the local runtime (moto)"
    endpoint: str  # "AWS" or the endpoint URL used instead
    runtime: str
    estimate_usd: float
    skipped: dict[str, str] = Field(default_factory=dict)  # strategy -> why it did not run on AWS
    teardown_deleted: int = 0
    teardown_left: list[str] = Field(default_factory=list)
    teardown_errors: list[str] = Field(default_factory=list)
    teardown_still_deleting: list[str] = Field(default_factory=list)  # deleted; AWS had not finished
    teardown_done: bool = True  # false in the copy written before teardown began
    endpoint_is_aws: bool = True  # false: the requests went to another endpoint (moto, a proxy)


class StrategyResult(ResultModel):
    """What one strategy did over every repetition of a run: counts, latencies, calls, counters."""

    kind: str  # the scenario's strategy kind ("poll", "s3-sqs-lambda", ...)
    backend: str
    parameters: dict[str, Any] = Field(default_factory=dict)  # the strategy spec minus name/kind/backend
    files: int
    processed: int
    failed: int = 0
    missed: int = 0
    duplicates: int = 0
    latency_s: LatencyStats = LatencyStats()  # written -> processed
    detection_s: LatencyStats = LatencyStats()  # written -> detected
    processing_s: LatencyStats = LatencyStats()  # started -> finished
    paths: dict[str, int] = Field(default_factory=dict)  # processed files per route (events, sweep, poll)
    invocations: int = 0
    poll_cycles: int = 0
    empty_polls: int = 0
    cold_starts: int = 0
    api_calls: dict[str, int] = Field(default_factory=dict)  # keyed like "s3.ListObjectsV2"
    api_calls_total: int = 0
    counters: dict[str, Any] = Field(default_factory=dict)  # every raw counter the strategy keeps
    repetitions: list[Repetition] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    failures: list[Failure] = Field(default_factory=list)
    simulation: SimulationStats | None = None
    # schema 2: seconds a poller's machine ran (billed instance time): the wall time of a live
    # run's repetitions, the simulated span of a simulation
    instance_s: float | None = None
    # whether the strategy's servers kept up: utilisation = arrival rate x mean service time /
    # servers (poll workers, the SQS mapping's batch cap, the function's concurrency; a live run's
    # local threads); at 1 or more the backlog grows for as long as the load lasts, so its
    # latency percentiles describe the run's length, not the strategy: latency_note says so.
    # None in files written before these fields.
    stable: bool | None = None
    utilisation: float | None = None  # None with stable False: no servers at all
    servers: float | None = None  # None: unbounded (a scheduled poll's invocations)
    latency_note: str | None = None  # "grows without bound" when unstable
    cost: CostBlock | None = None  # derived; see the module docstring
    harness: HarnessCheck | None = None  # live runs: measured the strategy, or the machine?
    # whether the configuration can run as modelled (simulations: listings that fit the interval,
    # invocations inside their timeout); why_not says why not, in words
    feasible: bool = True
    why_not: str | None = None
    aws: AwsStrategyInfo | None = None  # the aws backend's region, clock offset and REPORT sums

    @property
    def finished(self) -> int:
        """Files that reached an end (processed or failed): what a per-file cost divides by."""
        return self.processed + self.failed

    @property
    def interval_s(self) -> float | None:
        """The poll interval (a hybrid's sweep interval), if the strategy has one."""
        value = self.parameters.get("interval_s", self.parameters.get("sweep_interval_s"))
        return None if value is None else float(value)

    def counter(self, name: str, default: float = 0.0) -> float:
        """A raw counter as a number (``default`` if the strategy does not keep it)."""
        value = self.counters.get(name, default)
        return float(value) if isinstance(value, int | float) else default

    def wall_s(self) -> float:
        return sum(r.wall_s for r in self.repetitions)


class ScenarioRecord(ResultModel):
    """The scenario as run (``Scenario.model_dump``); the fields every reader needs are typed."""

    name: str
    description: str = ""
    seed: int = 0
    backend: str = "moto"
    latency_profile: str = "instant"


class ProfileInfo(ResultModel):
    """The latency profile a run used, with each route's distribution and source."""

    name: str
    adds_delay: bool = False
    description: str = ""
    source: str | None = None
    routes: dict[str, dict[str, Any]] = Field(default_factory=dict)


class Environment(ResultModel):
    """Where and with what a run was made (captured automatically, as pyperf does)."""

    python: str = ""
    implementation: str = ""
    platform: str = ""
    machine: str = ""
    cpu_count: int | None = None
    packages: dict[str, str | None] = Field(default_factory=dict)
    pve_version: str | None = None
    constraints: dict[str, Any] | None = None  # does the environment match constraints.txt, and how not
    git_commit: str | None = None
    started_at: str = ""
    hostname: str = ""


class BucketInfo(ResultModel):
    """What the watched prefix held when a simulated period started, and how long files stay."""

    retention: str  # keep | delete | lifecycle:N
    start: str  # steady | empty
    initial_objects: int = 0
    history_days: float = 0.0  # days of earlier traffic behind the initial objects
    label: str = ""  # the words tables and charts print
    # days of files a listing sees on average over a month of the cost model (its retention_days)
    listed_days: float | None = None


class SimulationInfo(ResultModel):
    """How a simulation was set up: period, rate, the model inputs and their approximations."""

    days: float | None = None
    files_per_day: float | None = None
    expected_files: float | None = None
    processing: dict[str, Any] = Field(default_factory=dict)
    listing: dict[str, Any] = Field(default_factory=dict)  # base_s, per_page_s, per_object_s, source
    bucket: BucketInfo | None = None  # retention and starting state (None before they were modelled)
    records: str = ""
    time_origin: str = ""
    replayed_live_schedules: bool = False
    approximations: list[str] = Field(default_factory=list)
    # pve decide's view of each strategy at the same workload (bench.decide.beside): the simulated
    # configuration priced and timed by decide, and the configuration decide's search picks
    decide: dict[str, Any] = Field(default_factory=dict)


class Run(ResultModel):
    """One ``summary.json``: a scenario run live or simulated, and each strategy's results."""

    schema_version: int = SCHEMA_VERSION
    kind: RunKind = RunKind.LIVE
    command: str = ""
    scenario_file: str = ""
    scenario: ScenarioRecord
    latency_profile: ProfileInfo
    environment: Environment = Environment()
    finished_at: str = ""
    pricing: str = ""  # the pricing table's label (file, region, date)
    pricing_sha256: str | None = None  # schema 2: the table's content hash
    simulation: SimulationInfo | None = None
    notes: list[str] = Field(default_factory=list)
    strategies: dict[str, StrategyResult]
    # False when the run was stopped (Ctrl-C, SIGTERM) before every strategy ran: the file holds the
    # strategy runs that finished, and incomplete_reason says what stopped it and where
    complete: bool = True
    incomplete_reason: str | None = None
    aws: AwsRunInfo | None = None  # runs with --backend aws: region, run id, teardown

    @property
    def scenario_name(self) -> str:
        return self.scenario.name

    @property
    def is_live(self) -> bool:
        return self.kind == RunKind.LIVE

    def strategy(self, name: str) -> StrategyResult:
        try:
            return self.strategies[name]
        except KeyError:
            raise KeyError(f"no strategy {name!r} in this run; it has {', '.join(self.strategies)}") from None

    def to_json(self) -> dict[str, Any]:
        """The JSON document (``summary.json``), extra fields included."""
        return self.model_dump(mode="json")
