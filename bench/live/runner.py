"""Run a scenario: for each repetition and strategy, a fresh backend, the same seeded workload.

The runner only runs. It writes ``records.csv`` and ``summary.json``; the table and the charts
are drawn from those (see ``bench.report.draw``), so a results folder can always be redrawn.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from bench.cost.model import Pricing, load_pricing
from bench.cost.run import priced
from bench.errors import InputError
from bench.live.backends import fresh_backend
from bench.live.clients import STRATEGY_ROLES
from bench.live.health import (
    HealthMonitor,
    design_backlog,
    design_hold_s,
    judge_health,
    merge_health,
)
from bench.live.heap import settled_heap_frozen
from bench.live.progress import ProgressReporter, QuietProgress
from bench.live.recorder import COLUMNS, FileRecord, Recorder
from bench.live.stability import live_stability, no_servers_note
from bench.live.strategies import RunContext, make_strategy
from bench.live.writer import write_workload
from bench.results.build import build_run, strategy_result
from bench.results.environment import capture_environment, profile_info
from bench.results.files import write_results
from bench.results.model import (
    Environment,
    Failure,
    HarnessCheck,
    ProfileInfo,
    Repetition,
    Run,
    RunKind,
    StrategyResult,
)
from bench.results.stats import strategy_stats
from bench.scenario.limits import MAX_LIVE_FILES, MAX_LIVE_S, check_live  # noqa: F401  (re-exported)
from bench.scenario.seeds import WRITER_LEAD_S, strategy_seed
from bench.scenario.spec import Scenario, Strategy
from bench.scenario.workload import PlannedWorkload, plan_workload
from event_handlers.runtime.latency import load_profile


@dataclass
class StrategyOutcome:
    name: str
    kind: str
    repetition: int
    records: list[FileRecord]
    counters: dict[str, Any]
    api_calls: dict[str, int]
    api_calls_by_role: dict[str, dict[str, int]]
    writer: dict[str, float]
    notes: list[str]
    details: dict[str, Any]
    wall_s: float
    harness: HarnessCheck | None = None  # None where the run was not watched (the aws backend)


def run_scenario(
    scenario: Scenario,
    out_dir: Path,
    *,
    progress: ProgressReporter | None = None,
    command: str = "",
    scenario_file: str = "",
) -> Run:
    """Run every strategy of ``scenario`` and write the results to ``out_dir``; return the summary."""
    progress = progress or QuietProgress()
    check_live_size(scenario)
    started = datetime.now(UTC)
    environment = capture_environment(started)
    profile = load_profile(scenario.latency_profile)
    planned = plan_workload(scenario.workload, scenario.seed)
    if not planned.files:
        raise InputError(f"scenario {scenario.name!r} produces no files; check its arrivals")
    bodies = {spec.key: planned.body(spec) for spec in planned.files}
    outcomes: list[StrategyOutcome] = []
    label = ""

    def write(ran: Scenario, reason: str | None = None) -> Run:
        records = pd.DataFrame([vars(r) for o in outcomes for r in o.records], columns=COLUMNS)
        summary = build_summary(
            ran,
            outcomes,
            records,
            environment,
            profile_info(profile),
            command=command,
            scenario_file=scenario_file,
        )
        if reason is not None:
            summary = summary.model_copy(update={"complete": False, "incomplete_reason": reason})
        write_results(out_dir, records, summary)
        return summary

    try:
        for repetition in range(scenario.repetitions):
            for index, spec in enumerate(scenario.strategies):
                seed = strategy_seed(scenario.seed, index, repetition)
                label = spec.name if scenario.repetitions == 1 else f"{spec.name} #{repetition + 1}"
                progress.begin(label, len(planned.files))
                outcome = run_strategy(scenario, spec, planned, bodies, repetition, seed, profile, progress)
                final = sum(r.final for r in outcome.records)
                progress.end(f"{final}/{len(planned.files)} final in {outcome.wall_s:.1f}s")
                outcomes.append(outcome)
    except KeyboardInterrupt as stop:
        if outcomes:  # keep what finished; the strategy run that was stopped is not in the file
            ran = {o.name for o in outcomes}
            name = getattr(stop, "signal_name", "SIGINT")
            total = scenario.repetitions * len(scenario.strategies)
            write(
                scenario.model_copy(update={"strategies": [s for s in scenario.strategies if s.name in ran]}),
                f"stopped by {name} during {label!r}: {len(outcomes)} of {total} strategy runs finished",
            )
        raise
    return write(scenario)


def check_live_size(scenario: Scenario) -> None:
    """Refuse, before generating anything, a workload that cannot be played live on this machine
    (too many files, too long in real time, or more memory than it has): see ``bench.scenario.limits``."""
    check_live(scenario)


def run_strategy(
    scenario: Scenario,
    spec: Strategy,
    planned: PlannedWorkload,
    bodies: dict[str, bytes],
    repetition: int,
    seed: int,
    profile: Any,
    progress: ProgressReporter,
) -> StrategyOutcome:
    """One strategy, one repetition, on a fresh backend: deploy, start, write, drain, stop."""
    recorder = Recorder(spec.name, repetition)
    for file in planned.files:
        recorder.expect(file.key, len(bodies[file.key]), file.arrival_s)
    wall_start = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="pve-work-", dir=scratch_dir()) as work,
        fresh_backend(scenario.backend_of(spec), bucket=_bucket_name(spec.name)) as env,
    ):
        ctx = RunContext(scenario, env, recorder, profile, seed, Path(work))
        strategy = make_strategy(spec, ctx)
        strategy.setup()
        strategy.start()
        written = [0]

        def on_write(n: int) -> None:
            written[0] = n
            progress.update(n, recorder.final_count)

        with settled_heap_frozen():  # no full collection pauses the timed part (bench.live.heap)
            monitor = HealthMonitor(lambda: written[0], lambda: recorder.final_count).start()
            try:
                writer = write_workload(
                    env, planned, bodies, recorder, lead_s=WRITER_LEAD_S, on_write=on_write
                )
                monitor.writer_done(WRITER_LEAD_S)
                deadline = time.monotonic() + scenario.drain_timeout_s
                expected = len(planned.files)
                while time.monotonic() < deadline:
                    if recorder.wait_all_final(expected, timeout=0.2):
                        break
                    progress.update(writer.files, recorder.final_count)
                progress.update(writer.files, recorder.final_count)
            finally:
                samples = monitor.stop()
                strategy.stop()
        strategy.finish()
        health = judge_health(
            writer_lags_s=writer.lags_s,
            samples=samples,
            writing=monitor.writing,
            request_seconds=env.counter.request_seconds(),
            design_files=design_backlog(
                [file.arrival_s for file in planned.files], design_hold_s(spec, profile)
            ),
        )
        counters = strategy.counters()
        return StrategyOutcome(
            name=spec.name,
            kind=spec.kind,
            repetition=repetition,
            records=recorder.records(),
            counters=counters,
            api_calls=env.counter.for_roles(STRATEGY_ROLES),
            api_calls_by_role=env.counter.by_role(),
            writer=writer.as_dict(),
            notes=strategy.notes() + _unknown_note(spec.name, recorder.unknown_keys),
            details=strategy.details(),
            wall_s=time.monotonic() - wall_start,
            harness=health,
        )


def scratch_dir() -> str | None:
    """Where a strategy keeps its working files (the handler's SQLite ledger, a poller's state):
    memory-backed /dev/shm when there is one. On a disk, each ledger commit waits for an fsync
    (about 4-5 ms per execute measured here, two commits per file): harness time no AWS
    deployment pays (its ledger would be DynamoDB), and the largest cost the profile of a
    saturated S3 -> SQS -> Lambda run showed after moto itself. A TMPDIR the user set wins."""
    if os.environ.get("TMPDIR"):
        return None  # tempfile's own choice: the folder the user named
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def _unknown_note(strategy: str, keys: list[str]) -> list[str]:
    """Keys a strategy handled that the workload never wrote (an output re-triggering, say)."""
    if not keys:
        return []
    return [f"{strategy}: handled {len(keys)} key(s) the workload did not write, e.g. {keys[0]!r}"]


def _bucket_name(strategy: str) -> str:
    name = "".join(c if c.isalnum() else "-" for c in strategy.lower())
    return f"pve-{name}"[:63].strip("-")


def build_summary(
    scenario: Scenario,
    outcomes: list[StrategyOutcome],
    records: pd.DataFrame,
    environment: Environment,
    profile: ProfileInfo,
    *,
    command: str,
    scenario_file: str,
    pricing: Pricing | None = None,
) -> Run:
    """The run's summary from each repetition's outcome and the per-file records, priced."""
    strategies = {
        spec.name: _strategy_result(scenario, spec, [o for o in outcomes if o.name == spec.name], records)
        for spec in scenario.strategies
    }
    run = build_run(
        RunKind.LIVE,
        scenario,
        strategies,
        profile=profile,
        environment=environment,
        command=command,
        scenario_file=scenario_file,
    )
    return priced(run, pricing or load_pricing())


def _strategy_result(
    scenario: Scenario, spec: Strategy, runs: list[StrategyOutcome], records: pd.DataFrame
) -> StrategyResult:
    repetitions = [
        Repetition.model_validate(
            {
                "repetition": o.repetition,
                "wall_s": round(o.wall_s, 3),
                "writer": o.writer,
                "api_calls_by_role": o.api_calls_by_role,
                **o.details,
            }
        )
        for o in runs
    ]
    failures = [
        Failure(key=r.key, outcome=r.outcome, error=r.error)
        for o in runs
        for r in o.records
        if r.outcome != "processed"
    ][:50]
    result = strategy_result(
        spec,
        scenario.backend_of(spec),
        **strategy_stats(records[records["strategy"] == spec.name]),
        counters=_sum_dicts([o.counters for o in runs]),
        api_calls=_sum_dicts([o.api_calls for o in runs]),
        repetitions=repetitions,
        notes=sorted({n for o in runs for n in o.notes}),
        failures=failures,
        instance_s=sum(r.wall_s for r in repetitions),
    )
    checks = [o.harness for o in runs if o.harness is not None]
    result = result.model_copy(update={"harness": merge_health(checks) if checks else None})
    checked = live_stability(spec, scenario, result)
    notes = list(result.notes)
    if checked.servers <= 0:
        notes.append(no_servers_note(spec))
    elif not checked.stable:
        notes.append(
            f"{spec.name}: unstable here: utilisation {checked.utilisation:.2f} with {checked.servers:g} "
            "local servers (rate x processing time / servers >= 1); latency grew with the backlog"
        )
    return result.model_copy(update={**checked.fields(), "notes": notes})


def _sum_dicts(items: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for item in items:
        for key, value in item.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                total.setdefault(key, value)
            elif key.startswith("max_"):
                total[key] = max(total.get(key, value), value)
            else:
                total[key] = total.get(key, 0) + value
    return total
