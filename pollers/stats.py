"""Counters a poller keeps, exposed to the benchmark as they are."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class PollStats:
    """What polling cost so far. ``list_requests`` is ListObjectsV2 pages (or scandir calls)."""

    poll_cycles: int = 0
    empty_polls: int = 0
    list_requests: int = 0
    objects_scanned: int = 0
    stat_calls: int = 0
    new_files: int = 0
    held_back: int = 0
    moved: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
