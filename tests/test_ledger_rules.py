"""The ledger's edges: a file that is not a ledger is refused at open; a transient failure gives a
claim back while a permanent one closes it (handler and poll loop alike); the pollers' reading of
a claim's answer keeps the ledger's values; a dead-letter queue drained twice over yields once."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from event_handlers.dlq import drain_queue
from event_handlers.errors import ConfigError, CorruptInputError, LedgerFileError
from event_handlers.handler import RecordStatus, S3EventHandler
from event_handlers.ledger import Claim, MemoryLedger, SQLiteLedger, Status
from event_handlers.storage import LocalFolderStore
from event_handlers.tasks import TaskResult
from pollers import FolderPoller, PollLoop
from pollers.ledger import Answer, answer_of
from pollers.loop import RetryPolicy
from tests.test_handler import s3_record


# -- a file that is not a ledger ----------------------------------------------------------------
def test_another_programs_database_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    with pytest.raises(LedgerFileError, match=rf"{path}.* is not a pve ledger.*users"):
        SQLiteLedger(path)
    with sqlite3.connect(path) as db:  # and nothing was added to it
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["users"]


def test_a_ledger_table_of_a_foreign_shape_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ledger (k TEXT PRIMARY KEY, v TEXT)")
    with pytest.raises(LedgerFileError, match=r"table 'ledger' has the columns \(k, v\)"):
        SQLiteLedger(path)


def test_a_file_that_is_not_sqlite_is_refused_as_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(ConfigError, match=rf"{path} is not a pve ledger"):
        SQLiteLedger(path)
    assert path.read_text().startswith("these are my notes")


def test_a_ledger_written_by_0_2_opens_and_keeps_its_records(tmp_path: Path) -> None:
    """The 0.2 table had no holder column: it is added, and the records stand."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE ledger (idempotency_key TEXT PRIMARY KEY, status TEXT NOT NULL CHECK "
            "(status IN ('in_progress', 'completed', 'failed')), expires_at REAL NOT NULL, "
            "detail TEXT NOT NULL DEFAULT '', updated_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO ledger VALUES ('done', 'completed', 9e999, 'out/done', 1.0)")
    ledger = SQLiteLedger(path)
    assert ledger.claim("done") is Claim.COMPLETED
    assert ledger.claim("new") is Claim.ACQUIRED
    ledger.close()
    assert SQLiteLedger(path).claim("new") is Claim.IN_PROGRESS  # reopened: the migration holds


def test_an_empty_or_new_file_becomes_a_ledger(tmp_path: Path) -> None:
    (tmp_path / "empty.sqlite").touch()
    for name in ("empty.sqlite", "new.sqlite"):
        assert SQLiteLedger(tmp_path / name).claim("k") is Claim.ACQUIRED


# -- release on a transient failure, fail on a permanent one ------------------------------------
class _Failing:
    name = "failing"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __call__(self, store: Any, key: str) -> TaskResult:
        raise self.exc


def _event(key: str) -> dict[str, Any]:
    return {"Records": [s3_record("b", key, etag="e1", size=1)]}


@pytest.mark.parametrize(
    ("exc", "outcome", "status"),
    [
        (ConnectionError("S3 reset the connection"), RecordStatus.RETRY, None),
        (CorruptInputError("not a CSV"), RecordStatus.FAILED, Status.FAILED),
    ],
)
def test_the_handler_gives_back_a_claim_on_a_transient_failure_and_closes_it_on_a_permanent_one(
    tmp_path: Path, exc: Exception, outcome: RecordStatus, status: Status | None
) -> None:
    ledger = MemoryLedger()
    handler = S3EventHandler(_Failing(exc), store_for=lambda _: LocalFolderStore(tmp_path), ledger=ledger)
    (result,) = handler.handle(_event("a.csv"))
    assert result.status is outcome
    assert ledger.status("b/a.csv#etag=e1;size=1") is status
    expected = Claim.ACQUIRED if status is None else Claim.FAILED  # the retry may claim it again
    assert ledger.claim("b/a.csv#etag=e1;size=1") is expected


@pytest.mark.parametrize(("retryable", "status"), [(True, None), (False, Status.FAILED)])
def test_the_poll_loop_gives_back_a_claim_on_a_transient_failure_and_closes_it_on_a_permanent_one(
    tmp_path: Path, retryable: bool, status: Status | None
) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a").write_bytes(b"x")
    ledger = MemoryLedger()
    poller = FolderPoller(tmp_path / "in", min_age_s=0.0)

    def process(entry: Any) -> None:
        raise OSError("disk hiccup")

    retry = RetryPolicy(retryable=lambda _: retryable)
    loop = PollLoop(poller, process, interval_s=1, ledger=ledger, ledger_key=lambda e: e.key, retry=retry)
    assert loop.run_once().failed == 1
    assert ledger.status("a") is status
    expected = Claim.ACQUIRED if status is None else Claim.FAILED  # a later cycle may try it again
    assert ledger.claim("a") is expected


# -- the pollers' reading of a claim's answer ------------------------------------------------------
def test_the_pollers_answers_are_the_ledgers_claims() -> None:
    """pollers cannot import event_handlers: its mirror enum must keep the same four values."""
    assert {a.value for a in Answer} == {c.value for c in Claim}
    for claim in Claim:
        assert answer_of(claim).value == claim.value
    assert answer_of(True) is Answer.ACQUIRED
    with pytest.raises(TypeError, match="'maybe'"):
        answer_of("maybe")


# -- drain_queue yields a message once even if SQS shows it twice ---------------------------------
class _TwiceShown:
    """A dead-letter queue whose one message is received twice (its visibility lapsed before the
    delete landed, as SQS's at-least-once receive allows), then is empty."""

    def __init__(self) -> None:
        self.receives = 0
        self.deleted: list[str] = []

    def receive_message(self, **_: Any) -> dict[str, Any]:
        self.receives += 1
        if self.receives <= 2:
            return {"Messages": [{"MessageId": "m1", "ReceiptHandle": f"r{self.receives}", "Body": "{}"}]}
        return {"Messages": []}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:  # noqa: N803 (boto3's names)
        self.deleted.append(ReceiptHandle)

    def get_queue_attributes(self, **_: Any) -> dict[str, Any]:
        return {"Attributes": {}}


def test_drain_queue_yields_a_message_shown_twice_once_and_deletes_both_receipts() -> None:
    queue = _TwiceShown()
    messages = list(drain_queue(queue, "q", patience_s=0.0))  # type: ignore[arg-type]
    assert [m["MessageId"] for m in messages] == ["m1"]
    assert queue.deleted == ["r1", "r2"]
