"""The idempotency ledger: each object version is processed once, whoever finds it.

A record's key comes from ``event_handlers.idempotency`` (one recipe for handler, sweep and
poller). ``claim`` takes it for ``hold_s`` seconds (the invocation's remaining time, as
Powertools' idempotency utility does, so a claim left by a timed-out or crashed invocation
frees itself when that invocation could no longer be running); ``complete`` or ``fail`` closes
it for good; ``release`` gives it back after a transient failure so a retry may claim it.

The protocol is duck-typed on purpose: a poller can take any object with ``claim``,
``complete``, ``fail`` and ``release`` without importing this package. Storage is pluggable:
``MemoryLedger`` (one process), ``SQLiteLedger`` (one host, the local default) and
``event_handlers.dynamodb_ledger.DynamoDBLedger`` (every execution environment and poller).
"""

from __future__ import annotations

import abc
import enum
import math
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

DEFAULT_HOLD_S = 900.0  # Lambda's longest timeout: no invocation can still hold a claim after it


class Claim(enum.Enum):
    ACQUIRED = "acquired"  # process it
    COMPLETED = "completed"  # done before: a duplicate delivery
    FAILED = "failed"  # failed for good before; already in the dead-letter queue
    IN_PROGRESS = "in_progress"  # another invocation holds it now


@dataclass(frozen=True)
class LedgerEntry:
    status: str  # in_progress | completed | failed
    expires_at: float
    detail: str = ""


@runtime_checkable
class Ledger(Protocol):
    """What the handler, the hybrid sweep and a poller need from a ledger."""

    def claim(self, key: str, hold_s: float | None = None) -> Claim: ...

    def complete(self, key: str, detail: str = "") -> None: ...

    def fail(self, key: str, reason: str) -> None: ...

    def release(self, key: str) -> None: ...


def hold_for(remaining_ms: float | None, default_s: float = DEFAULT_HOLD_S) -> float:
    """Seconds a claim should last: the invocation's remaining time, else ``default_s``."""
    if remaining_ms is None or not math.isfinite(remaining_ms) or remaining_ms <= 0:
        return default_s
    return remaining_ms / 1000.0


class _LedgerBase(abc.ABC):
    """What every store shares: ``begin``, the old name of ``claim``."""

    @abc.abstractmethod
    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        """Try to claim ``key`` for ``hold_s`` seconds (the store's default when None)."""

    def begin(self, key: str) -> Claim:
        warnings.warn("Ledger.begin is deprecated; use claim", DeprecationWarning, stacklevel=2)
        return self.claim(key)


class MemoryLedger(_LedgerBase):
    """A ledger for one process (tests, local runs); thread-safe."""

    def __init__(
        self, in_progress_ttl_s: float = DEFAULT_HOLD_S, clock: Callable[[], float] = time.time
    ) -> None:
        self._rows: dict[str, LedgerEntry] = {}
        self._lock = threading.Lock()
        self._ttl, self._clock = in_progress_ttl_s, clock

    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        now = self._clock()
        with self._lock:
            row = self._rows.get(key)
            if row is None or (row.status == "in_progress" and row.expires_at <= now):
                self._rows[key] = LedgerEntry("in_progress", now + (hold_s or self._ttl))
                return Claim.ACQUIRED
            return Claim(row.status)

    def complete(self, key: str, detail: str = "") -> None:
        with self._lock:
            self._rows[key] = LedgerEntry("completed", math.inf, detail)

    def fail(self, key: str, reason: str) -> None:
        with self._lock:
            self._rows[key] = LedgerEntry("failed", math.inf, reason)

    def release(self, key: str) -> None:
        with self._lock:
            row = self._rows.get(key)
            if row is not None and row.status == "in_progress":
                del self._rows[key]

    def lookup(self, key: str) -> LedgerEntry | None:
        with self._lock:
            return self._rows.get(key)

    def status(self, key: str) -> str | None:
        row = self.lookup(key)
        return row.status if row else None


class SQLiteLedger(_LedgerBase):
    """A ledger in a SQLite file: survives restarts and is shared by processes on one host.

    ``BEGIN IMMEDIATE`` makes the claim atomic across threads and processes.
    """

    _SCHEMA = """
        CREATE TABLE IF NOT EXISTS ledger (
            idempotency_key TEXT PRIMARY KEY,
            status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
            expires_at REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT '',
            updated_at REAL NOT NULL
        )
    """

    def __init__(
        self,
        path: str | Path,
        in_progress_ttl_s: float = DEFAULT_HOLD_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._ttl, self._clock = in_progress_ttl_s, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._open_shared_file()

    def _open_shared_file(self, patience_s: float = 30.0) -> None:
        """WAL mode and the table, retried while another environment does the same: switching the
        journal mode can answer "database is locked" at once, without SQLite's busy wait (seen when
        several cold starts open one new ledger together; it failed an init in the bursty run)."""
        deadline = time.monotonic() + patience_s
        pause = 0.005
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(self._SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        now = self._clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT status, expires_at FROM ledger WHERE idempotency_key = ?", (key,)
                ).fetchone()
                if row is None or (row[0] == "in_progress" and row[1] <= now):
                    self._db.execute(
                        "INSERT OR REPLACE INTO ledger VALUES (?, 'in_progress', ?, '', ?)",
                        (key, now + (hold_s or self._ttl), now),
                    )
                    claim = Claim.ACQUIRED
                else:
                    claim = Claim(row[0])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return claim

    def complete(self, key: str, detail: str = "") -> None:
        self._close(key, "completed", detail)

    def fail(self, key: str, reason: str) -> None:
        self._close(key, "failed", reason)

    def release(self, key: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM ledger WHERE idempotency_key = ? AND status = 'in_progress'", (key,)
            )

    def lookup(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, expires_at, detail FROM ledger WHERE idempotency_key = ?", (key,)
            ).fetchone()
        return LedgerEntry(row[0], row[1], row[2]) if row else None

    def status(self, key: str) -> str | None:
        row = self.lookup(key)
        return row.status if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _close(self, key: str, status: str, detail: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?)",
                (key, status, math.inf, detail[:1000], self._clock()),
            )
