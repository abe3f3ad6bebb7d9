"""The idempotency ledger a ``PollLoop`` may consult: a small protocol, duck-typed.

``pollers`` does not import ``event_handlers``; any object with these four methods fits, so a
caller can hand the poll loop the very ledger the event side writes to, and a file handled by
either path (or by a poller before it was killed) is not handled twice.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pollers.entries import Entry


@runtime_checkable
class ProcessingLedger(Protocol):
    """Claim a key before the work, complete (or fail, or release) it after (``event_handlers.ledger``'s
    SQLite, memory and DynamoDB ledgers fit as they are)."""

    def claim(self, key: str) -> Any:
        """Try to claim ``key``; see ``acquired`` for how the answer is read."""

    def complete(self, key: str, detail: str = "") -> None: ...

    def fail(self, key: str, reason: str) -> None: ...

    def release(self, key: str) -> None: ...


def acquired(answer: object) -> bool:
    """True if ``claim`` granted the claim: ``True``, ``"acquired"`` or an enum with that value."""
    if answer is True:
        return True
    return getattr(answer, "value", answer) == "acquired"


def default_ledger_key(source: str, entry: Entry) -> str:
    """``source/key#version``: a rewritten file (new etag, or new mtime and size) is new work."""
    return f"{source}/{entry.key}#{entry.version}"
