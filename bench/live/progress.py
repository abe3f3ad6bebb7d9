"""Progress on long runs: one line per strategy with files written and processed."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class ProgressReporter(Protocol):
    def begin(self, label: str, total: int) -> None: ...

    def update(self, written: int, final: int) -> None: ...

    def end(self, note: str = "") -> None: ...

    def message(self, text: str) -> None: ...


class QuietProgress:
    """``--quiet``: nothing but errors."""

    def begin(self, label: str, total: int) -> None:
        pass

    def update(self, written: int, final: int) -> None:
        pass

    def end(self, note: str = "") -> None:
        pass

    def message(self, text: str) -> None:
        pass


class RichProgress:
    """A live bar per strategy on stderr: written / processed-or-failed out of the workload."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]{task.description:<28}"),
            BarColumn(),
            TextColumn("written {task.fields[written]:>5}/{task.total:<5}"),
            TextColumn("done {task.completed:>5.0f}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}"),
            console=self.console,
            transient=False,
        )
        self._task: TaskID | None = None
        self._started = False

    def begin(self, label: str, total: int) -> None:
        if not self._started:
            self._progress.start()
            self._started = True
        self._task = self._progress.add_task(label, total=total, written=0, note="")

    def update(self, written: int, final: int) -> None:
        if self._task is not None:
            self._progress.update(self._task, completed=final, written=written)

    def end(self, note: str = "") -> None:
        if self._task is not None:
            self._progress.update(self._task, note=note)
            self._task = None

    def message(self, text: str) -> None:
        self._progress.console.print(text)

    def close(self) -> None:
        if self._started:
            self._progress.stop()
            self._started = False
