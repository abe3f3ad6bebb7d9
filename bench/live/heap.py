"""Keep the collector's full passes out of a live run's timed part.

A live run's process holds a large, settled heap before the first file is written (moto's and
botocore's models, pandas, the planned workload: about 200,000 objects after a warm-up run). When
allocation triggers a full (oldest-generation) collection in the middle of a run, CPython walks
all of it while holding the GIL: 295 ms in one S3 -> Lambda run at 40 files/s (timed with
``gc.callbacks``; with the heap frozen, no full pass ran in the same run). Every event queued behind that
pause, the runtime found its environment busy and cold-started more, and on one core those
environments then slice the CPU between them: the pause seeded a cascade that the knee then
reported as the route's limit. ``gc.freeze()`` moves the settled heap out of the collector's
reach for the duration; objects made during the run are collected as usual, and the heap is
handed back to the collector afterwards. The floors (``capacity.measure_floor``,
``route_floor``) are timed the same way, so the ratios compare like with like.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def settled_heap_frozen() -> Iterator[None]:
    """Collect, freeze what survives for the block, unfreeze after (not reentrant: the
    interpreter has one permanent generation, so use it around one timed part at a time)."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
