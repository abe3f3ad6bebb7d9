"""The idempotency ledger: each object version is processed once, whoever finds it.

A record's key comes from ``event_handlers.idempotency`` (one recipe for handler, sweep and
poller). ``claim`` takes it for ``hold_s`` seconds (the invocation's remaining time, as
Powertools' idempotency utility does, so a claim left by a timed-out or crashed invocation
frees itself when that invocation could no longer be running); ``complete`` or ``fail`` closes
it for good; ``release`` gives it back after a transient failure so a retry may claim it. A
claim also names its holder (``event_handlers.holder``): a claim whose holder is certainly dead
(killed on this host) is taken over at once instead of after its expiry.

The rules live once, in ``BaseLedger``, over four store primitives (read, conditional put,
unconditional put, conditional delete), as Powertools' ``BasePersistenceLayer`` keeps its rules
over ``_get_record``/``_put_record``/``_update_record``/``_delete_record``. ``MemoryLedger`` (one
process), ``SQLiteLedger`` (one host, the local default) and
``event_handlers.dynamodb_ledger.DynamoDBLedger`` (every execution environment and poller)
implement only the primitives.

The protocol is duck-typed on purpose: a poller can take any object with ``claim``,
``complete``, ``fail`` and ``release`` without importing this package.
"""

from __future__ import annotations

import abc
import contextlib
import enum
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from event_handlers import holder as holders
from event_handlers.errors import LedgerFileError

DEFAULT_HOLD_S = 900.0  # Lambda's longest timeout: no invocation can still hold a claim after it
DETAIL_LIMIT = 1000  # characters of a completion's output key or a failure's reason kept


