"""The workload's writer: puts each file at its scheduled time and stamps ``written_at``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.errors import PathOutsideRootError
from bench.live.backends import BackendEnv
from bench.live.recorder import Recorder
from bench.scenario.seeds import WRITER_LEAD_S
from bench.scenario.workload import PlannedWorkload
from pollers.errors import PathRefusedError
from pollers.paths import check_key, confine


@dataclass
class WriterStats:
    started_at: float = 0.0
    files: int = 0
    bytes: int = 0
    max_lag_s: float = 0.0  # how late the slowest write started against its schedule
    finished_at: float = 0.0  # wall clock when the last write returned
    lags_s: list[float] = field(default_factory=list, repr=False)  # each write's start delay

    @property
    def p95_lag_s(self) -> float:
        return float(np.percentile(self.lags_s, 95)) if self.lags_s else 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "max_lag_s": round(self.max_lag_s, 6),
            "p95_lag_s": round(self.p95_lag_s, 6),
            "started_at": round(self.started_at, 6),
            "finished_at": round(self.finished_at, 6),
        }


def write_workload(
    env: BackendEnv,
    planned: PlannedWorkload,
    bodies: Mapping[str, bytes],
    recorder: Recorder,
    *,
    lead_s: float = WRITER_LEAD_S,
    on_write: Callable[[int], None] = lambda n: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> WriterStats:
    """Write every file on schedule (real time = scenario time / time_scale) from now + ``lead_s``.

    S3 objects are PUT; local files are written under a hidden name and renamed into place, so
    neither a poller nor inotify can see a half-written file. A local key that would leave the
    backend's folder (absolute, ``..``, a symlink out) is refused before the first write.
    """
    paths = _local_paths(env, planned)
    s3 = env.client("s3", "writer") if env.kind != "folder" else None
    stats = WriterStats(started_at=time.time() + lead_s)
    t0 = time.monotonic() + lead_s
    for spec in planned.files:
        if should_stop():
            break
        due = t0 + planned.real_offset(spec)
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        lag = max(0.0, time.monotonic() - due)
        stats.lags_s.append(lag)
        stats.max_lag_s = max(stats.max_lag_s, lag)
        body = bodies[spec.key]
        if s3 is not None:
            s3.put_object(Bucket=env.bucket, Key=spec.key, Body=body)
        else:
            _write_file(paths[spec.index], body)
        recorder.written(spec.key, time.time())
        stats.files += 1
        stats.bytes += len(body)
        on_write(stats.files)
    stats.finished_at = time.time()
    return stats


def _local_paths(env: BackendEnv, planned: PlannedWorkload) -> dict[int, Path]:
    """Each file's path under the backend's folder (none for S3), every one checked by the guard."""
    try:
        return _checked_paths(env, planned)
    except PathRefusedError as exc:
        raise PathOutsideRootError(str(exc)) from None


def _checked_paths(env: BackendEnv, planned: PlannedWorkload) -> dict[int, Path]:
    if env.kind != "folder":
        return {}
    if env.folder is None:
        raise RuntimeError("the folder backend has no folder")
    folders: dict[str, Path] = {}  # one resolve per folder, not per file (a workload shares a few)
    paths = {}
    for spec in planned.files:
        check_key(spec.key, what="workload key")
        folder, _, name = spec.key.rpartition("/")
        if name in ("", "."):
            raise PathRefusedError(f"workload key {spec.key!r:.80} names a folder, not a file; refused")
        if folder not in folders:
            folders[folder] = confine(env.folder, folder, what="workload key", allow_empty=True)
        paths[spec.index] = folders[folder] / name
    return paths


def _write_file(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    # O_NOFOLLOW: a symlink planted under the temporary name is not written through
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    os.replace(tmp, path)
