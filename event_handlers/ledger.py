"""The idempotency ledger: S3 delivers at least once, so each object version is processed once.

A record's key is (bucket, key, version id or etag). ``begin`` claims it; ``complete`` or ``fail``
closes it for good; ``release`` gives it back after a transient failure so a retry may claim it.
A claim left ``in progress`` by a crashed invocation expires after ``in_progress_ttl_s``.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


class Claim(enum.Enum):
    ACQUIRED = "acquired"  # process it
    COMPLETED = "completed"  # done before: a duplicate delivery
    FAILED = "failed"  # failed for good before; already in the dead-letter queue
    IN_PROGRESS = "in_progress"  # another invocation holds it now


class Ledger(Protocol):
    def begin(self, key: str) -> Claim: ...

    def complete(self, key: str, detail: str = "") -> None: ...

    def fail(self, key: str, reason: str) -> None: ...

    def release(self, key: str) -> None: ...


class MemoryLedger:
    """A ledger for one process (tests, local runs); thread-safe."""

    def __init__(self, in_progress_ttl_s: float = 900.0, clock: Callable[[], float] = time.time) -> None:
        self._rows: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._ttl, self._clock = in_progress_ttl_s, clock

    def begin(self, key: str) -> Claim:
        now = self._clock()
        with self._lock:
            row = self._rows.get(key)
            if row is None or (row[0] == "in_progress" and row[1] <= now):
                self._rows[key] = ("in_progress", now + self._ttl)
                return Claim.ACQUIRED
            return Claim(row[0])

    def complete(self, key: str, detail: str = "") -> None:
        with self._lock:
            self._rows[key] = ("completed", float("inf"))

    def fail(self, key: str, reason: str) -> None:
        with self._lock:
            self._rows[key] = ("failed", float("inf"))

    def release(self, key: str) -> None:
        with self._lock:
            if self._rows.get(key, ("",))[0] == "in_progress":
                del self._rows[key]

    def status(self, key: str) -> str | None:
        row = self._rows.get(key)
        return row[0] if row else None


class SQLiteLedger:
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
        in_progress_ttl_s: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = str(path)
        self._ttl, self._clock = in_progress_ttl_s, clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(self._SCHEMA)

    def begin(self, key: str) -> Claim:
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
                        (key, now + self._ttl, now),
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

    def status(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT status FROM ledger WHERE idempotency_key = ?", (key,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _close(self, key: str, status: str, detail: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?)",
                (key, status, float("inf"), detail[:1000], self._clock()),
            )
