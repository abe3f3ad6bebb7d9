"""The offset between this machine's clock and AWS's, measured two ways. Pure.

A handler stamps its times with AWS's clock and the writer with ours; records join them only
after the offset (AWS minus local, seconds) is subtracted. Two measurements:

* S3 event times: ``eventTime`` is S3's clock when it accepted the PUT (millisecond resolution);
  the writer stamps ``written_at`` when the PUT returned, so ``eventTime - written_at`` is the
  offset minus part of one PUT's round trip: biased low by at most that round trip.
* HTTP ``Date`` headers: whole seconds, so each sample bounds the offset to an interval
  ``[date - t_after, date + 1 - t_before]``; intersecting many samples narrows it.

* SQS ``SentTimestamp``: the queue's clock in milliseconds when it accepted a message this machine
  sent between ``t_before`` and ``t_after``: each sample bounds the offset to
  ``[sent - t_after, sent - t_before]``, a round trip wide. Every function route has a queue (its
  dead-letter queue), so this works on the EventBridge route too, whose ``time`` has whole seconds
  only (issue 22: that route's offset came from the Date headers, +-0.5 s).

Whichever is the tighter is applied.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class ClockOffset:
    offset_s: float  # AWS clock minus this machine's
    method: str  # "s3-event-time" | "date-header" | "none"
    samples: int
    uncertainty_s: float

    def as_dict(self) -> dict[str, object]:
        return {
            "offset_s": round(self.offset_s, 6),
            "method": self.method,
            "samples": self.samples,
            "uncertainty_s": round(self.uncertainty_s, 6),
            "applied": self.method != "none",
        }


NO_OFFSET = ClockOffset(0.0, "none", 0, float("inf"))


def offset_from_event_times(pairs: Iterable[tuple[float, float]]) -> ClockOffset:
    """``(event_time, written_at)`` pairs -> the median difference; uncertainty: their spread."""
    diffs = sorted(event - written for event, written in pairs)
    if not diffs:
        return NO_OFFSET
    spread = diffs[int(0.9 * (len(diffs) - 1))] - diffs[int(0.1 * (len(diffs) - 1))]
    return ClockOffset(statistics.median(diffs), "s3-event-time", len(diffs), spread)


def offset_from_date_headers(samples: Iterable[tuple[float, str, float]]) -> ClockOffset:
    """``(t_before, Date header, t_after)`` samples -> the middle of the intersected interval."""
    low, high, n = float("-inf"), float("inf"), 0
    for before, header, after in samples:
        server = parsedate_to_datetime(header).timestamp()
        low, high, n = max(low, server - after), min(high, server + 1.0 - before), n + 1
    if n == 0:
        return NO_OFFSET
    if low > high:  # inconsistent samples (a clock step): fall back to the widest honest answer
        low, high = high, low
    return ClockOffset((low + high) / 2, "date-header", n, (high - low) / 2)


def offset_from_sent_timestamps(samples: Iterable[tuple[float, float, float]]) -> ClockOffset:
    """``(t_before, SentTimestamp in seconds, t_after)`` samples -> the middle of the intersection."""
    low, high, n = float("-inf"), float("inf"), 0
    for before, sent, after in samples:
        low, high, n = max(low, sent - after), min(high, sent - before), n + 1
    if n == 0:
        return NO_OFFSET
    if low > high:
        low, high = high, low
    return ClockOffset((low + high) / 2, "sqs-sent-timestamp", n, (high - low) / 2)


def tighter(a: ClockOffset, b: ClockOffset) -> ClockOffset:
    """The measurement with the smaller uncertainty (a missing one never wins)."""
    return a if a.uncertainty_s <= b.uncertainty_s else b
