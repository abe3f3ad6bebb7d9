"""Access logs generated in the documented format (S3 User Guide, "Amazon S3 server access log
format"), for tests, the benchmark and the worked example: labelled as generated, never as measured.
A seeded stream of PUTs spread over a day (flat: Poisson at a steady rate; bursty: the same count in
a few bursts), with a poller's LISTs and some GETs in between."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"  # the User Guide's placeholder
START = 1_795_996_800.0  # 2026-11-30T00:00:00Z
TAIL = (
    '"-" "aws-cli/2.15.0" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= '
    "SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader amzn-s3-demo-bucket.s3.us-east-1.amazonaws.com TLSv1.2 -"
)


def arrival_times(n: int, *, bursts: int = 0, seed: int = 0, days: float = 1.0) -> np.ndarray:
    """``n`` sorted times over ``days`` from START: Poisson-like if ``bursts`` is 0, else ``bursts``
    bursts of about a minute each."""
    rng = np.random.default_rng(seed)
    span = days * 86400.0
    if bursts <= 0:
        return START + np.sort(rng.uniform(0.0, span, n))
    centres = rng.uniform(0.0, span - 60.0, bursts)
    which = rng.integers(0, bursts, n)
    return START + np.sort(centres[which] + rng.uniform(0.0, 60.0, n))


@lru_cache(maxsize=4096)
def _stamp(second: int) -> str:
    return np.datetime64(second, "s").astype(object).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _line(t: float, operation: str, key: str, uri: str, size: str, request: int) -> str:
    stamp = _stamp(int(t))
    return (
        f"{OWNER} amzn-s3-demo-bucket [{stamp}] 192.0.2.3 {OWNER} {request:016X} {operation} {key} "
        f'"{uri}" 200 - - {size} 20 10 {TAIL}'
    )


def access_log_lines(times: np.ndarray, *, prefix: str = "incoming/", seed: int = 0) -> Iterator[str]:
    """A PUT per time, with a GET of every third file and a LIST a minute (a poller's)."""
    rng = np.random.default_rng(seed)
    sizes = rng.lognormal(11.0, 1.0, len(times)).astype(int)
    next_list = float(times[0]) if len(times) else START
    for i, t in enumerate(times):
        while next_list <= t:
            uri = f"GET /amzn-s3-demo-bucket?list-type=2&prefix={prefix.replace('/', '%2F')} HTTP/1.1"
            yield _line(next_list, "REST.GET.BUCKET", "-", uri, "-", 2 * i)
            next_list += 60.0
        key = f"{prefix}{i:09d}.csv"
        yield _line(
            float(t),
            "REST.PUT.OBJECT",
            key,
            f"PUT /amzn-s3-demo-bucket/{key} HTTP/1.1",
            str(sizes[i]),
            2 * i + 1,
        )
        if i % 3 == 0:
            yield _line(
                float(t),
                "REST.GET.OBJECT",
                key,
                f"GET /amzn-s3-demo-bucket/{key} HTTP/1.1",
                str(sizes[i]),
                2 * i + 1,
            )


def write_access_log(path: Path, times: np.ndarray, *, prefix: str = "incoming/", seed: int = 0) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for line in access_log_lines(times, prefix=prefix, seed=seed):
            f.write(line + "\n")
    return path


def generate_access_log(
    path: Path, files: int, *, bursts: int = 0, prefix: str = "incoming/", seed: int = 0, days: float = 1.0
) -> Path:
    """A generated access log at ``path``: ``files`` PUTs under ``prefix`` over ``days``, flat (``bursts``
    0) or in ``bursts`` one-minute bursts, with a poller's LIST a minute and a GET of every third file."""
    return write_access_log(path, arrival_times(files, bursts=bursts, seed=seed, days=days), prefix=prefix)
