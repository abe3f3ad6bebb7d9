"""``pve simulate``: a scenario's strategies as models in virtual time, written in the live schema.

The same seeded arrival process as a live run (the same arrivals, for counts that fit one
chunk), each strategy as a model, records sampled when there are millions, and a complete
``summary.json`` with ``kind: "simulated"`` - so ``pve report``, ``pve compare`` and the notebooks
read simulated and live results alike, and each says which it is.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.cost.model import load_pricing
from bench.cost.run import priced
from bench.cost.scaling import Stability
from bench.cost.work import Work
from bench.errors import InputError
from bench.results.build import build_run, strategy_result
from bench.results.environment import capture_environment, profile_info
from bench.results.files import write_results
from bench.results.model import (
    BucketInfo,
    Repetition,
    Run,
    RunKind,
    SimulationInfo,
    SimulationStats,
    StrategyResult,
)
from bench.results.records import COLUMNS
from bench.scenario.retention import StartState, parse_retention, start_state
from bench.scenario.seeds import WRITER_LEAD_S, poll_phase, strategy_seed
from bench.scenario.spec import (
    Arrivals,
    HybridStrategy,
    PollStrategy,
    Scenario,
    ScheduledPollStrategy,
    Strategy,
)
from bench.simulate.arrivals import (
    CHUNK_FILES,
    arrival_chunks,
    expected_count,
    scaled_arrivals,
    settle_replay,
)
from bench.simulate.models import ChunkResult, Model, ModelTotals, SimContext, make_model
from bench.simulate.parallel import balanced_groups, default_jobs, run_groups
from bench.simulate.streaming import StreamingStats
from event_handlers.runtime.latency import Distribution, LatencyProfile, distribution_kind, load_profile
from event_handlers.runtime.scaling import LAMBDA_RULES, SQS_RULES

DEFAULT_PROCESSING = Distribution(
    "constant", {"value_s": 0.1}, "assumed: 100 ms per file (pass --processing-ms)"
)
DEFAULT_LIST = (0.0, 0.05, 0.0)  # assumed, for profiles without a [listing]: 50 ms per LIST page


@dataclass
class StrategyTally:
    latency: StreamingStats = field(default_factory=StreamingStats)
    detection: StreamingStats = field(default_factory=StreamingStats)
    files: int = 0
    processed: int = 0
    paths: Counter[str] = field(default_factory=Counter)
    last_activity: float = 0.0
    seconds: float = 0.0


@dataclass(frozen=True)
class FinishedModel:
    """What the summary reads of a model once it has finished: its totals and its stability at
    the run's rate. A worker sends this back, not the model with its per-tick arrays."""

    totals: ModelTotals
    checked: Stability

    def stability(self, rate_per_s: float) -> Stability:
        return self.checked


@dataclass
class StrategyRun:
    """What one strategy's pass over the arrivals left: its tally, its finished model and its
    sampled records, each with the number of the chunk it came from."""

    index: int
    name: str
    tally: StrategyTally
    model: FinishedModel
    rows: list[tuple[int, pd.DataFrame]]


PARALLEL_MIN_WORK = 2_000_000  # strategy-files below which a worker process costs more than it saves


@dataclass
class SimulationOptions:
    days: float | None = None
    files_per_day: float | None = None
    processing: Distribution | None = None
    work: Work | None = None  # CPU + wait seconds per file (the work model pve decide uses)
    list_base_s: float | None = None
    list_per_object_s: float | None = None
    list_per_page_s: float | None = None
    start: str | None = None  # "steady" or "empty": overrides the scenario's [bucket] start
    retention: str | None = None  # "keep", "delete" or "lifecycle:N": overrides [bucket] retention
    max_records: int = 100_000  # in all, shared by the strategies
    chunk_files: int = CHUNK_FILES
    live: Run | None = None  # a live summary whose schedules (cycle starts) to replay
    replica: int = 0  # another draw of the models' randomness (delays, processing), same arrivals
    on_chunk: Callable[[int, float], None] | None = None  # (files so far, expected files): progress
    jobs: int | None = None  # worker processes for the strategies (None: one per core)


