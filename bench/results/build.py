"""The one builder of results: a live run and a simulation fill the same model the same way.

The live runner (``bench.live.runner``) gets its counts and latencies from per-file records; the
simulator (``bench.simulate.runner``) from its streaming tallies. Both hand them to
:func:`strategy_result` and :func:`build_run`; ``bench.cost.run.priced`` then stores the pricing
table's identity and the dollars derived from the counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from bench.results.model import (
    SCHEMA_VERSION,
    Environment,
    ProfileInfo,
    ResultModel,
    Run,
    RunKind,
    ScenarioRecord,
    StrategyResult,
)

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


def strategy_result(
    spec: StrategySpec,
    backend: str,
    *,
    counters: Mapping[str, Any],
    api_calls: Mapping[str, int],
    **measured: Any,
) -> StrategyResult:
    """A strategy's results from what was counted; the summed counters are lifted to the top.

    ``measured`` holds the other :class:`StrategyResult` fields (``files``, ``processed``,
    ``latency_s`` as a mapping or ``LatencyStats``, ``repetitions``, ``instance_s``, ...).
    """
    _check_fields(StrategyResult, measured)
    return StrategyResult.model_validate(
        {
            "kind": str(spec.kind),
            "backend": backend,
            "parameters": spec.model_dump(exclude={"name", "kind", "backend"}),
            **measured,
            **{name: int(counters.get(name, 0)) for name in SUMMED},
            "api_calls": dict(api_calls),
            "api_calls_total": int(sum(api_calls.values())),
            "counters": dict(counters),
        }
    )


def build_run(
    kind: RunKind,
    scenario: ScenarioSpec,
    strategies: Mapping[str, StrategyResult],
    *,
    profile: ProfileInfo,
    environment: Environment,
    **header: Any,
) -> Run:
    """A run's summary, unpriced (``bench.cost.run.priced`` adds the pricing and the dollars).

    ``header`` holds the other :class:`Run` fields: ``command``, ``scenario_file``, ``simulation``
    (a :class:`SimulationInfo`), ``notes``.
    """
    _check_fields(Run, header)
    return Run.model_validate(
        {
            **header,
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "scenario": ScenarioRecord.model_validate(scenario.model_dump(mode="json")),
            "latency_profile": profile,
            "environment": environment,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "strategies": dict(strategies),
        }
    )


def _check_fields(model: type[ResultModel], given: Mapping[str, Any]) -> None:
    """A misspelt keyword would become an extra field silently: refuse it (it is a bug)."""
    unknown = sorted(set(given) - set(model.model_fields))
    if unknown:
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(unknown)}")
