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
from typing import TYPE_CHECKING, Any

from bench.atomic import write_atomically, write_text_atomically
from bench.errors import InputError, parse_nested
from bench.results.records import COLUMNS

if TYPE_CHECKING:  # pandas and the pydantic model are imported where results are read: checking
    import pandas as pd  # an --out folder must not pay their half second (pve decide)

    from bench.results.model import Run


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
    write_atomically(
        folder / "records.csv", lambda temp: records.to_csv(temp, index=False, float_format="%.6f")
    )
    write_summary(folder / "summary.json", summary)


def write_summary(path: Path, summary: Run) -> None:
    write_text_atomically(path, json.dumps(_clean(summary.to_json()), indent=2, ensure_ascii=False) + "\n")


def read_results(folder: str | Path) -> Results:
    """Load a results folder, upgrading an older summary to the current model.

    The folder is checked before anything is drawn from it: the summary must be valid, and
    ``records.csv`` must exist, hold every record column, and hold one row per file for each
    strategy (a sampled simulation: at most one per file), so a truncated or foreign file is a
    :class:`ResultsError` naming it, never a chart drawn from part of the data."""
    folder = Path(folder)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise ResultsError(f"{folder} is not a results folder: no summary.json")
    summary = read_summary(summary_path)
    records = read_records(folder / "records.csv")
    check_row_counts(records, summary, folder / "records.csv")
    check_latencies(records, folder / "records.csv")
    return Results(folder, records, summary)


def check_latencies(records: pd.DataFrame, path: Path) -> None:
    """A processed file has a latency: a blank or NaN one is a damaged records file, refused
    (percentiles would silently skip it)."""
    processed = records[records["outcome"] == "processed"]
    import pandas as pd

    missing = processed[~pd.to_numeric(processed["latency_s"], errors="coerce").map(math.isfinite)]
    if len(missing):
        first = missing.iloc[0]
        raise ResultsError(
            f"{path}: {len(missing)} processed row(s) without a finite latency_s (first: strategy "
            f"{first['strategy']!r}, key {first['key']!r}): a damaged or edited records file"
        )


def read_records(path: Path) -> pd.DataFrame:
    """``records.csv`` with every record column, or a :class:`ResultsError` naming the file."""
    import pandas as pd

    if not path.is_file():
        raise ResultsError(f"{path}: missing (a results folder holds records.csv beside summary.json)")
    try:
        records = pd.read_csv(
            path,
            keep_default_na=False,
            na_values=[""],
            dtype={"key": str, "path": str, "error": str, "strategy": str},
        )
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ResultsError(f"{path}: not a readable records file ({type(exc).__name__}: {exc})") from None
    missing = [c for c in COLUMNS if c not in records.columns]
    if missing:
        raise ResultsError(f"{path}: missing record column(s) {', '.join(missing)}")
    numeric = [c for c in COLUMNS if c not in _TEXT_COLUMNS]
    bad = [c for c in numeric if len(records) and not pd.api.types.is_numeric_dtype(records[c])]
    if bad:
        raise ResultsError(f"{path}: column(s) {', '.join(bad)} hold values that are not numbers")
    records["path"] = records["path"].fillna("")
    records["error"] = records["error"].fillna("")
    return records


_TEXT_COLUMNS = frozenset({"strategy", "key", "outcome", "path", "error"})


def check_row_counts(records: pd.DataFrame, summary: Run, path: Path) -> None:
    """Each strategy's rows against its ``files`` in the summary: equal, unless the records are a
    sample (a simulation of millions of files keeps at most ``files`` rows)."""
    sampled = summary.simulation is not None and summary.simulation.records not in ("", "every file")
    counts = records["strategy"].value_counts()
    unknown = sorted(set(counts.index) - set(summary.strategies))
    if unknown:
        raise ResultsError(f"{path}: rows of strategies the summary does not have: {', '.join(unknown)}")
    for name, strategy in summary.strategies.items():
        rows = int(counts.get(name, 0))
        if rows > strategy.files or (rows != strategy.files and not sampled):
            raise ResultsError(
                f"{path}: {rows} row(s) for strategy {name!r}, but summary.json says {strategy.files} "
                "file(s) (a truncated or mismatched records file)"
            )


def latency_warnings(results: Results) -> list[str]:
    """What a reader should know about a folder's latencies before trusting its percentiles:
    negative ones (the clocks of writer and processor disagree; on AWS, a clock offset)."""
    records = results.records
    processed = records[records["outcome"] == "processed"]
    out = []
    for name, rows in processed.groupby("strategy"):
        negative = rows["latency_s"] < 0
        if negative.any():
            out.append(
                f"{results.folder}: {name}: {int(negative.sum())} processed file(s) with a negative "
                f"latency (lowest {rows['latency_s'].min():.3f} s): the writer's and the processor's "
                "clocks disagree; percentiles include them"
            )
    return out


def read_from_schema_1(run: Run) -> bool:
    """Whether ``run`` was upgraded from a schema-1 summary (its reader leaves a note saying so)."""
    return any(note.startswith(SCHEMA_1_NOTE) for note in run.notes)


