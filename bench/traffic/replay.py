"""Your traffic as the simulator's ``replay`` arrivals: the creation times of the chosen prefixes,
sorted, from the first one, divided by ``compress`` when asked (a week replayed as a day keeps every
burst's shape, seven times denser), written as the ``arrival_s,size_bytes`` CSV the replay process
reads (``bench.scenario.workload.replay_times``)."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.errors import InputError
from bench.traffic.model import Access, Op
from bench.traffic.profile import OTHER, Grouping


@dataclass(frozen=True)
class Replay:
    path: Path
    files: int
    span_s: float  # from the first arrival to the last, after compression
    compress: float


def write_replay(
    accesses: Iterable[Access],
    path: Path,
    *,
    prefixes: tuple[str, ...] = (),
    compress: float = 1.0,
) -> Replay:
    """The creations under ``prefixes`` (all, if none) as a replay CSV at ``path``."""
    grouping = Grouping(prefixes=prefixes) if prefixes else None
    times, sizes = array("d"), array("q")
    for a in accesses:
        if a.op is not Op.CREATE:
            continue
        if grouping is not None and grouping.of(a.key[: a.key.rfind("/") + 1]) == OTHER:
            continue
        times.append(a.time)
        sizes.append(-1 if a.size is None else a.size)
    if not times:
        where = f" under {', '.join(prefixes)}" if prefixes else ""
        raise InputError(f"--traffic: no object creations{where} to replay")
    t = np.frombuffer(times, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    arrival = (t[order] - t[order[0]]) / compress
    size = np.frombuffer(sizes, dtype=np.int64)[order]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write("arrival_s,size_bytes\n")
        np.savetxt(f, np.column_stack([arrival, size]), fmt=["%.6f", "%d"], delimiter=",")
    tmp.replace(path)
    return Replay(path, int(arrival.size), float(arrival[-1]), compress)
