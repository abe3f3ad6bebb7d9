"""Result files (records.csv, summary.json), their statistics and comparisons.

The names below are re-exported from ``bench.results.files`` so ``bench.results.X`` keeps working."""

from bench.results.files import (
    SCHEMA_VERSION,
    Results,
    ResultsError,
    read_results,
    write_results,
)

__all__ = [
    "SCHEMA_VERSION",
    "Results",
    "ResultsError",
    "read_results",
    "write_results",
]
