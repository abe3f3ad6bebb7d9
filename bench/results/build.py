"""The one builder of results: a live run and a simulation fill the same model the same way.

The live runner (``bench.live.runner``) gets its counts and latencies from per-file records; the
simulator (``bench.simulate.runner``) from its streaming tallies. Both hand them to
:func:`strategy_result` and :func:`build_run`; ``bench.cost.run.priced`` then stores the pricing
table's identity and the dollars derived from the counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from bench.results.model import (
    SCHEMA_VERSION,
    Environment,
    Failure,
    LatencyStats,
    ProfileInfo,
    Repetition,
    Run,
    RunKind,
    ScenarioRecord,
    SimulationInfo,
    SimulationStats,
    StrategyResult,
)
from bench.results.portable import portable_path

# counters every strategy reports at the top level of its results, not only among its counters
SUMMED = ("invocations", "poll_cycles", "empty_polls", "cold_starts")


class StrategySpec(Protocol):
    """What the builder needs of a scenario's strategy spec (any of ``bench.scenario.spec``'s)."""

    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> Any: ...

    def model_dump(self, *, exclude: Any = ...) -> dict[str, Any]: ...


class ScenarioSpec(Protocol):
    def model_dump(self, *, mode: str = ...) -> dict[str, Any]: ...


def strategy_result(  # noqa: PLR0913  (one keyword per field of StrategyResult)
    spec: StrategySpec,
    backend: str,
    *,
    files: int,
    processed: int,
    failed: int = 0,
    missed: int = 0,
    duplicates: int = 0,
    latency_s: Mapping[str, float | None] | LatencyStats,
    detection_s: Mapping[str, float | None] | LatencyStats,
    processing_s: Mapping[str, float | None] | LatencyStats,
    paths: Mapping[str, int],
    counters: Mapping[str, Any],
    api_calls: Mapping[str, int],
    repetitions: Iterable[Repetition] = (),
    notes: Iterable[str] = (),
    failures: Iterable[Failure] = (),
    instance_s: float | None = None,
    simulation: SimulationStats | None = None,
    feasible: bool = True,
    why_not: str | None = None,
) -> StrategyResult:
    """A strategy's results from what was counted; the summed counters are lifted to the top."""
    return StrategyResult(
        kind=str(spec.kind),
        backend=backend,
        parameters=spec.model_dump(exclude={"name", "kind", "backend"}),
        files=int(files),
        processed=int(processed),
        failed=int(failed),
        missed=int(missed),
        duplicates=int(duplicates),
        latency_s=_stats(latency_s),
        detection_s=_stats(detection_s),
        processing_s=_stats(processing_s),
        paths={str(k): int(v) for k, v in paths.items()},
        **{name: int(counters.get(name, 0)) for name in SUMMED},
        api_calls=dict(api_calls),
        api_calls_total=int(sum(api_calls.values())),
        counters=dict(counters),
        repetitions=list(repetitions),
        notes=list(notes),
        failures=list(failures),
        instance_s=instance_s,
        simulation=simulation,
        feasible=feasible,
        why_not=why_not,
    )


def _stats(value: Mapping[str, float | None] | LatencyStats) -> LatencyStats:
    return value if isinstance(value, LatencyStats) else LatencyStats.model_validate(dict(value))


def build_run(  # noqa: PLR0913  (one keyword per field of Run)
    kind: RunKind,
    scenario: ScenarioSpec,
    strategies: Mapping[str, StrategyResult],
    *,
    profile: ProfileInfo,
    environment: Environment,
    command: str = "",
    scenario_file: str = "",
    simulation: SimulationInfo | None = None,
    notes: Iterable[str] = (),
) -> Run:
    """A run's summary, unpriced (``bench.cost.run.priced`` adds the pricing and the dollars)."""
    return Run(
        schema_version=SCHEMA_VERSION,
        kind=kind,
        command=command,
        scenario_file=portable_path(scenario_file),  # never this machine's absolute path
        scenario=ScenarioRecord.model_validate(scenario.model_dump(mode="json")),
        latency_profile=profile,
        environment=environment,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        simulation=simulation,
        notes=list(notes),
        strategies=dict(strategies),
    )
