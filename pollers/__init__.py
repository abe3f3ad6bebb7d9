"""Pollers: find new files by listing a folder or an S3 prefix on a schedule.

>>> poller = S3Poller(s3_client, "my-bucket", prefix="uploads/", cursor="watermark",
...                   state_path="poller-state.json")
>>> PollLoop(poller, process=lambda entry: print(entry.key), interval_s=60).run()

Collaborators may be passed as objects: ``cursor=WatermarkCursor(lookback_s=60)``,
``state_path=<any StateStore>``, ``PollLoop(..., retry=RetryPolicy(...), ledger=<any ledger>)``.
Nothing here knows about the benchmark or the event handlers; the per-file work is a callable.
Every error this package raises on purpose is a ``PollerError``.
"""

from pollers.cursors import (
    STRATEGIES,
    InboxCursor,
    ListingCursor,
    ListingPlan,
    SeenSetCursor,
    StartAfterCursor,
    WatermarkCursor,
    make_cursor,
)
from pollers.entries import Entry
from pollers.errors import (
    CursorStateError,
    PathRefusedError,
    PersistentFailureError,
    PollerConfigError,
    PollerError,
    SourceUnavailableError,
)
from pollers.eventbridge import configure_poll_schedule, make_scheduled_handler, schedule_expression
from pollers.folder import FolderPoller, FolderUnavailableError
from pollers.kinds import ChangeCheck, CursorKind, Outcome
from pollers.ledger import ProcessingLedger
from pollers.loop import (
    CycleResult,
    ListingFailures,
    LoopStats,
    PollListener,
    PollLoop,
    RetryPolicy,
    is_throttling,
)
from pollers.paths import confine
from pollers.s3 import S3Poller
from pollers.stability import StabilityGate
from pollers.state import FileStateStore, MemoryStateStore, S3StateStore, StateStore
from pollers.stats import InboxStats, PollStats, WalkStats
from pollers.timing import Backoff, FixedRateSchedule

__all__ = [
    "STRATEGIES",
    "Backoff",
    "ChangeCheck",
    "CursorKind",
    "CursorStateError",
    "CycleResult",
    "Entry",
    "FileStateStore",
    "FixedRateSchedule",
    "FolderPoller",
    "FolderUnavailableError",
    "InboxCursor",
    "InboxStats",
    "ListingCursor",
    "ListingFailures",
    "ListingPlan",
    "LoopStats",
    "MemoryStateStore",
    "Outcome",
    "PathRefusedError",
    "PersistentFailureError",
    "PollListener",
    "PollLoop",
    "PollStats",
    "PollerConfigError",
    "PollerError",
    "ProcessingLedger",
    "RetryPolicy",
    "S3Poller",
    "S3StateStore",
    "SeenSetCursor",
    "SourceUnavailableError",
    "StabilityGate",
    "StartAfterCursor",
    "StateStore",
    "WalkStats",
    "WatermarkCursor",
    "configure_poll_schedule",
    "confine",
    "is_throttling",
    "make_cursor",
    "make_scheduled_handler",
    "schedule_expression",
]
