"""The record schema: one row per file per strategy, written by live runs and simulations alike.

Clocks are kept apart (as SeBS does): ``written_at`` is stamped by the writer when its PUT (or
rename) returned; ``detected_at`` when the strategy learnt of the file (a listing returned it,
or the handler received its event); ``started_at``/``finished_at`` around the task. All are
epoch seconds from one machine's clock. ``latency_s = finished_at - written_at``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Literal, get_args

FileOutcome = Literal["processed", "failed", "missed"]
OUTCOMES: tuple[FileOutcome, ...] = get_args(FileOutcome)


@dataclass
class FileRecord:
    strategy: str
    repetition: int
    key: str
    size_bytes: int
    arrival_s: float  # scenario clock (before time scaling)
    written_at: float
    detected_at: float = math.nan
    started_at: float = math.nan
    finished_at: float = math.nan
    latency_s: float = math.nan
    attempts: int = 0
    outcome: FileOutcome = "missed"
    path: str = ""  # which route handled it (hybrid: events or sweep)
    duplicates: int = 0  # successful runs beyond the first
    error: str = ""

    @property
    def final(self) -> bool:
        return self.outcome in ("processed", "failed")


COLUMNS = [f.name for f in fields(FileRecord)]
