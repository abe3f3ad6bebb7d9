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


# what the builder fills in itself: from the spec, the backend, the counters and the API calls
_DERIVED = frozenset({"kind", "backend", "parameters", "api_calls_total", *SUMMED})
# what build_run fills in itself (its own arguments, the schema version, the clock)
_RUN_DERIVED = frozenset(
    {"schema_version", "kind", "scenario", "latency_profile", "environment", "strategies", "finished_at"}
)


def _check_fields(model: type[ResultModel], given: Mapping[str, Any], derived: frozenset[str]) -> None:
    """A misspelt or derived keyword is a bug: the model allows extra fields, so it would not say."""
    wrong = sorted((set(given) - set(model.model_fields)) | (set(given) & derived))
    if wrong:
        raise TypeError(f"{model.__name__} takes no {', '.join(map(repr, wrong))} from its builder")


def strategy_result(spec: StrategySpec, backend: str, /, **measured: Any) -> StrategyResult:
    """A strategy's results from what was counted, validated by the model itself.

    ``measured`` holds :class:`StrategyResult`'s own fields (``files``, ``processed``, ``latency_s``,
    ``counters``, ``api_calls``, ...): the model is the one list of what a result holds and its
    defaults the only defaults. The builder adds what follows from the rest: the kind, backend and
    parameters from the spec, the summed counters lifted to the top, the total of the API calls.
    """
    _check_fields(StrategyResult, measured, _DERIVED)
    counters = dict(measured.get("counters", {}))
    api_calls = dict(measured.get("api_calls", {}))
    return StrategyResult.model_validate(
        {
            **measured,
            "kind": str(spec.kind),
            "backend": backend,
            "parameters": spec.model_dump(exclude={"name", "kind", "backend"}),
            **{name: int(counters.get(name, 0)) for name in SUMMED},
            "api_calls_total": int(sum(api_calls.values())),
        }
    )


def build_run(
    kind: RunKind,
    scenario: ScenarioSpec,
    strategies: Mapping[str, StrategyResult],
    /,
    *,
    profile: ProfileInfo,
    environment: Environment,
    **fields: Any,
) -> Run:
    """A run's summary, unpriced (``bench.cost.run.priced`` adds the pricing and the dollars).

    ``fields`` are :class:`Run`'s own (``command``, ``scenario_file``, ``simulation``, ``notes``,
    ...), validated by the model; the scenario file is stored relative to the repository.
    """
    _check_fields(Run, fields, _RUN_DERIVED)
    if "scenario_file" in fields:
        fields["scenario_file"] = portable_path(fields["scenario_file"])  # never this machine's path
    return Run.model_validate(
        {
            **fields,
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "scenario": ScenarioRecord.model_validate(scenario.model_dump(mode="json")),
            "latency_profile": profile,
            "environment": environment,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "strategies": dict(strategies),
        }
    )