def mean_file_size(scenario: Scenario, sample: int = 5) -> float:
    """The workload's mean file size, from a few of its files (all files of a kind are alike)."""
    from bench.scenario.workload import make_content

    sizes = [len(make_content(scenario.workload.content, i, scenario.seed)) for i in range(sample)]
    return float(np.mean(sizes))


def route_samples(
    profile: LatencyProfile, options: SimulationOptions
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A calibrated profile's (delay, handler time) pairs per event route, unless a processing
    time is given on the command line (then the pairs' handler times would contradict it)."""
    routes = profile.extra.get("route_samples")
    if options.processing is not None or options.work is not None or not isinstance(routes, dict):
        return {}
    return {
        route: (np.asarray(spec["delay_s"], dtype=float), np.asarray(spec["handler_s"], dtype=float))
        for route, spec in routes.items()
        if isinstance(spec, dict) and len(spec.get("delay_s", [])) == len(spec.get("handler_s", [])) > 0
    }


@dataclass(frozen=True)
class Listing:
    """A listing's time: ``base_s`` + ``per_page_s`` x pages + ``per_object_s`` x objects."""

    base_s: float
    per_page_s: float
    per_object_s: float
    source: str = ""


def model_inputs(profile: LatencyProfile, options: SimulationOptions) -> tuple[Distribution, Listing]:
    """Processing time and listing time: given, else from the profile (calibrated, or the ``aws``
    profile's per-page time), else assumed (50 ms per LIST page)."""
    processing = options.processing
    if processing is None:
        spec = profile.extra.get("processing")
        processing = _distribution(spec) if isinstance(spec, dict) else DEFAULT_PROCESSING
    raw = profile.extra.get("listing")
    if isinstance(raw, dict):
        fitted = (
            float(raw.get("base_s", 0.0)),
            float(raw.get("per_page_s", 0.0)),
            float(raw.get("per_object_s", 0.0)),
        )
        source = str(raw.get("source", ""))
    else:
        fitted, source = DEFAULT_LIST, "assumed: 50 ms per LIST page (the profile has no [listing])"
    given = (options.list_base_s, options.list_per_page_s, options.list_per_object_s)
    if any(v is not None for v in given):
        source = "given by the caller"
    base, per_page, per_object = (g if g is not None else f for g, f in zip(given, fitted, strict=True))
    return processing, Listing(base, per_page, per_object, source)


WORK_SOURCE = (
    "the work model (bench.cost.work, as pve decide and pve cost): cpu_s at one full vCPU plus wait_s; "
    "a Lambda function takes lambda_duration_s at its memory, a poller's core cpu_s + wait_s"
)


def work_model(processing: Distribution, options: SimulationOptions) -> Work | None:
    """The work model, unless a processing time is given or the profile has its own (calibrated):
    the caller's ``work``, else the default (0.05 s CPU + 0.05 s wait, as ``pve decide``)."""
    if options.work is not None:
        return options.work
    return Work() if processing is DEFAULT_PROCESSING else None


def with_transfer(work: Work | None, file_size_bytes: float) -> Work | None:
    """The work model with the file's transfer added to its wait, as ``pve decide`` adds it
    (``file_size_mb / transfer_mb_per_s`` of bench/cost/pricing/assumptions.toml)."""
    if work is None:
        return None
    from bench.cost.assumptions import load_assumptions

    transfer = float(load_assumptions().defaults.get("transfer_mb_per_s", 50.0))
    return Work(work.cpu_s, work.wait_s + file_size_bytes / 1e6 / transfer)


def bucket_start(
    scenario: Scenario, options: SimulationOptions, rate_per_s: float, period_s: float
) -> StartState:
    """What the prefix holds at the start: the scenario's [bucket], the options' overrides; a
    replayed live run always starts empty (so did the run)."""
    bucket = scenario.bucket
    retention = parse_retention(options.retention or bucket.retention)
    start = "empty" if options.live is not None else (options.start or bucket.start)
    if start not in ("steady", "empty"):
        raise InputError(f"start must be steady or empty, got {start!r}")
    return start_state(start, retention, rate_per_s, period_s, bucket.history_days)  # type: ignore[arg-type]


def _distribution(spec: dict[str, Any]) -> Distribution:
    params = {k: v for k, v in spec.items() if k not in ("distribution", "source")}
    return Distribution(distribution_kind(spec["distribution"]), params, str(spec.get("source", "")))


def simulate_scenario(
    scenario: Scenario, out: Path, options: SimulationOptions | None = None, *, command: str = ""
) -> Run:
    """Simulate every strategy of ``scenario`` and write ``records.csv`` and ``summary.json``.

    Strategies run in ``options.jobs`` worker processes (``bench.simulate.parallel``); each
    worker draws the same seeded arrivals, so the numbers do not depend on the number of jobs."""
    options = options or SimulationOptions()
    started = datetime.now(UTC)
    setup = prepare(scenario, options)
    runs = run_strategies(setup, options.on_chunk)
    rows = [frame for _, _, frame in sorted((c, r.index, f) for r in runs for c, f in r.rows)]
    records = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=COLUMNS)
    summary = _summary(setup, Outcome(runs, records, started, command))
    if setup.work is not None and options.files_per_day is not None:  # decide's view beside the projection
        from bench.decide.beside import beside_run

        summary = beside_run(summary, setup.profile)
    write_results(out, records[COLUMNS], summary)
    return summary


@dataclass(frozen=True)
class Setup:
    """What every strategy's pass needs, fixed before the first arrival (picklable: it goes to
    the worker processes)."""

    scenario: Scenario
    options: SimulationOptions
    profile: LatencyProfile
    processing: Distribution
    listing: Listing
    file_size: float
    arrivals: Arrivals
    expected: float
    period_s: float
    sample_p: float
    horizon_s: float
    rate_per_s: float
    bucket: StartState
    work: Work | None  # the work model (bench.cost.work), unless a processing time rules


def prepare(scenario: Scenario, options: SimulationOptions) -> Setup:
    """The arrival process, the models' inputs and the bucket's start for ``scenario``."""
    profile = load_profile(scenario.latency_profile)
    processing, listing = model_inputs(profile, options)
    arrivals_spec = settle_replay(  # a trace without count or duration_s: both from the trace
        scaled_arrivals(scenario.workload.arrivals, days=options.days, files_per_day=options.files_per_day)
    )
    scale = scenario.workload.time_scale
    expected = expected_count(arrivals_spec)
    period_s = float(arrivals_spec.duration_s or 0.0) / scale
    span = period_s if period_s > 0 else expected / _mean_rate(arrivals_spec, scale)
    rate_per_s = expected / max(span, 1e-9)  # files a real second over the arrival period
    file_size = mean_file_size(scenario)
    return Setup(
        scenario,
        replace(options, on_chunk=None),  # a callback stays in the parent process
        profile,
        processing,
        listing,
        file_size,
        arrivals_spec,
        expected,
        period_s,
        min(1.0, options.max_records / len(scenario.strategies) / max(1.0, expected)),
        max(period_s, _horizon_guess(arrivals_spec, scale)) + 600.0,
        rate_per_s,
        bucket_start(scenario, options, rate_per_s, span),
        with_transfer(work_model(processing, options), file_size),  # the file's transfer, as pve decide
    )


def make_strategy_model(setup: Setup, index: int) -> Model:
    """The model of the scenario's ``index``-th strategy, seeded by its position."""
    scenario, options = setup.scenario, setup.options
    spec = scenario.strategies[index]
    seed = strategy_seed(scenario.seed, index, 0) + 1_000_003 * options.replica
    ctx = SimContext(
        setup.profile,
        setup.processing,
        setup.listing.base_s,
        setup.listing.per_object_s,
        seed,
        setup.horizon_s,
        writer_lead_s=WRITER_LEAD_S,
        ticks=_live_ticks(options.live, spec.name),
        route_samples=route_samples(setup.profile, options),
        file_size=setup.file_size,
        list_per_page_s=setup.listing.per_page_s,
        bucket=setup.bucket,
        rate_per_s=setup.rate_per_s,
        work=setup.work,
    )
    phase = _live_phase(options.live, spec.name)
    interval = cycle_interval_s(spec)
    if phase is None:  # an event route has no schedule: its model takes no phase
        phase = 0.0 if interval is None else poll_phase(seed, interval)
    return make_model(spec, ctx, phase)


def cycle_interval_s(spec: Strategy) -> float | None:
    """Seconds between a strategy's listings (a poll's or scheduled poll's cycle, a hybrid's
    sweep), or None for a route that only reacts to events."""
    if isinstance(spec, PollStrategy | ScheduledPollStrategy):
        return spec.interval_s
    return spec.sweep_interval_s if isinstance(spec, HybridStrategy) else None


def run_strategies(setup: Setup, on_chunk: Callable[[int, float], None] | None = None) -> list[StrategyRun]:
    """Every strategy's pass, in ``setup.options.jobs`` worker processes when the work is big
    enough to pay for them (``bench.simulate.parallel``), in strategy order."""
    count = len(setup.scenario.strategies)
    jobs = setup.options.jobs or default_jobs()
    if jobs <= 1 or count <= 1 or setup.expected * count < PARALLEL_MIN_WORK:
        groups = [list(range(count))]
    else:
        weights = [make_strategy_model(setup, i).relative_cost for i in range(count)]
        groups = balanced_groups(weights, jobs)
    progress = None if on_chunk is None else (lambda done: on_chunk(done, setup.expected))
    runs = run_groups(partial(simulate_strategies, setup), groups, progress)
    return sorted(runs, key=lambda r: r.index)


def simulate_strategies(
    setup: Setup, indices: Sequence[int], progress: Callable[[int], None] | None = None
) -> list[StrategyRun]:
    """One pass over the seeded arrivals for the strategies at ``indices``: every model sees the
    same arrivals, chunk by chunk, and the same records sample (``progress(files so far)`` after
    each chunk). A worker process runs this for its share of the strategies."""
    models = {i: make_strategy_model(setup, i) for i in indices}
    names = {i: setup.scenario.strategies[i].name for i in indices}
    tallies = {i: StrategyTally() for i in indices}
    rows: dict[int, list[tuple[int, pd.DataFrame]]] = {i: [] for i in indices}
    sampler = np.random.default_rng([setup.scenario.seed, 99])
    scale = setup.scenario.workload.time_scale
    generating, done = 0.0, 0
    clock = time.perf_counter()
    chunks = arrival_chunks(setup.arrivals, setup.scenario.seed, setup.options.chunk_files)
    for number, chunk in enumerate(chunks):  # every model, same arrivals
        written = chunk / scale if scale != 1.0 else chunk  # x / 1.0 is x: no 40 MB copy
        pick = sampler.random(written.size) < setup.sample_p
        generating += time.perf_counter() - clock
        for i, model in models.items():
            clock = time.perf_counter()
            result = model.chunk(written)
            _tally(tallies[i], written, result, model.path_names)
            tallies[i].seconds += time.perf_counter() - clock
            if pick.any():
                rows[i].append(
                    (number, _records(names[i], chunk[pick], written[pick], result, pick, model.path_names))
                )
            del result  # its arrays go before the next model's are made
        done += int(written.size)
        if progress is not None:
            progress(done)
        clock = time.perf_counter()
    for i, model in models.items():
        tally = tallies[i]
        tally.last_activity = max(tally.last_activity, setup.period_s)
        started_finish = time.perf_counter()
        model.finish(tally.last_activity)
        tally.seconds += time.perf_counter() - started_finish + generating / len(models)
    return [
        StrategyRun(i, names[i], tallies[i], FinishedModel(m.totals, m.stability(setup.rate_per_s)), rows[i])
        for i, m in models.items()
    ]


def _tally(
    tally: StrategyTally, written: np.ndarray, result: ChunkResult, path_names: tuple[str, ...]
) -> None:
    done = np.isfinite(result.finished)
    everything = bool(done.all())
    tally.files += written.size
    tally.processed += int(done.sum())
    finished, detected, started = result.finished, result.detected, result.started
    if not everything:
        finished, detected, started, written = finished[done], detected[done], started[done], written[done]
    since = np.subtract(finished, written)
    tally.latency.add(since, finite=True)
    tally.detection.add(np.subtract(detected, written, out=since), finite=True)  # one buffer for both
    del since
    for code, name in enumerate(path_names):
        tally.paths[name] += int(np.sum(result.path == code))
    if finished.size:  # the finite ones (all of them, without a 40 MB copy, when none was missed)
        tally.last_activity = max(tally.last_activity, float(np.max(finished)))


def _records(
    name: str,
    arrival_s: np.ndarray,
    written: np.ndarray,
    result: ChunkResult,
    pick: np.ndarray,
    path_names: tuple[str, ...],
) -> pd.DataFrame:
    finished = result.finished[pick]
    done = np.isfinite(finished)
    path = result.path[pick]
    return pd.DataFrame(
        {
            "strategy": name,
            "repetition": 0,
            "key": "",
            "size_bytes": 0,
            "arrival_s": arrival_s,
            "written_at": written,
            "detected_at": result.detected[pick],
            "started_at": result.started[pick],
            "finished_at": finished,
            "latency_s": finished - written,
            "attempts": done.astype(int),
            "outcome": np.where(done, "processed", "missed"),
            "path": [path_names[p] if 0 <= p < len(path_names) else "" for p in path],
            "duplicates": 0,
            "error": "",
        }
    )


APPROXIMATIONS = (
    "poll: listings at fixed ticks, each taking pages x per-page time; a cycle that overruns "
    "is not delayed here, while the live loop would start its next listing late; a poller "
    "whose listings cannot fit its interval is marked feasible: false",
    "lifecycle expiry at exactly N days (S3 expires asynchronously, usually a little later)",
    "SQS: the mapping's concurrent batches scale once a minute on a fluid backlog "
    "(event_handlers.runtime.scaling); a message finding a batch slot free opens a batch, "
    "those that waited go B at a time; empty receives are expected values per minute",
    "Lambda concurrency: exact below the limit; the fluid approximation above it",
)


@dataclass(frozen=True)
class Outcome:
    """What a simulation left for its summary: every strategy's pass, the records kept, and how
    the run was started (its clock and command line)."""

    runs: Sequence[StrategyRun]
    records: pd.DataFrame
    started: datetime
    command: str


def _summary(setup: Setup, outcome: Outcome) -> Run:
    """The run's ``summary.json``, priced: each strategy's results and how the simulation was set
    up, validated by the results model (``bench.results.build``)."""
    strategies = {r.name: _strategy_result(setup, r, outcome.records) for r in outcome.runs}
    notes = [note for r in outcome.runs for note in r.model.totals.notes]
    run = build_run(
        RunKind.SIMULATED,
        setup.scenario,
        strategies,
        profile=profile_info(setup.profile),
        environment=capture_environment(outcome.started),
        command=outcome.command,
        simulation=_simulation_info(setup),
        notes=notes,
    )
    return priced(run, load_pricing())


def _strategy_result(setup: Setup, strategy: StrategyRun, records: pd.DataFrame) -> StrategyResult:
    """One strategy's results from its tally and its finished model, with its stability at the
    run's rate."""
    spec = setup.scenario.strategies[strategy.index]
    tally, totals = strategy.tally, strategy.model.totals
    return strategy_result(
        spec,
        setup.scenario.backend_of(spec),
        files=tally.files,
        processed=tally.processed,
        missed=tally.files - tally.processed,
        latency_s=tally.latency.summary(),
        detection_s=tally.detection.summary(),
        processing_s=_processing(records, spec.name),
        paths={k: v for k, v in tally.paths.items() if v},
        counters=_counters(totals),
        api_calls={k: int(v) for k, v in sorted(totals.api_calls.items())},
        notes=totals.notes,
        instance_s=tally.last_activity,
        feasible=not totals.why_not,
        why_not="; ".join(totals.why_not) or None,
        simulation=SimulationStats(
            seconds=round(tally.seconds, 3),
            files_per_second=round(tally.files / tally.seconds) if tally.seconds else None,
            exact_quantiles=tally.latency.exact,
        ),
    ).model_copy(update=strategy.model.stability(setup.rate_per_s).fields())


def _counters(totals: ModelTotals) -> dict[str, int | float]:
    """A model's counters as the summary stores them: whole numbers as int (GB-s stays a float)."""
    return {
        k: (int(v) if float(v).is_integer() and k != "gb_s" else round(float(v), 9))
        for k, v in totals.counters.items()
    }


def _simulation_info(setup: Setup) -> SimulationInfo:
    """How the simulation was set up: its period, its model inputs, the bucket's start."""
    options = setup.options
    return SimulationInfo.model_validate(
        {
            "days": options.days,
            "files_per_day": options.files_per_day,
            "expected_files": setup.expected,
            "processing": _processing_info(setup),
            "listing": {
                "base_s": setup.listing.base_s,
                "per_page_s": setup.listing.per_page_s,
                "per_object_s": setup.listing.per_object_s,
                "source": setup.listing.source,
            },
            "bucket": _bucket_info(setup.bucket),
            "records": "a uniform sample of the files" if setup.sample_p < 1.0 else "every file",
            "time_origin": "seconds from the writer's start (real seconds: scenario seconds / time_scale)",
            "replayed_live_schedules": options.live is not None,
            "scaling": {"sqs_mapping": SQS_RULES.as_dict(), "lambda": LAMBDA_RULES.as_dict()},
            "approximations": list(APPROXIMATIONS),
        }
    )


def _processing_info(setup: Setup) -> dict[str, Any]:
    """The processing time the models drew: the work model when it rules, else the distribution."""
    work, processing = setup.work, setup.processing
    if work is None:
        return {"kind": processing.kind, **dict(processing.params), "source": processing.source}
    return {
        "kind": "work",
        "cpu_s": work.cpu_s,
        "wait_s": work.wait_s,  # the file's transfer included, as pve decide
        "file_size_mb": setup.file_size / 1e6,  # the scenario's mean file size
        "requirements": dict(setup.scenario.requirements),  # the scenario's [requirements], as given
        "source": WORK_SOURCE,
    }


def _bucket_info(bucket: StartState) -> BucketInfo:
    return BucketInfo(
        retention=bucket.retention.spec,
        start=bucket.start,
        initial_objects=round(bucket.initial_objects),
        history_days=bucket.history_days,
        label=bucket.label,
        listed_days=round(retained_days(bucket, load_pricing().hours_per_month / 24.0), 6),
    )


def _processing(records: pd.DataFrame, name: str) -> dict[str, float | None]:
    """Processing time from the records kept (every file, or a uniform sample of them)."""
    from bench.results.stats import distribution_stats

    rows = records[records["strategy"] == name]
    return distribution_stats(rows["finished_at"] - rows["started_at"])


def _live_ticks(live: Run | None, name: str) -> np.ndarray | None:
    repetition = _live_repetition(live, name)
    if repetition is None:
        return None
    starts, writer = repetition.cycle_starts, repetition.writer.get("started_at")
    if not starts or writer is None:
        return None
    return np.asarray(starts, dtype=float) - float(writer)


def _live_phase(live: Run | None, name: str) -> float | None:
    repetition = _live_repetition(live, name)
    return None if repetition is None or repetition.phase_s is None else float(repetition.phase_s)


def _live_repetition(live: Run | None, name: str) -> Repetition | None:
    """The first repetition of ``name`` in a live run whose schedule is replayed, if any."""
    if live is None or name not in live.strategies:
        return None
    repetitions = live.strategies[name].repetitions
    return repetitions[0] if repetitions else None


def retained_days(bucket: StartState, period_days: float) -> float:
    """Days of files a listing sees on average over the period, for the monthly cost model's
    ``retention_days``: the start's files plus half the period's under keep, N days under a
    lifecycle from a steady start (from empty, the prefix fills over the first N days), 0 under
    delete."""
    kind = bucket.retention.kind
    if kind == "delete":
        return 0.0
    if kind == "keep":
        return bucket.history_days + period_days / 2 if bucket.start == "steady" else period_days / 2
    days = float(bucket.retention.days or 0.0)
    if bucket.start == "steady" or period_days <= 0:
        return days
    filling = min(days, period_days)  # the prefix grows for `days`, then holds N days of files
    return (filling * filling / 2 + days * max(0.0, period_days - days)) / period_days


def _mean_rate(spec: Any, scale: float) -> float:
    """Files per real second of an arrival spec (its mean)."""
    if spec.process == "bursts":
        return spec.burst_size / spec.burst_interval_s * scale
    return float(spec.rate_per_s or 1.0) * scale


def _horizon_guess(spec: Any, scale: float) -> float:
    if spec.duration_s is not None:
        return float(spec.duration_s) / scale
    rate = (
        spec.burst_size / spec.burst_interval_s if spec.process == "bursts" else float(spec.rate_per_s or 1.0)
    )
    return expected_count(spec) / rate / scale * 1.5 + 60.0
