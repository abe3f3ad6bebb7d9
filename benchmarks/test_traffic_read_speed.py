"""Reading a 1M-line S3 server access log: ``read_traffic`` streams it in bounded memory and takes at
most 3x what ``pandas.read_csv`` takes to read the same file's columns, timed in turn in the same run
(see timing.py). The log is generated in the documented format (bench.traffic.synthetic), labelled
as such. pandas parses the columns only; ours also validates every record, decodes keys, parses the
time and classifies the operation, so the ratio is an upper bound on the reading overhead."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from timing import best_of

from bench.traffic import read_traffic
from bench.traffic.synthetic import arrival_times, write_access_log

pytestmark = pytest.mark.slow

PUTS = 750_000  # + a GET of every third file + a LIST a minute: about 1,000,000 lines
MAX_RATIO = 3.0
# The read keeps no record: what it holds is a per-file time cache and the notes. A stream's peak stays
# under this however long the log (a list of the accesses alone would take over 150 MB).
MAX_PEAK_BYTES = 16 * 2**20
# The columns the reader uses: bucket, [time, +0000], operation, key, "Request-URI", status, object
# size (a space-separated split turns the bracketed time into two columns).
COLUMNS = [1, 2, 3, 7, 8, 9, 10, 13]


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("log") / "access.log"
    return write_access_log(path, arrival_times(PUTS, seed=7))


def ours(path: Path) -> int:
    return sum(1 for _ in read_traffic([path], fmt="access-log"))


def theirs(path: Path) -> int:
    frame = pd.read_csv(path, sep=" ", header=None, quotechar='"', usecols=COLUMNS, dtype=str)
    return len(frame)


def peak_bytes(path: Path) -> int:
    tracemalloc.start()
    try:
        ours(path)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_million_line_access_log_streams_in_bounded_memory_within_3x_pandas(  # type: ignore[no-untyped-def]
    benchmark, record_ratio, log: Path
) -> None:
    lines = theirs(log)
    assert lines >= 1_000_000
    assert ours(log) == PUTS + 1440  # the PUTs and the LISTs; the GETs are counted skips
    peak = peak_bytes(log)
    ours_s, reference = best_of(3, lambda: ours(log), lambda: theirs(log))
    benchmark.pedantic(ours, args=(log,), rounds=1, iterations=1)
    ratio = ours_s / reference
    benchmark.extra_info.update({"lines": lines, "peak_bytes": peak, "ours_s": ours_s})
    record_ratio(ratio, reference, means="read_traffic time / pandas.read_csv of the same columns")
    assert peak < MAX_PEAK_BYTES, f"peak {peak / 2**20:.1f} MB"
    assert ratio <= MAX_RATIO, f"{ratio:.2f}x pandas ({ours_s:.2f} s vs {reference:.2f} s)"
