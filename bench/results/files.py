"""The result files: ``records.csv`` (one row per file per strategy) and ``summary.json``.

Every analysis command (``report``, ``compare``, the notebooks) reads these files and nothing
else; the schema is versioned so an old folder is refused, not misread.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.errors import InputError
from bench.results.records import COLUMNS

SCHEMA_VERSION = 1


class ResultsError(InputError):
    """A results folder that cannot be read."""


@dataclass(frozen=True)
class Results:
    folder: Path
    records: pd.DataFrame
    summary: dict[str, Any]

    @property
    def strategies(self) -> list[str]:
        return list(self.summary["strategies"])

    @property
    def scenario_name(self) -> str:
        return str(self.summary["scenario"]["name"])


def write_results(folder: Path, records: pd.DataFrame, summary: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    records.to_csv(folder / "records.csv", index=False, float_format="%.6f")
    (folder / "summary.json").write_text(
        json.dumps(_clean(summary), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_results(folder: str | Path) -> Results:
    """Load a results folder, checking its schema version."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise ResultsError(f"{folder} is not a results folder: no summary.json")
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{summary_path} is not valid JSON: {exc}") from exc
    version = summary.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ResultsError(
            f"{summary_path} has schema_version {version!r}; this version reads {SCHEMA_VERSION}"
        )
    records_path = folder / "records.csv"
    if records_path.is_file():
        records = pd.read_csv(
            records_path,
            keep_default_na=False,
            na_values=[""],
            dtype={"key": str, "path": str, "error": str, "strategy": str},
        )
        records["path"] = records["path"].fillna("")
        records["error"] = records["error"].fillna("")
    else:
        records = pd.DataFrame(columns=COLUMNS)
    return Results(folder, records, summary)


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
