"""The result files: ``records.csv`` (one row per file per strategy) and ``summary.json``.

Every analysis command (``report``, ``compare``, the notebooks) reads these files and nothing
else. ``summary.json`` is versioned: a small map from each version to its reader (pyperf's
``_JSON_MAP_VERSION``) upgrades an old file to the current model, and a version no reader knows
is refused, not misread.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from bench.errors import InputError
from bench.results.model import SCHEMA_VERSION, Run, RunKind
from bench.results.records import COLUMNS


class ResultsError(InputError):
    """A results folder that cannot be read."""


@dataclass(frozen=True)
class Results:
    """A results folder as read: its records and its summary (a :class:`Run`)."""

    folder: Path
    records: pd.DataFrame
    summary: Run

    @property
    def run(self) -> Run:
        return self.summary

    @property
    def strategies(self) -> list[str]:
        return list(self.summary.strategies)

    @property
    def scenario_name(self) -> str:
        return self.summary.scenario_name


def write_results(folder: Path, records: pd.DataFrame, summary: Run) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    records.to_csv(folder / "records.csv", index=False, float_format="%.6f")
    write_summary(folder / "summary.json", summary)


def write_summary(path: Path, summary: Run) -> None:
    path.write_text(
        json.dumps(_clean(summary.to_json()), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def read_results(folder: str | Path) -> Results:
    """Load a results folder, upgrading an older summary to the current model."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise ResultsError(f"{folder} is not a results folder: no summary.json")
    summary = read_summary(summary_path)
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


def read_summary(path: Path) -> Run:
    """One ``summary.json`` of any known schema version, as the current model."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path} is not valid JSON: {exc}") from exc
    return summary_from_json(data, str(path))


def summary_from_json(data: Any, origin: str = "summary") -> Run:
    if not isinstance(data, dict):
        raise ResultsError(f"{origin} is not a summary (a JSON object)")
    version = data.get("schema_version")
    reader = _JSON_MAP_VERSION.get(version) if isinstance(version, int) else None
    if reader is None:
        known = ", ".join(str(v) for v in sorted(_JSON_MAP_VERSION))
        raise ResultsError(f"{origin} has schema_version {version!r}; this version reads {known}")
    try:
        return reader(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ResultsError(
            f"{origin}: not a valid schema {version} summary ({exc.error_count()} problem(s); "
            f"first at {where}: {first['msg']})"
        ) from None


def _read_v2(data: dict[str, Any]) -> Run:
    return Run.model_validate(data)


def _read_v1(data: dict[str, Any]) -> Run:
    """Schema 1 (before 2026-11-27): the same fields, without the pricing table's hash or each
    strategy's instance time, and with dollars fixed at write time. The upgrade adds the instance
    time the v1 pricing used (a live run's wall time; for a simulation, which did not store it,
    the simulated period, an approximation) and drops the stored dollars, which no function of
    this version provably derived: readers price the counts again with ``run_cost``."""
    upgraded = {**data, "schema_version": SCHEMA_VERSION, "pricing_sha256": None}
    simulated = data.get("kind") == RunKind.SIMULATED.value
    period_s = _v1_period_s(data) if simulated else None
    strategies = {}
    for name, entry in data.get("strategies", {}).items():
        entry = {k: v for k, v in entry.items() if k != "cost"}
        if simulated:
            entry["instance_s"] = period_s
        else:
            entry["instance_s"] = sum(float(r.get("wall_s", 0.0)) for r in entry.get("repetitions", []))
        strategies[name] = entry
    upgraded["strategies"] = strategies
    upgraded.setdefault("notes", [])
    upgraded["notes"] = [
        *upgraded["notes"],
        "read from schema 1: dollars are repriced from the counts"
        + ("; a poller's instance time is the simulated period" if simulated else ""),
    ]
    return Run.model_validate(upgraded)


def _v1_period_s(data: dict[str, Any]) -> float | None:
    days = (data.get("simulation") or {}).get("days")
    scale = ((data.get("scenario") or {}).get("workload") or {}).get("time_scale", 1.0) or 1.0
    return None if days is None else float(days) * 86400.0 / float(scale)


_JSON_MAP_VERSION: dict[int, Callable[[dict[str, Any]], Run]] = {1: _read_v1, 2: _read_v2}


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
