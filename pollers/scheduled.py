"""Deprecated name of ``pollers.eventbridge`` (too close to ``pollers.schedule``); import from there."""

import warnings

from pollers.eventbridge import (
    MIN_SCHEDULE_S,
    configure_poll_schedule,
    make_scheduled_handler,
    schedule_expression,
)

warnings.warn(
    "pollers.scheduled is deprecated; import from pollers.eventbridge",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["MIN_SCHEDULE_S", "configure_poll_schedule", "make_scheduled_handler", "schedule_expression"]
