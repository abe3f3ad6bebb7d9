"""The stability rule: a file that may still be written is kept for a later cycle. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pollers.entries import Entry


@dataclass
class StabilityGate:
    """Hold back entries younger than ``min_age_s`` or whose size changed since the last look.

    With ``min_age_s == 0`` every entry passes at once (the right choice for S3, where an object
    appears only when its upload completes). For a local folder written in place, a small
    ``min_age_s`` stops a half-written file from being reported; an entry held back once must
    then also show the same size on the next look before it passes.
    """

    min_age_s: float = 0.0
    _pending: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.min_age_s < 0:
            raise ValueError(f"min_age_s must be >= 0, got {self.min_age_s}")

    def split(self, entries: Iterable[Entry], now: float) -> tuple[list[Entry], list[Entry]]:
        """Return (ready, held back) and remember the sizes of what was held back."""
        ready: list[Entry] = []
        held: list[Entry] = []
        for entry in entries:
            previous_size = self._pending.get(entry.key)
            young = now - entry.mtime < self.min_age_s
            growing = previous_size is not None and previous_size != entry.size
            if young or growing:
                held.append(entry)
                self._pending[entry.key] = entry.size
            else:
                ready.append(entry)
                self._pending.pop(entry.key, None)
        return ready, held

    def forget_missing(self, present_keys: set[str]) -> None:
        """Drop held-back keys that have disappeared (deleted or renamed by their writer)."""
        for key in [k for k in self._pending if k not in present_keys]:
            del self._pending[key]

    @property
    def held_back(self) -> int:
        return len(self._pending)
