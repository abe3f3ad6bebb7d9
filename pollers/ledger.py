"""The idempotency ledger a ``PollLoop`` may consult: a small protocol, duck-typed.

``pollers`` does not import ``event_handlers``; any object with these four methods fits, so a
caller can hand the poll loop the very ledger the event side writes to, and a file handled by
either path (or by a poller before it was killed) is not handled twice. The rules of a ledger
(claims, expiry, a dead holder's claim taken over) live in ``event_handlers.ledger.BaseLedger``;
this side only reads a claim's answer, through ``Answer``: the same four values as
``event_handlers.ledger.Claim`` (a test holds the two together).
"""

from __future__ import annotations

import enum
from typing import Any, Protocol, runtime_checkable

from pollers.entries import Entry


class Answer(enum.Enum):
    """What a ledger's ``claim`` said, as the poll loop reads it."""

    ACQUIRED = "acquired"  # process it
    COMPLETED = "completed"  # done before (by this poller before a crash, or by the event side)
    FAILED = "failed"  # failed for good before
    IN_PROGRESS = "in_progress"  # someone else holds it now

    @property
    def closed(self) -> bool:
        return self in (Answer.COMPLETED, Answer.FAILED)


@runtime_checkable
class ProcessingLedger(Protocol):
    """Claim a key before the work, complete (or fail, or release) it after (``event_handlers.ledger``'s
    SQLite, memory and DynamoDB ledgers fit as they are)."""

    def claim(self, key: str) -> Any:
        """Try to claim ``key``; see ``answer_of`` for how the answer is read."""

    def complete(self, key: str, detail: str = "") -> None: ...

    def fail(self, key: str, reason: str) -> None: ...

    def release(self, key: str) -> None: ...


def answer_of(answer: object) -> Answer:
    """``claim``'s answer: ``True``/``False``, one of ``Answer``'s values, or an enum with one."""
    if answer is True:
        return Answer.ACQUIRED
    if answer is False:
        return Answer.IN_PROGRESS
    try:
        return Answer(getattr(answer, "value", answer))
    except ValueError:
        known = [a.value for a in Answer]
        raise TypeError(f"a ledger's claim answered {answer!r}, which is none of {known}") from None


def default_ledger_key(source: str, entry: Entry) -> str:
    """``source/key#version``: a rewritten file (new etag, or new mtime and size) is new work."""
    return f"{source}/{entry.key}#{entry.version}"
