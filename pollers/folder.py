"""Poll a local folder with ``os.scandir``, calling ``stat`` only for entries not yet decided."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pollers.base import Poller
from pollers.cursors import ListingPlan
from pollers.entries import Entry


class FolderPoller(Poller):
    """Find new files under ``root`` (and its subfolders if ``recursive``).

    watchdog's PollingObserver stats every file on every cycle; this poller remembers, in memory,
    which names it has already decided on and stats only the others (new files, and files held
    back because they may still be written). Names starting with ``.`` are skipped, so writers
    may write ``.name.part`` and rename. With ``strategy="inbox"`` handled files are renamed into
    ``processed_dir`` or ``failed_dir`` (by default hidden folders inside ``root``).
    """

    def __init__(  # noqa: PLR0913  (keyword-only settings, each with a safe default)
        self,
        root: str | os.PathLike[str],
        *,
        strategy: str = "seen-set",
        state_path: str | os.PathLike[str] | None = None,
        min_age_s: float = 0.0,
        recursive: bool = False,
        lookback_s: float = 900.0,
        sweep_every: int = 60,
        processed_dir: str | os.PathLike[str] | None = None,
        failed_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise NotADirectoryError(f"folder to poll does not exist or is not a folder: {self.root}")
        self.recursive = recursive
        self.processed_dir = Path(processed_dir) if processed_dir else self.root / ".pve-processed"
        self.failed_dir = Path(failed_dir) if failed_dir else self.root / ".pve-failed"
        self._decided: set[str] = set()
        super().__init__(
            strategy=strategy,
            state_path=state_path,
            min_age_s=min_age_s,
            lookback_s=lookback_s,
            sweep_every=sweep_every,
            clock=clock,
        )

    def _list(self, plan: ListingPlan) -> Iterator[Entry]:
        present: set[str] = set()
        for key, dir_entry in self._scan(self.root, ""):
            present.add(key)
            if key in self._decided:
                continue
            if plan.start_after is not None and key <= plan.start_after:
                continue
            try:
                st = dir_entry.stat()
            except FileNotFoundError:  # removed between scandir and stat
                continue
            self.stats.stat_calls += 1
            yield Entry(key=key, size=st.st_size, mtime=st.st_mtime)
        self._decided &= present

    def _scan(self, folder: Path, base: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        self.stats.list_requests += 1
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda d: d.name)  # S3-like order for start-after
        for dir_entry in entries:
            if dir_entry.name.startswith("."):
                continue
            key = f"{base}{dir_entry.name}"
            if dir_entry.is_file(follow_symlinks=False):
                self.stats.objects_scanned += 1
                yield key, dir_entry
            elif self.recursive and dir_entry.is_dir(follow_symlinks=False):
                yield from self._scan(Path(dir_entry.path), f"{key}/")

    def _after_listing(self, listed: list[Entry], ready: list[Entry], held: list[Entry]) -> None:
        held_keys = {e.key for e in held}
        self._decided.update(e.key for e in listed if e.key not in held_keys)

    def _move_out(self, entry: Entry, *, succeeded: bool) -> None:
        target = (self.processed_dir if succeeded else self.failed_dir) / entry.key
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.root / entry.key, target)
