"""Deprecated name of ``pollers.timing`` (too close to ``pollers.scheduled``); import from there."""

import warnings

from pollers.timing import Backoff, FixedRateSchedule

warnings.warn(
    "pollers.schedule is deprecated; import Backoff and FixedRateSchedule from pollers.timing",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["Backoff", "FixedRateSchedule"]
