"""Which failures are worth retrying. A retry cannot fix a corrupt file; it can fix a timeout."""

from __future__ import annotations


class PermanentError(Exception):
    """Retrying will not help: the record goes to the dead-letter queue with this reason."""


class CorruptInputError(PermanentError):
    """The object is not what the task reads (bad CSV, undecodable text, not an image)."""


class EmptyInputError(PermanentError):
    """The object has no content to process."""


class ObjectMissingError(PermanentError):
    """The object named by the event no longer exists (deleted or overwritten before we read it)."""


class RecursionGuardError(PermanentError):
    """Writing the output would trigger this function again: an invocation loop."""


class InProgressElsewhereError(Exception):
    """Another invocation holds this record right now; try again later (transient)."""


def is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, PermanentError)
