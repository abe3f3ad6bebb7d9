"""Pollers take their collaborators as objects (cursor, state store, retry policy, ledger); the
spellings 0.2.0 deprecated (``strategy=``, ``pollers.schedule``, ``pollers.scheduled``, PollLoop's
retry keywords) are gone in 0.3.0."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from pollers import (
    CursorKind,
    Entry,
    FolderPoller,
    MemoryStateStore,
    Outcome,
    PollLoop,
    RetryPolicy,
    S3Poller,
    StateStore,
    WatermarkCursor,
)
from pollers.ledger import Answer, ProcessingLedger, answer_of


def write(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_a_cursor_object_is_used_as_given(tmp_path: Path) -> None:
    cursor = WatermarkCursor(lookback_s=5)
    write(tmp_path / "a")
    poller = FolderPoller(tmp_path, cursor=cursor, min_age_s=0.0)
    assert poller.cursor is cursor
    assert poller.cursor.kind is CursorKind.WATERMARK
    assert [e.key for e in poller.poll_once()] == ["a"]
    assert cursor.remembered > 0  # the given object itself recorded "a"


class DictStore:
    """A StateStore that is neither a file nor S3: what a user with a database would write."""

    def __init__(self) -> None:
        self.saved: list[dict[str, Any]] = []
        self.where = "dict store"

    def load(self) -> dict[str, Any] | None:
        return self.saved[-1] if self.saved else None

    def save(self, document: dict[str, Any]) -> None:
        self.saved.append(json.loads(json.dumps(document)))


@pytest.mark.parametrize("make_store", [DictStore, MemoryStateStore])
def test_a_state_store_object_carries_the_cursor_across_restarts(tmp_path: Path, make_store: Any) -> None:
    store = make_store()
    assert isinstance(store, StateStore)
    write(tmp_path / "a")
    first = FolderPoller(tmp_path, cursor="seen-set", min_age_s=0.0, state_path=store)
    first.poll_once()
    first.commit()
    write(tmp_path / "b")
    second = FolderPoller(tmp_path, cursor="seen-set", min_age_s=0.0, state_path=store)
    assert [e.key for e in second.poll_once()] == ["b"]


def test_a_bad_document_from_a_store_object_names_the_store(tmp_path: Path) -> None:
    store = DictStore()
    store.saved.append({"version": 1, "strategy": "watermark", "cursor": {"recent": {}, "watermark": "x"}})
    with pytest.raises(ValueError, match="dict store: field 'watermark'"):
        FolderPoller(tmp_path, cursor="watermark", state_path=store)


def test_folder_poller_state_can_live_in_s3(s3: Any, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a")
    url = "s3://bucket/.pve/folder-cursor.json"
    first = FolderPoller(tmp_path / "in", cursor="watermark", min_age_s=0.0, state_path=url, s3_client=s3)
    first.poll_once()
    first.commit()
    saved = json.loads(s3.get_object(Bucket="bucket", Key=".pve/folder-cursor.json")["Body"].read())
    assert saved["strategy"] == "watermark"
    write(tmp_path / "in" / "b")
    again = FolderPoller(tmp_path / "in", cursor="watermark", min_age_s=0.0, state_path=url, s3_client=s3)
    assert [e.key for e in again.poll_once()] == ["b"]


def test_an_s3_state_path_without_a_client_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs an S3 client: pass s3_client="):
        FolderPoller(tmp_path, state_path="s3://bucket/state.json")


def test_folder_watermark_poller_agrees_with_the_bare_cursor_on_overwrites(tmp_path: Path) -> None:
    """Issue 11: the poller's own caching must not override the cursor's verdict."""
    path = tmp_path / "a.csv"
    write(path, b"v1")
    old = time.time() - 3600
    os.utime(path, (old, old))
    poller = FolderPoller(tmp_path, cursor="watermark", min_age_s=0.0, lookback_s=60)
    bare = WatermarkCursor(lookback_s=60)
    listing = [Entry("a.csv", 2, old)]
    assert [e.key for e in poller.poll_once()] == [e.key for e in bare.select_new(listing, bare.plan())]
    bare.mark_reported(listing)
    write(path, b"v2 rewritten")  # in place, later mtime
    st = path.stat()
    listing = [Entry("a.csv", st.st_size, st.st_mtime)]
    by_cursor = [e.key for e in bare.select_new(listing, bare.plan())]
    by_poller = [e.key for e in poller.poll_once()]
    assert by_poller == by_cursor == ["a.csv"]


# -- the spellings 0.2.0 deprecated are gone ------------------------------------------------------
def test_the_strategy_keyword_is_gone(tmp_path: Path, s3: Any) -> None:
    with pytest.raises(TypeError, match="strategy"):
        FolderPoller(tmp_path, strategy="watermark")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="strategy"):
        S3Poller(s3, "bucket", strategy="start-after")  # type: ignore[call-arg]
    assert not hasattr(FolderPoller(tmp_path, cursor="watermark"), "strategy")


@pytest.mark.parametrize("old", ["pollers.schedule", "pollers.scheduled"])
def test_the_old_module_names_are_gone(old: str) -> None:
    """Looked up in the package's own folder: an editable install's finder may map the name to
    another checkout."""
    import pollers

    name = old.rpartition(".")[2]
    assert not [p for p in pollers.__path__ if (Path(p) / f"{name}.py").exists()]
    assert importlib.import_module("pollers.timing").Backoff is not None


def test_retry_policy_is_one_frozen_value() -> None:
    policy = RetryPolicy(max_attempts=3, give_up_after=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.max_attempts = 4  # type: ignore[misc]
    with pytest.raises(ValueError, match="give_up_after"):
        RetryPolicy(give_up_after=0)
    with pytest.raises(ValueError, match="backoff"):
        RetryPolicy(file_backoff_base_s=0)


@pytest.mark.parametrize("old", ["max_attempts", "retryable", "backoff"])
def test_the_old_retry_keywords_are_gone(s3: Any, old: str) -> None:
    poller = S3Poller(s3, "bucket")
    with pytest.raises(TypeError, match=old):
        PollLoop(poller, print, interval_s=1.0, **{old: None})
    loop = PollLoop(poller, print, interval_s=1.0, retry=RetryPolicy(max_attempts=3))
    assert loop.retry.max_attempts == 3
    assert not hasattr(loop, "max_attempts")


# -- the ledger protocol ------------------------------------------------------------------------------
def test_event_handlers_ledger_fits_the_pollers_protocol(tmp_path: Path) -> None:
    """Duck-typed: pollers never imports event_handlers, yet its ledgers plug in."""
    from event_handlers.ledger import Claim, SQLiteLedger

    ledger = SQLiteLedger(tmp_path / "ledger.sqlite")
    assert isinstance(ledger, ProcessingLedger)
    assert answer_of(Claim.ACQUIRED) is Answer.ACQUIRED
    assert answer_of(Claim.COMPLETED) is Answer.COMPLETED
    assert answer_of(Claim.IN_PROGRESS) is Answer.IN_PROGRESS


def test_ledger_skips_completed_files_and_retries_claims_held_elsewhere(tmp_path: Path) -> None:
    from event_handlers.ledger import MemoryLedger

    clock = {"t": 1000.0}
    ledger = MemoryLedger(in_progress_ttl_s=30, clock=lambda: clock["t"])
    for name in "abc":
        write(tmp_path / name)
    poller = FolderPoller(tmp_path, min_age_s=0.0)
    key = lambda e: f"k/{e.key}"  # noqa: E731
    ledger.claim("k/a")
    ledger.complete("k/a")  # done before a crash
    ledger.claim("k/b")  # another worker (the event side, say) holds b right now
    done: list[str] = []
    loop = PollLoop(poller, lambda e: done.append(e.key), interval_s=1.0, ledger=ledger, ledger_key=key)
    result = loop.run_once()
    assert (result.processed, result.skipped) == (1, 2)
    assert done == ["c"]
    assert (loop.stats.duplicates_skipped, loop.stats.claimed_elsewhere) == (1, 1)
    assert loop.run_once().skipped == 1  # b is offered again while its claim lasts
    clock["t"] += 31  # the other worker died; its claim expired
    assert loop.run_once().processed == 1
    assert done == ["c", "b"]
    assert loop.run_once().found == 0


def test_status_values_are_enums() -> None:
    assert Outcome.GONE.value == "gone"
    assert isinstance(Outcome.GONE, str)  # a StrEnum: JSON and old string comparisons keep working
    assert [k.value for k in CursorKind] == ["seen-set", "watermark", "start-after", "inbox"]


def test_a_state_url_in_a_missing_bucket_is_a_clear_error(s3: Any, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"s3://no-such-bucket/state\.json: the bucket does not exist"):
        FolderPoller(tmp_path, state_path="s3://no-such-bucket/state.json", s3_client=s3)
