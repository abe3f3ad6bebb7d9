"""One error family for the package: callers catch ``PollerError`` for anything a poller refuses.

Each class also derives from the built-in error it replaced (``ValueError``, ``OSError``), so
code written against the old exceptions keeps working.
"""

from __future__ import annotations


class PollerError(Exception):
    """Base of every error this package raises on purpose (bad input, unusable source or state)."""


class PollerConfigError(PollerError, ValueError):
    """An argument that cannot work (a negative interval, an unknown cursor name, ...)."""


class CursorStateError(PollerError, ValueError):
    """A saved cursor that cannot be loaded: wrong cursor kind, version, type or value.

    The message names where the state came from (file path or ``s3://`` URL) and the field.
    """


class SourceUnavailableError(PollerError, OSError):
    """The watched folder or bucket cannot be listed (missing, unreadable, no permission)."""


class PersistentFailureError(PollerError, RuntimeError):
    """``PollLoop.run`` gave up after the configured number of consecutive failed cycles."""


class PathRefusedError(PollerError, ValueError):
    """A key, prefix or folder that would name something outside the root it must stay under
    (absolute, ``..``, NUL, a symlink out, a name the file system cannot hold)."""
