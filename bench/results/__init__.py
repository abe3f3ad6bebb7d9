"""Result files (records.csv, summary.json), their typed model, statistics and comparisons.

The names below are re-exported so ``bench.results.X`` keeps working."""

from bench.results.files import (
    Results,
    ResultsError,
    read_results,
    read_summary,
    write_results,
)
from bench.results.model import (
    SCHEMA_VERSION,
    CostBlock,
    LatencyStats,
    Repetition,
    Run,
    RunKind,
    StrategyResult,
)

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
