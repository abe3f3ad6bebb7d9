"""Pollers: find new files by listing a folder or an S3 prefix on a schedule.

>>> poller = S3Poller(s3_client, "my-bucket", prefix="uploads/", strategy="watermark",
...                   state_path="poller-state.json")
>>> PollLoop(poller, process=lambda entry: print(entry.key), interval_s=60).run()

Nothing here knows about the benchmark or the event handlers; the per-file work is a callable.
"""

from pollers.cursors import (
    STRATEGIES,
    CursorStateError,
    InboxCursor,
    ListingCursor,
    ListingPlan,
    SeenSetCursor,
    StartAfterCursor,
    WatermarkCursor,
    make_cursor,
)
from pollers.entries import Entry
from pollers.folder import FolderPoller
from pollers.loop import CycleResult, LoopStats, PollListener, PollLoop, is_throttling
from pollers.s3 import S3Poller
from pollers.schedule import Backoff, FixedRateSchedule
from pollers.scheduled import configure_poll_schedule, make_scheduled_handler, schedule_expression
from pollers.stability import StabilityGate
from pollers.stats import PollStats

__all__ = [
    "STRATEGIES",
    "Backoff",
    "CursorStateError",
    "CycleResult",
    "Entry",
    "FixedRateSchedule",
    "FolderPoller",
    "InboxCursor",
    "ListingCursor",
    "ListingPlan",
    "LoopStats",
    "PollListener",
    "PollLoop",
    "PollStats",
    "S3Poller",
    "SeenSetCursor",
    "StabilityGate",
    "StartAfterCursor",
    "WatermarkCursor",
    "configure_poll_schedule",
    "is_throttling",
    "make_cursor",
    "make_scheduled_handler",
    "schedule_expression",
]
