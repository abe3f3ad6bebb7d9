"""How close a folder poll comes to the floor: 100,000 files, ratios measured in the same run.

References, timed in this process on the same folder, interleaved with the poller so that load
from other processes hits both alike (best of N rounds each):

* ``scandir``: ``{e.name for e in os.scandir(root)}``, the least any listing can do;
* ``scandir + stat``: the same plus one ``stat`` per file, the least a first poll can do;
* watchdog's ``DirectorySnapshot``, what its PollingObserver builds every cycle.

Targets (issue 14): an idle poll within 1.5x of ``scandir`` for seen-set and watermark, 2x for
start-after, and at least 7x faster than ``DirectorySnapshot``; a first poll within 3x of
``scandir + stat``. These hold for ``change_check="inode"``; the default ``"stat"`` also sees files
rewritten in place, which costs one stat per file per cycle: its idle poll is held to 1.5x of
``scandir + stat`` instead. ``ALLOWANCE`` widens each bound by 25% for noise: on the 2-core VM
these were measured on, quiet runs of the same hour gave first polls of 2.4x-2.9x and watchdog
speedups of 6.6x-8.1x (interleaved rounds, collector paused; see ``timing.py``), so a 10% margin
failed on noise alone. The ratios themselves land in ``extra_info`` (``--benchmark-json``).
Run: ``python -m pytest benchmarks/test_folder_poll.py -m slow``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from timing import best_of
from watchdog.utils.dirsnapshot import DirectorySnapshot

from pollers import FolderPoller

pytestmark = pytest.mark.slow

FILES = 100_000
ALLOWANCE = 1.25
IDLE_TARGET = {"seen-set": 1.5, "watermark": 1.5, "start-after": 2.0}
FIRST_POLL_TARGET = 3.0
WATCHDOG_SPEEDUP = 7.0
ROUNDS = 7
FIRST_POLL_ROUNDS = 5  # a first poll takes ~2 s; 3 rounds left ratios from 2.3x to 3.7x between runs


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("poll-floor")
    for i in range(FILES):
        (root / f"{i:06d}.csv").touch()
    os.utime(root, None)
    return root


def scandir_names(root: Path) -> Callable[[], object]:
    return lambda: {e.name for e in os.scandir(root)}


def scandir_stat(root: Path) -> Callable[[], object]:
    return lambda: [(e.name, e.stat()) for e in os.scandir(root)]


@pytest.mark.parametrize("cursor", ["seen-set", "watermark", "start-after"])
def test_idle_poll_at_the_scandir_floor(benchmark: Any, folder: Path, cursor: str) -> None:
    poller = FolderPoller(folder, cursor=cursor, min_age_s=0.0, change_check="inode")
    assert len(poller.poll_once()) == FILES
    poll_s, floor_s, watchdog_s = best_of(
        ROUNDS,
        poller.poll_once,
        scandir_names(folder),
        lambda: DirectorySnapshot(str(folder), recursive=False),
    )
    assert benchmark.pedantic(poller.poll_once, rounds=3, iterations=1) == []
    ratio, speedup = poll_s / floor_s, watchdog_s / poll_s
    benchmark.extra_info.update(
        poll_s=poll_s,
        scandir_s=floor_s,
        watchdog_s=watchdog_s,
        ratio_to_scandir=ratio,
        watchdog_speedup=speedup,
    )
    print(f"\n{cursor} idle (inode): {ratio:.2f}x scandir, {speedup:.1f}x faster than DirectorySnapshot")
    assert ratio <= IDLE_TARGET[cursor] * ALLOWANCE
    assert speedup >= WATCHDOG_SPEEDUP / ALLOWANCE


@pytest.mark.parametrize("cursor", ["seen-set", "watermark"])
def test_idle_poll_that_sees_in_place_rewrites(benchmark: Any, folder: Path, cursor: str) -> None:
    """The default ``change_check="stat"``: one stat per file, held to the scandir + stat floor."""
    poller = FolderPoller(folder, cursor=cursor, min_age_s=0.0)
    poller.poll_once()
    poll_s, floor_s, names_s = best_of(ROUNDS, poller.poll_once, scandir_stat(folder), scandir_names(folder))
    assert benchmark.pedantic(poller.poll_once, rounds=3, iterations=1) == []
    ratio = poll_s / floor_s
    benchmark.extra_info.update(
        poll_s=poll_s, scandir_stat_s=floor_s, ratio_to_scandir_stat=ratio, ratio_to_scandir=poll_s / names_s
    )
    print(f"\n{cursor} idle (stat): {ratio:.2f}x scandir+stat, {poll_s / names_s:.2f}x scandir")
    assert ratio <= 1.5 * ALLOWANCE


@pytest.mark.parametrize("cursor", ["seen-set", "watermark", "start-after"])
def test_first_poll_within_3x_of_scandir_and_stat(benchmark: Any, folder: Path, cursor: str) -> None:
    def first_poll() -> int:
        return len(FolderPoller(folder, cursor=cursor, min_age_s=0.0, change_check="inode").poll_once())

    poll_s, floor_s = best_of(FIRST_POLL_ROUNDS, first_poll, scandir_stat(folder))
    assert benchmark.pedantic(first_poll, rounds=1, iterations=1) == FILES
    ratio = poll_s / floor_s
    benchmark.extra_info.update(poll_s=poll_s, scandir_stat_s=floor_s, ratio_to_scandir_stat=ratio)
    print(f"\n{cursor} first poll: {ratio:.2f}x scandir+stat")
    assert ratio <= FIRST_POLL_TARGET * ALLOWANCE