SCHEMA_1_NOTE = "read from schema 1"


def _refuse_constant(name: str) -> float:
    raise ValueError(name)


def read_summary(path: Path) -> Run:
    """One ``summary.json`` of any known schema version, as the current model. NaN and Infinity
    (which ``json`` accepts, and this suite never writes: missing values are null) are refused."""
    try:
        data = parse_nested(
            lambda text: json.loads(text, parse_constant=_refuse_constant),
            path.read_text(encoding="utf-8"),
            str(path),
            "a summary",
        )
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path} is not valid JSON: {exc}") from exc
    except ValueError as exc:  # a NaN or Infinity constant (InputError, a ValueError too, passes on)
        if isinstance(exc, InputError):
            raise
        raise ResultsError(
            f"{path}: holds {exc} where a number belongs (this suite writes a missing value as null): "
            "an edited or foreign summary"
        ) from None
    return summary_from_json(data, str(path))


def summary_from_json(data: Any, origin: str = "summary") -> Run:
    from pydantic import ValidationError

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
    from bench.results.model import Run

    return Run.model_validate(data)


def _read_v1(data: dict[str, Any]) -> Run:
    """Schema 1 (before 2026-11-27): the same fields, without the pricing table's hash or each
    strategy's instance time, and with dollars fixed at write time. The upgrade adds the instance
    time the v1 pricing used (a live run's wall time; for a simulation, which did not store it,
    the simulated period, an approximation) and drops the stored dollars, which no function of
    this version provably derived: readers price the counts again with ``run_cost``."""
    from bench.results.model import SCHEMA_VERSION, Run, RunKind

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
        f"{SCHEMA_1_NOTE}: dollars are repriced from the counts"
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


# -- output folders: checked before a run, cleared only when asked ------------------------------
# What a results folder of any command holds at its top level: a folder with one of these is
# another run's results, never overwritten without --force.
RESULT_MARKERS = (
    "summary.json",
    "validation.json",
    "sweep.json",
    "idle_cost.json",
    "comparison.csv",
    "capacity.json",
)
RESULT_SUFFIXES = (".csv", ".json", ".png", ".svg", ".txt")  # what --force clears (nothing else)


def is_results_folder(folder: Path, depth: int = 1) -> bool:
    """Whether ``folder`` (or a folder right inside it) holds a run's results."""
    if any((folder / name).is_file() for name in RESULT_MARKERS):
        return True
    if depth == 0:
        return False
    return any(child.is_dir() and is_results_folder(child, depth - 1) for child in folder.iterdir())


def prepare_out_folder(folder: Path, *, flag: str = "--out", force: bool = False) -> None:
    """Check, before any work, that results can be written to ``folder``; with ``force``, clear
    another run's results out of it first, so nothing stale sits beside the new ones.

    Refused (an :class:`InputError` naming ``flag``): an existing file, a folder that cannot be
    created or written, another run's results folder without ``force``."""
    folder = Path(folder)
    _check_length(folder, flag)
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{flag} {folder}: is a file, not a folder")
    _check_writable(folder, flag)
    if folder.is_dir() and is_results_folder(folder):
        if not force:
            raise InputError(
                f"{flag} {folder}: holds another run's results; choose a new folder, or pass --force "
                "to replace them"
            )
        clear_results(folder)


def prepare_out_file(path: Path, *, flag: str) -> None:
    """Check that a single output file can be written: not a folder, its folder writable (an
    existing file is replaced, as a file output usually is)."""
    path = Path(path)
    _check_length(path, flag)
    if path.is_dir():
        raise InputError(f"{flag} {path}: is a folder, not a file")
    _check_writable(path.parent, flag)


def clear_results(folder: Path) -> list[Path]:
    """Delete the result files (records, summaries, charts) of ``folder`` and of the results
    folders inside it (and of theirs: a capacity sweep's runs/rate-N/); anything else is left
    alone. Returns what was deleted."""
    removed: list[Path] = []
    for child in sorted(folder.iterdir()):
        if child.is_file() and child.suffix in RESULT_SUFFIXES:
            child.unlink()
            removed.append(child)
        elif child.is_dir() and is_results_folder(child):
            # a run's folder, or a folder of runs (pve capacity's runs/, a folder per offered rate)
            removed += clear_results(child)
            if not any(child.iterdir()):
                child.rmdir()
    return removed


def _check_length(path: Path, flag: str) -> None:
    """Refuse a path no file system takes (a name over 255 bytes, a path over 4,096), before
    ``exists()`` meets it as an OSError."""
    import os

    from bench.scenario.bounds import path_too_long

    too_long = path_too_long(os.path.abspath(path))
    if too_long:
        raise InputError(f"{flag} {str(path)[:60]}...: {too_long}")


def _check_writable(folder: Path, flag: str) -> None:
    """The nearest existing ancestor of ``folder`` must be a folder we can create files in."""
    import os
    import tempfile

    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{flag} {folder}: {probe} is a file, so the folder cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{flag} {folder}: {probe} is not writable")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        raise InputError(f"{flag} {folder}: cannot write in {probe} ({exc.strerror or exc})") from None