class Status(enum.StrEnum):
    """What a ledger record says; a ``str`` so that ``status(key) == "completed"`` still reads."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


class Claim(enum.Enum):
    ACQUIRED = "acquired"  # process it
    COMPLETED = "completed"  # done before: a duplicate delivery
    FAILED = "failed"  # failed for good before; already in the dead-letter queue
    IN_PROGRESS = "in_progress"  # another invocation holds it now


@dataclass(frozen=True)
class LedgerEntry:
    status: Status
    expires_at: float  # when an in-progress claim lapses; ``inf`` for a closed record
    detail: str = ""
    holder: str = ""  # ``event_handlers.holder.Holder`` as text; "" if the claim names none

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))  # a plain string is accepted


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


class BaseLedger(abc.ABC):
    """The ledger's rules, once; a store supplies the four primitives below.

    * ``claim``: a new key is taken; a key in progress is taken over only if its claim expired or
      its holder is dead; a closed key answers how it closed.
    * ``complete``/``fail`` close a key for good; ``release`` deletes an in-progress claim only.
    """

    def __init__(self, in_progress_ttl_s: float, clock: Callable[[], float]) -> None:
        self._ttl, self._clock = in_progress_ttl_s, clock

    # -- the store's primitives ------------------------------------------------------------------
    @abc.abstractmethod
    def _get(self, key: str) -> LedgerEntry | None:
        """The record of ``key``; None if there is none (or the store's record TTL is over)."""

    @abc.abstractmethod
    def _put_if(self, key: str, entry: LedgerEntry, expected: LedgerEntry | None) -> bool:
        """Write ``entry`` only if the stored record is still ``expected`` (None: no record);
        atomically. True if written."""

    @abc.abstractmethod
    def _put(self, key: str, entry: LedgerEntry) -> None:
        """Write ``entry`` whatever is stored."""

    @abc.abstractmethod
    def _delete_if(self, key: str, expected: LedgerEntry) -> bool:
        """Delete the record only if it is still ``expected``; atomically. True if deleted."""

    # -- the rules -------------------------------------------------------------------------------
    def claim(self, key: str, hold_s: float | None = None) -> Claim:
        """Try to claim ``key`` for ``hold_s`` seconds (the store's default when None)."""
        expected: LedgerEntry | None = None  # most keys are new: one conditional write decides
        for _ in range(4):  # the record may change between our read and our write: look again
            now = self._clock()
            mine = LedgerEntry(Status.IN_PROGRESS, now + (hold_s or self._ttl), "", self._holder())
            if self._put_if(key, mine, expected):
                return Claim.ACQUIRED
            expected = self._get(key)
            if expected is not None and not self.reclaimable(expected, now):
                return Claim(expected.status.value)
        return Claim.IN_PROGRESS

    def complete(self, key: str, detail: str = "") -> None:
        self._put(key, LedgerEntry(Status.COMPLETED, math.inf, detail[:DETAIL_LIMIT]))

    def fail(self, key: str, reason: str) -> None:
        self._put(key, LedgerEntry(Status.FAILED, math.inf, reason[:DETAIL_LIMIT]))

    def release(self, key: str) -> None:
        """Give back an in-progress claim after a transient failure; a closed record stays."""
        entry = self._get(key)
        if entry is not None and entry.status is Status.IN_PROGRESS:
            self._delete_if(key, entry)  # if it changed meanwhile, it is no longer ours to give

    def lookup(self, key: str) -> LedgerEntry | None:
        return self._get(key)

    def status(self, key: str) -> Status | None:
        entry = self._get(key)
        return entry.status if entry else None

    @staticmethod
    def reclaimable(entry: LedgerEntry, now: float) -> bool:
        """An in-progress claim whose time is up or whose holder is certainly dead."""
        if entry.status is not Status.IN_PROGRESS:
            return False
        return entry.expires_at <= now or holders.is_dead(entry.holder)

    @staticmethod
    def _holder() -> str:
        return str(holders.this_process())  # per call: a forked worker is another holder


class MemoryLedger(BaseLedger):
    """A ledger for one process (tests, local runs); thread-safe."""

    def __init__(
        self, in_progress_ttl_s: float = DEFAULT_HOLD_S, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(in_progress_ttl_s, clock)
        self._rows: dict[str, LedgerEntry] = {}
        self._lock = threading.Lock()

    def _get(self, key: str) -> LedgerEntry | None:
        with self._lock:
            return self._rows.get(key)

    def _put_if(self, key: str, entry: LedgerEntry, expected: LedgerEntry | None) -> bool:
        with self._lock:
            if self._rows.get(key) != expected:
                return False
            self._rows[key] = entry
            return True

    def _put(self, key: str, entry: LedgerEntry) -> None:
        with self._lock:
            self._rows[key] = entry

    def _delete_if(self, key: str, expected: LedgerEntry) -> bool:
        with self._lock:
            if self._rows.get(key) != expected:
                return False
            del self._rows[key]
            return True


_COLUMNS = ("idempotency_key", "status", "expires_at", "detail", "updated_at", "holder")
_SCHEMA = """
    CREATE TABLE ledger (
        idempotency_key TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed')),
        expires_at REAL NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        updated_at REAL NOT NULL,
        holder TEXT NOT NULL DEFAULT ''
    )
"""
_SAME = "idempotency_key = ? AND status = ? AND expires_at = ? AND holder = ?"


class SQLiteLedger(BaseLedger):
    """A ledger in a SQLite file: survives restarts and is shared by processes on one host.

    Each primitive is one SQL statement, atomic across threads and processes. A file that is not
    a ledger (another program's database, or not SQLite at all) is refused at open, naming it.
    """

    def __init__(
        self,
        path: str | Path,
        in_progress_ttl_s: float = DEFAULT_HOLD_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(in_progress_ttl_s, clock)
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise LedgerFileError(f"cannot open the ledger file {self.path}: {exc}") from exc
        try:
            self._open_shared_file()
        except BaseException:
            self._db.close()
            raise

    def _open_shared_file(self, patience_s: float = 30.0) -> None:
        """WAL mode and the table, retried while another environment does the same: switching the
        journal mode can answer "database is locked" at once, without SQLite's busy wait (seen when
        several cold starts open one new ledger together; it failed an init in the bursty run)."""
        deadline = time.monotonic() + patience_s
        pause = 0.005
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._ensure_schema()
                    self._db.execute("COMMIT")
                except BaseException:
                    # a signal's exception can arrive after COMMIT has ended the transaction: a
                    # ROLLBACK then fails and would hide it (SIGTERM exited 1 instead of 143)
                    if self._db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):
                            self._db.execute("ROLLBACK")
                    raise
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                    raise LedgerFileError(f"cannot open the ledger file {self.path}: {exc}") from exc
                time.sleep(pause)
                pause = min(pause * 2, 0.2)
            except sqlite3.DatabaseError as exc:  # "file is not a database"
                raise LedgerFileError(f"{self.path} is not a pve ledger: {exc}") from exc

    def _ensure_schema(self) -> None:
        """Create the table in an empty file, add ``holder`` to a 0.2 ledger, refuse anything else."""
        tables = [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "ledger" not in tables:
            if tables:
                raise LedgerFileError(
                    f"{self.path} is not a pve ledger: it holds the tables {', '.join(sorted(tables))} "
                    "and no 'ledger' table; name a new file or an existing ledger"
                )
            self._db.execute(_SCHEMA)
            return
        columns = tuple(r[1] for r in self._db.execute("PRAGMA table_info(ledger)"))
        if columns == _COLUMNS[:-1]:  # written by 0.2.x: claims without a holder
            self._db.execute("ALTER TABLE ledger ADD COLUMN holder TEXT NOT NULL DEFAULT ''")
        elif columns != _COLUMNS:
            raise LedgerFileError(
                f"{self.path} is not a pve ledger: its table 'ledger' has the columns "
                f"({', '.join(columns)}), expected ({', '.join(_COLUMNS)})"
            )

    def _get(self, key: str) -> LedgerEntry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, expires_at, detail, holder FROM ledger WHERE idempotency_key = ?", (key,)
            ).fetchone()
        return LedgerEntry(row[0], row[1], row[2], row[3]) if row else None

    def _put_if(self, key: str, entry: LedgerEntry, expected: LedgerEntry | None) -> bool:
        values = (entry.status.value, entry.expires_at, entry.detail, self._clock(), entry.holder)
        with self._lock:
            if expected is None:
                cursor = self._db.execute(
                    "INSERT INTO ledger VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", (key, *values)
                )
            else:
                cursor = self._db.execute(
                    "UPDATE ledger SET status = ?, expires_at = ?, detail = ?, updated_at = ?, holder = ? "
                    f"WHERE {_SAME} AND detail = ?",
                    (*values, *_matching(key, expected)),
                )
        return cursor.rowcount == 1

    def _put(self, key: str, entry: LedgerEntry) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO ledger VALUES (?, ?, ?, ?, ?, ?)",
                (key, entry.status.value, entry.expires_at, entry.detail, self._clock(), entry.holder),
            )

    def _delete_if(self, key: str, expected: LedgerEntry) -> bool:
        with self._lock:
            cursor = self._db.execute(
                f"DELETE FROM ledger WHERE {_SAME} AND detail = ?", _matching(key, expected)
            )
        return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _matching(key: str, expected: LedgerEntry) -> tuple[str, str, float, str, str]:
    return (key, expected.status.value, expected.expires_at, expected.holder, expected.detail)
