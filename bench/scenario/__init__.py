"""Scenarios: the validated TOML a run is played from, and its seeded workload.

The names below are re-exported from ``bench.scenario.spec`` and ``bench.scenario.kinds`` so
``bench.scenario.X`` keeps working. The spec's are loaded on first use: the cost model needs
only ``bench.scenario.kinds``, and the spec's pydantic models cost ``pve decide`` a quarter second."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bench.scenario.kinds import Kind

if TYPE_CHECKING:
    from bench.scenario.spec import (
        FOLDER_ONLY,
        KIND_SPECS,
        S3_ONLY,
        Arrivals,
        AsyncLambdaStrategy,
        Backend,
        Content,
        CursorName,
        EventBridgeStrategy,
        FunctionSettings,
        HybridStrategy,
        InotifyStrategy,
        PollStrategy,
        S3LambdaStrategy,
        Scenario,
        ScenarioError,
        ScheduledPollStrategy,
        SnsSqsLambdaStrategy,
        SqsLambdaStrategy,
        Strategy,
        Workload,
        bundled_scenarios,
        format_errors,
        load_scenario,
        parse_scenario,
        resolve_scenario_path,
    )

_SPEC_NAMES = frozenset(
    {
        "FOLDER_ONLY",
        "KIND_SPECS",
        "S3_ONLY",
        "Arrivals",
        "AsyncLambdaStrategy",
        "Backend",
        "Content",
        "CursorName",
        "EventBridgeStrategy",
        "FunctionSettings",
        "HybridStrategy",
        "InotifyStrategy",
        "PollStrategy",
        "S3LambdaStrategy",
        "Scenario",
        "ScenarioError",
        "ScheduledPollStrategy",
        "SnsSqsLambdaStrategy",
        "SqsLambdaStrategy",
        "Strategy",
        "Workload",
        "bundled_scenarios",
        "format_errors",
        "load_scenario",
        "parse_scenario",
        "resolve_scenario_path",
    }
)

__all__ = [
    "FOLDER_ONLY",
    "KIND_SPECS",
    "S3_ONLY",
    "Arrivals",
    "AsyncLambdaStrategy",
    "Backend",
    "Content",
    "CursorName",
    "EventBridgeStrategy",
    "FunctionSettings",
    "HybridStrategy",
    "InotifyStrategy",
    "Kind",
    "PollStrategy",
    "S3LambdaStrategy",
    "Scenario",
    "ScenarioError",
    "ScheduledPollStrategy",
    "SnsSqsLambdaStrategy",
    "SqsLambdaStrategy",
    "Strategy",
    "Workload",
    "bundled_scenarios",
    "format_errors",
    "load_scenario",
    "parse_scenario",
    "resolve_scenario_path",
]


def __getattr__(name: str) -> Any:
    if name not in _SPEC_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module("bench.scenario.spec"), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_SPEC_NAMES])
