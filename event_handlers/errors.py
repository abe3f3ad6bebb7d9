"""The errors of ``event_handlers``, under one base class, and which of them a retry can fix.

Everything this package raises on purpose derives from ``EventHandlersError``, so a caller can
tell "the package refused this input or this record" from a bug (which stays a traceback).
``PermanentError`` means retrying will not help: the record goes to the dead-letter queue at once,
with the message as its reason. ``TransientError`` means a later attempt may succeed.
The full table of what is permanent and what is transient is ``event_handlers.failures``.
"""

from __future__ import annotations


class EventHandlersError(Exception):
    """The base of every error this package raises on purpose."""


class ConfigError(EventHandlersError, ValueError):
    """A setting out of range or a name not known (a function's memory, a task's name)."""


class PermanentError(EventHandlersError):
    """Retrying will not help: the record goes to the dead-letter queue with this reason."""


class TransientError(EventHandlersError):
    """A later attempt may succeed (throttled, timed out, held by another invocation)."""


class CorruptInputError(PermanentError):
    """The object is not what the task reads (bad CSV, undecodable text, not an image)."""


class EmptyInputError(PermanentError):
    """The object has no content to process."""


class ObjectMissingError(PermanentError):
    """The object named by the event no longer exists (deleted or overwritten before we read it)."""


class InvalidKeyError(PermanentError):
    """A key S3 could not hold: empty, with a NUL byte, or longer than 1,024 bytes in UTF-8."""


class PathRefusedError(PermanentError):
    """A key that would resolve outside a folder store's root (``../``, absolute paths)."""


class RecursionGuardError(PermanentError):
    """Writing the output would trigger this function again: an invocation loop."""


class EventParseError(PermanentError, ValueError):
    """An event that is not a well-formed S3 object event; the message says where and why."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}" if where else problem)


class UnsupportedEventError(EventParseError):
    """A well-formed event of a kind this handler does not process (S3 Batch Operations)."""


class InProgressElsewhereError(TransientError):
    """Another invocation holds this record right now; try again later (transient)."""


class InvocationTimedOutError(TransientError):
    """The invocation's deadline passed: work after it is refused and not counted as processed."""


class LedgerError(TransientError):
    """The idempotency ledger could not be read or written; the record is handed back for retry."""


class LedgerFileError(ConfigError):
    """A SQLite ledger file that cannot be opened as a ledger (another program's database, say)."""


class DeadLetterError(TransientError):
    """A permanent failure could not be dead-lettered; it is not acknowledged, so not lost."""


def is_permanent(exc: BaseException) -> bool:
    """Shortcut for ``classify(exc).permanent`` (see ``event_handlers.failures``)."""
    from event_handlers.failures import classify

    return classify(exc).permanent
