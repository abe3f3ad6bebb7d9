"""The stability rule: a file that may still be written is kept for a later cycle. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pollers.entries import Entry
from pollers.errors import PollerConfigError


@dataclass
class StabilityGate:
    """Hold back entries younger than ``min_age_s`` or whose size changed since the last look.

    With ``min_age_s == 0`` every entry passes at once (right for S3, where an object appears only
    when its upload completes, and for writers that write a hidden ``.name.part`` and rename).
    For a folder written in place, ``min_age_s > 0`` stops a half-written file from being reported:
    a young entry is held, and must then show the same size on a later look before it passes.

    A timestamp more than ``skew_s`` in the future (a writer whose clock runs ahead) cannot say how
    old the file is: it is not waited for, only checked for a stable size like any held file, and
    counted in ``future_timestamps``.
    """

    min_age_s: float = 0.0
    skew_s: float = 2.0
    future_timestamps: int = 0
    _pending: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 <= self.min_age_s < float("inf"):
            raise PollerConfigError(f"min_age_s must be a finite number >= 0, got {self.min_age_s}")
        if not 0 <= self.skew_s < float("inf"):
            raise PollerConfigError(f"skew_s must be a finite number >= 0, got {self.skew_s}")

    def split(self, entries: Iterable[Entry], now: float) -> tuple[list[Entry], list[Entry]]:
        """Return (ready, held back) and remember the sizes of what was held back."""
        ready: list[Entry] = []
        held: list[Entry] = []
        min_age, pending = self.min_age_s, self._pending
        entries = list(entries)
        settled = now - min_age
        if not pending and all(settled >= e.mtime for e in entries):
            return entries, held  # the usual case: nothing young, nothing in the future, none held
        for entry in entries:
            previous_size = pending.get(entry.key)
            future = entry.mtime > now + self.skew_s
            # a future timestamp says nothing about age: one more look, for the size, is enough
            young = (min_age > 0 and previous_size is None) if future else now - entry.mtime < min_age
            growing = previous_size is not None and previous_size != entry.size
            if young or growing:
                held.append(entry)
                pending[entry.key] = entry.size
            else:
                ready.append(entry)
                self.future_timestamps += future
                pending.pop(entry.key, None)
        return ready, held

    def forget_missing(self, present_keys: set[str]) -> None:
        """Drop held-back keys that have disappeared (deleted or renamed by their writer)."""
        for key in [k for k in self._pending if k not in present_keys]:
            del self._pending[key]

    @property
    def held_back(self) -> int:
        return len(self._pending)
