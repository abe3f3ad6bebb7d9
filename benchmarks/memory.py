"""Peak memory of this process and its worker processes together, sampled while a subject runs.

``ru_maxrss`` is one process's peak; a simulation on several cores has a peak per worker, and
forked workers share the parent's pages. So the sum of each process's proportional set size
(PSS: a shared page counts a share to each process mapping it) is sampled a few times a second
from ``/proc``, and its largest value kept. Linux only; elsewhere, this process's ``ru_maxrss``.
"""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path
from types import TracebackType


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            out += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_mb(pid: int | None = None) -> float:
    """This process's PSS plus all its descendants', in MB (0 where /proc cannot tell)."""
    pending, total = [pid or os.getpid()], 0
    while pending:
        current = pending.pop()
        total += _pss_kb(current)
        pending += _children(current)
    return total / 1024


class PeakMemory:
    """``with PeakMemory() as peak: ...``; then ``peak.mb``: the largest PSS sum sampled."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every_s, self.mb = every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every_s):
            self.mb = max(self.mb, tree_pss_mb())

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        if not Path("/proc/self/smaps_rollup").exists():  # not Linux: this process's peak only
            self.mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
