"""Result files (records.csv, summary.json), their typed model, statistics and comparisons.

The names below are re-exported so ``bench.results.X`` keeps working. They are loaded on first
use: importing ``bench.results.model`` (the cost model does, for a run's typed counts) must not
import pandas through ``bench.results.files`` (about half a second of every ``pve decide``)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.results.files import Results, ResultsError, read_results, read_summary, write_results
    from bench.results.model import (
        SCHEMA_VERSION,
        CostBlock,
        LatencyStats,
        Repetition,
        Run,
        RunKind,
        StrategyResult,
    )

_EXPORTS: dict[str, str] = {
    "Results": "bench.results.files",
    "ResultsError": "bench.results.files",
    "read_results": "bench.results.files",
    "read_summary": "bench.results.files",
    "write_results": "bench.results.files",
    "SCHEMA_VERSION": "bench.results.model",
    "CostBlock": "bench.results.model",
    "LatencyStats": "bench.results.model",
    "Repetition": "bench.results.model",
    "Run": "bench.results.model",
    "RunKind": "bench.results.model",
    "StrategyResult": "bench.results.model",
}

__all__ = [
    "SCHEMA_VERSION",
    "CostBlock",
    "LatencyStats",
    "Repetition",
    "Results",
    "ResultsError",
    "Run",
    "RunKind",
    "StrategyResult",
    "read_results",
    "read_summary",
    "write_results",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # once
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
