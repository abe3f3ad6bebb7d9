"""Every numeric bound of a flag or a scenario field, in one place, each with its reason.

A bound here is not a model of AWS: it is where a value stops being a setting and becomes a typo
(a poll every nanosecond, a file larger than S3 stores, a billion files a second). Values past it
are refused before any work, with the flag or field named, instead of reaching the models as
overflowing floats, arrays of terabytes or charts with nothing to draw. The scenario's fields
(``bench.scenario.spec``) and the command line's flags (``bench.cli.args``) both read them.
"""

from __future__ import annotations

import math

# -- time --------------------------------------------------------------------------------------
# A gap between arrivals of more than a week, or a span of arrivals beyond ten years, is a mistake
# in every scenario this suite runs; a time_scale below 0.01 plays one scenario second in more
# than 100 real seconds (values in scenario seconds).
MAX_GAP_S = 7 * 86400.0
MAX_SPAN_S = 3650 * 86400.0
MIN_TIME_SCALE = 0.01
# The shortest poll interval: 10 ms. Assumption: one ListObjectsV2 page takes 13-200 ms on AWS
# (bench/cost/pricing/assumptions.toml, list_s_per_page), so a shorter interval only stacks
# cycles; and a month of 1 ms cycles is 2.6 billion poll times for the simulator to hold.
MIN_INTERVAL_S = 0.01
# A file's processing time: at most a day. Lambda stops at 900 s (Lambda guide, "Configure Lambda
# function timeout", read 2026-12-07); a poller has no such limit, but a day per file is a typo.
MAX_PROCESSING_S = 86400.0

# -- sizes -------------------------------------------------------------------------------------
# S3's largest object: 10,000 parts of at most 5 GiB (50,000 GiB, "53.7 TB"; S3 User Guide,
# "Amazon S3 objects overview" and "Amazon S3 multipart upload limits", read 2026-12-07: the
# limit was 5 TB until December 2025).
MAX_OBJECT_BYTES = 10_000 * 5 * 2**30
MAX_OBJECT_MB = MAX_OBJECT_BYTES / 1e6  # the flags' MB are decimal (bench.cost: 1 MB = 1e6 bytes)

# -- rates -------------------------------------------------------------------------------------
# The most files a day any command takes: 10^12 (11.6 million a second). Well past where every
# deployment here cannot run (S3 serves 3,500 PUT and 5,500 GET a second per prefix: S3 User
# Guide, "Best practices design patterns: optimizing Amazon S3 performance", read 2026-12-07),
# and below where a month's requests (a few per file) pass 2^53, where floats stop counting
# whole requests.
MAX_FILES_PER_DAY = 1e12
MAX_RATE_PER_S = MAX_FILES_PER_DAY / 86400.0

# -- names -------------------------------------------------------------------------------------
# A scenario's and a strategy's name become folder names (results/<scenario>/..., a capacity
# sweep's refine-<strategy>-<rate>/) and AWS resource names: 100 characters leave room under the
# file systems' 255-byte name limit and under AWS's 64-character role names with a prefix cut.
MAX_NAME_LENGTH = 100
NAME_MAX_BYTES = 255  # one path component (Linux NAME_MAX, macOS and Windows alike)
PATH_MAX_BYTES = 4096  # a whole path (Linux PATH_MAX)


def out_of_bounds(value: float, low: float, high: float, *, low_open: bool = False) -> bool:
    """Whether ``value`` is NaN, infinite, or outside ``[low, high]`` (``(low, high]`` if open)."""
    if not math.isfinite(value):
        return True
    return value < low or value > high or (low_open and value == low)


def path_too_long(path: str) -> str | None:
    """Why ``path`` cannot be created on a usual file system (a component or the whole too long),
    or None."""
    encoded = path.encode("utf-8", "surrogateescape")
    if len(encoded) > PATH_MAX_BYTES:
        return f"the path is {len(encoded):,} bytes long (the limit is {PATH_MAX_BYTES:,})"
    for part in path.split("/"):
        size = len(part.encode("utf-8", "surrogateescape"))
        if size > NAME_MAX_BYTES:
            return f"the name {part[:24]!r}... is {size:,} bytes long (the limit is {NAME_MAX_BYTES})"
    return None
