"""Pollers under faults: vanished files, bad state, old and future timestamps, growing files,
unreadable folders, missing buckets, persistent failures, concurrent inboxes, kill -9."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from pollers import (
    CursorStateError,
    Entry,
    FolderPoller,
    FolderUnavailableError,
    Outcome,
    PersistentFailureError,
    PollerError,
    PollLoop,
    RetryPolicy,
    S3Poller,
    SourceUnavailableError,
)
from pollers.cursors import cursor_to_state, make_cursor
from tests.conftest import FakeClock

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, data: bytes = b"x", mtime: float | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def put(s3: Any, *keys: str) -> None:
    for key in keys:
        s3.put_object(Bucket="bucket", Key=key, Body=b"x")


# -- a file that vanishes between listing and acknowledging ---------------------------------------
def test_folder_inbox_file_deleted_meanwhile_is_recorded_gone_and_blocks_nothing(
    tmp_path: Path,
) -> None:
    root = tmp_path / "in"
    for i in range(12):
        write(root / f"{i:02d}")
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, processed_dir=tmp_path / "done")
    processed: list[str] = []

    def process(entry: Entry) -> None:
        if entry.key == "05":
            (root / "05").unlink()  # someone else deletes it while we work
        processed.append(entry.key)

    result = PollLoop(poller, process, interval_s=1.0).run_once()
    assert result.processed == 12
    assert poller.stats.inbox.gone == 1
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == [f"{i:02d}" for i in range(12) if i != 5]
    assert poller.cursor.remembered == 0  # nothing stays in flight
    assert poller.poll_once() == []


def test_s3_inbox_object_deleted_by_someone_else_is_recorded_gone(s3: Any) -> None:
    put(s3, *(f"in/{i:02d}" for i in range(12)))
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="inbox")
    outcomes: list[Outcome] = []
    for entry in poller.poll_once():
        if entry.key == "in/05":
            s3.delete_object(Bucket="bucket", Key="in/05")
        outcomes.append(poller.acknowledge(entry))
    assert outcomes.count(Outcome.GONE) == 1
    assert outcomes.count(Outcome.PROCESSED) == 11
    assert s3.list_objects_v2(Bucket="bucket", Prefix="processed/")["KeyCount"] == 11
    assert poller.poll_once() == []


def test_no_exception_from_one_file_escapes_a_cycle(tmp_path: Path) -> None:
    """process, on_failure, the ledger and the move all raise for file "b": the cycle goes on."""
    root = tmp_path / "in"
    for name in "abc":
        write(root / name)

    class BrokenLedger:
        def claim(self, key: str) -> str:
            if "/b#" in key:
                raise RuntimeError("ledger down")
            return "acquired"

        def complete(self, key: str, detail: str = "") -> None:
            pass

        def fail(self, key: str, reason: str) -> None:
            raise RuntimeError("ledger down")

        def release(self, key: str) -> None:
            raise RuntimeError("ledger down")

    def on_failure(entry: Entry, exc: BaseException) -> None:
        raise RuntimeError("hook broke")

    poller = FolderPoller(root, min_age_s=0.0)
    loop = PollLoop(poller, lambda e: None, interval_s=1.0, ledger=BrokenLedger(), on_failure=on_failure)
    result = loop.run_once()
    assert (result.processed, result.failed) == (2, 1)
    assert loop.stats.failures == [("b", "RuntimeError: ledger down")]


def test_saved_in_flight_set_cannot_hide_files_after_a_crash(tmp_path: Path) -> None:
    root, state = tmp_path / "in", tmp_path / "state.json"
    for name in "abc":
        write(root / name)
    first = FolderPoller(root, cursor="inbox", min_age_s=0.0, state_path=state)
    assert len(first.poll_once()) == 3
    first.commit()  # saved with three files in flight, then the process dies before moving them
    assert json.loads(state.read_text())["cursor"]["in_flight"] == ["a", "b", "c"]
    again = FolderPoller(root, cursor="inbox", min_age_s=0.0, state_path=state, claim_ttl_s=0.0)
    assert sorted(e.key for e in again.poll_once()) == ["a", "b", "c"]


# -- cursor state validated on load ---------------------------------------------------------------
def good_state(kind: str) -> dict[str, Any]:
    cursor = make_cursor(kind)
    cursor.mark_reported([Entry("k", 1, 1000.0)])
    return cursor_to_state(cursor)


@pytest.mark.parametrize(
    ("kind", "edit", "field"),
    [
        ("watermark", lambda d: d["cursor"].update(watermark=math.nan), "NaN"),
        ("watermark", lambda d: d["cursor"].update(watermark=math.inf), "Infinity"),
        ("watermark", lambda d: d["cursor"].update(watermark=1e308), "'watermark'"),
        ("watermark", lambda d: d["cursor"].update(watermark="soon"), "'watermark'"),
        ("watermark", lambda d: d["cursor"].update(recent={"k": [1e300, None]}), "'recent.k'"),
        ("watermark", lambda d: d["cursor"].update(recent={"k": "x"}), "'recent.k'"),
        ("watermark", lambda d: d["cursor"].update(known=[1, 2]), "'known'"),
        ("watermark", lambda d: d["cursor"].update(lookback_s=-5), "'lookback_s'"),
        ("start-after", lambda d: d["cursor"].update(cycles_since_sweep="x"), "'cycles_since_sweep'"),
        ("start-after", lambda d: d["cursor"].update(cycles_since_sweep=-1), "'cycles_since_sweep'"),
        ("start-after", lambda d: d["cursor"].update(last_key=5), "'last_key'"),
        (
            "start-after",
            lambda d: d["cursor"]["window"].update(watermark=-1e20),
            "'window': field 'watermark'",
        ),
        ("seen-set", lambda d: d["cursor"].update(seen={"k": 3}), "'seen.k'"),
        ("inbox", lambda d: d["cursor"].update(in_flight=[None]), "'in_flight'"),
        ("seen-set", lambda d: d.update(deferred=[["k", -1, 1.0, None]]), "'deferred'"),
    ],
)
def test_bad_saved_state_is_refused_naming_file_and_field(
    tmp_path: Path, kind: str, edit: Any, field: str
) -> None:
    state = tmp_path / "state.json"
    document = good_state(kind)
    edit(document)
    state.write_text(json.dumps(document))  # Python writes NaN/Infinity; other JSON writers do not
    root = tmp_path / "in"
    root.mkdir()
    with pytest.raises(CursorStateError, match=str(state)) as caught:
        FolderPoller(root, cursor=kind, state_path=state)
    assert field in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("content", [b"\xff\xfe\x00binary", b"{not json", b"[1, 2]", b""])
def test_undecodable_state_file_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    (tmp_path / "in").mkdir()
    with pytest.raises(CursorStateError, match=f"cursor state {state}"):
        FolderPoller(tmp_path / "in", state_path=state)


# -- timestamps: old (cp -p), future (clock skew), young (still being written) ---------------------
@pytest.mark.parametrize("kind", ["watermark", "start-after"])
def test_files_with_old_mtimes_are_found_by_name_and_counted(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "in"
    write(root / "2026-11-27", mtime=time.time())
    poller = FolderPoller(root, cursor=kind, min_age_s=0.0, lookback_s=60, sweep_every=3)
    assert [e.key for e in poller.poll_once()] == ["2026-11-27"]
    write(root / "2019-archive", mtime=time.time() - 7 * 365 * 86400)  # as cp -p, rsync -a, mv leave it
    found: list[str] = []
    for _ in range(3):  # start-after finds it at its next sweep
        found += [e.key for e in poller.poll_once()]
    assert found == ["2019-archive"]
    assert poller.stats.found_by_name == 1


def test_future_timestamp_is_not_waited_for_and_is_counted(tmp_path: Path) -> None:
    """A writer whose clock runs 30 s ahead: reported on the next look, not 30 s later."""
    root = tmp_path / "in"
    clock = FakeClock(start=time.time())
    write(root / "skewed.csv", b"a,b\n", mtime=clock.now + 30)
    poller = FolderPoller(root, min_age_s=1.0, clock=clock)
    assert poller.poll_once() == []  # one look to check its size
    clock.advance(1.0)
    assert [e.key for e in poller.poll_once()] == ["skewed.csv"]
    assert poller.stats.future_timestamps == 1


def test_s3_object_from_a_skewed_clock_is_not_held(s3: Any) -> None:
    put(s3, "in/a")
    clock = FakeClock(start=time.time() - 30)  # the poller's clock runs 30 s behind S3's
    poller = S3Poller(s3, "bucket", prefix="in/", clock=clock)
    assert [e.key for e in poller.poll_once()] == ["in/a"]
    assert poller.stats.future_timestamps == 1


def test_growing_file_is_never_reported_before_its_size_is_stable_by_default(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    clock = FakeClock(start=time.time())
    poller = FolderPoller(root, cursor="watermark", clock=clock)  # the default gate
    with (root / "big.csv").open("wb") as handle:
        handle.write(b"a,")
        handle.flush()
        assert poller.poll_once() == []
        for _ in range(200):
            handle.write(b"1,2,3,4\n")
        handle.flush()
        clock.advance(0.5)
        assert poller.poll_once() == []
    clock.advance(1.5)
    found = poller.poll_once() or poller.poll_once()
    assert [(e.key, e.size) for e in found] == [("big.csv", 1602)]
    clock.advance(5)
    assert poller.poll_once() == []


# -- overwrites: only the cursor decides ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["seen-set", "watermark", "start-after"])
def test_file_rewritten_in_place_is_reported_again_like_s3_would(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "in"
    write(root / "a.csv", b"v1", mtime=time.time() - 100)
    poller = FolderPoller(root, cursor=kind, min_age_s=0.0, sweep_every=2)
    assert [e.key for e in poller.poll_once()] == ["a.csv"]
    assert poller.poll_once() == []
    inode = (root / "a.csv").stat().st_ino
    write(root / "a.csv", b"v2 longer", mtime=time.time())  # same inode: truncated and rewritten
    assert (root / "a.csv").stat().st_ino == inode
    found: list[Entry] = []
    for _ in range(2):
        found += poller.poll_once()
    assert [(e.key, e.size) for e in found] == [("a.csv", 9)]


def test_inode_check_sees_a_file_replaced_by_rename(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "a.csv", b"v1", mtime=time.time() - 100)
    poller = FolderPoller(root, cursor="watermark", min_age_s=0.0, change_check="inode")
    assert len(poller.poll_once()) == 1
    write(root / ".a.csv.part", b"v2")
    os.replace(root / ".a.csv.part", root / "a.csv")
    assert [(e.key, e.size) for e in poller.poll_once()] == [("a.csv", 2)]
    stats_before = poller.stats.stat_calls
    assert poller.poll_once() == []
    assert poller.stats.stat_calls == stats_before  # an idle cycle reads the directory only


def test_deleted_and_recreated_name_is_new_again(tmp_path: Path) -> None:
    root = tmp_path / "in"
    old = time.time() - 5000
    write(root / "a", mtime=old)
    write(root / "b", mtime=old)
    poller = FolderPoller(root, cursor="watermark", min_age_s=0.0, lookback_s=10)
    assert len(poller.poll_once()) == 2
    (root / "a").unlink()
    assert poller.poll_once() == []
    write(root / "a", mtime=old)  # same old mtime, e.g. restored from a backup
    assert [e.key for e in poller.poll_once()] == ["a"]


# -- unreadable folders, missing buckets, persistent failure ---------------------------------------
def test_unreadable_subfolder_is_skipped_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "in"
    write(root / "ok" / "a.csv")
    write(root / "locked" / "b.csv")
    write(root / "top.csv")
    real_scandir = os.scandir
    locked = {"on": True}

    def scandir(path: Any) -> Any:
        if locked["on"] and os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    poller = FolderPoller(root, recursive=True, min_age_s=0.0)
    assert sorted(e.key for e in poller.poll_once()) == ["ok/a.csv", "top.csv"]
    assert poller.stats.walk.unreadable_folders == 1
    locked["on"] = False  # permissions fixed: its files are found, the others not repeated
    assert [e.key for e in poller.poll_once()] == ["locked/b.csv"]


def test_unreadable_root_is_refused_at_construction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "in"
    root.mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == str(root):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(FolderUnavailableError, match=f"cannot list the folder to poll {root}"):
        FolderPoller(root)


def test_root_removed_after_start_ends_run_with_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    poller = FolderPoller(root)
    root.rmdir()
    clock = FakeClock()
    with pytest.raises(PersistentFailureError, match="FolderUnavailableError"):
        PollLoop(poller, print, interval_s=1.0, clock=clock, wait=clock.wait).run(max_cycles=3)


def test_missing_bucket_is_a_clear_error_at_the_first_poll(s3: Any) -> None:
    poller = S3Poller(s3, "no-such-bucket", prefix="in/")
    with pytest.raises(SourceUnavailableError, match="s3://no-such-bucket/in/"):
        poller.poll_once()
    clock = FakeClock()
    loop = PollLoop(poller, print, interval_s=1.0, clock=clock, wait=clock.wait)
    with pytest.raises(PersistentFailureError, match="NoSuchBucket"):
        loop.run(max_cycles=5)
    assert loop.stats.listing.errors == 1  # gave up at once: no retries against a bucket that is not there


def test_run_gives_up_after_n_consecutive_failures_and_says_why(s3: Any) -> None:
    put(s3, "in/a")
    poller = S3Poller(s3, "bucket", prefix="in/")
    calls = {"n": 0}

    def failing_list(**kwargs: Any) -> Any:
        calls["n"] += 1
        raise ConnectionError("network unreachable")

    poller.client = type("Broken", (), {"list_objects_v2": staticmethod(failing_list)})()
    clock = FakeClock()
    loop = PollLoop(
        poller,
        print,
        interval_s=1.0,
        retry=RetryPolicy(give_up_after=4),
        clock=clock,
        wait=clock.wait,
        seed=1,
    )
    with pytest.raises(PersistentFailureError, match=r"4 time\(s\) in a row.*network unreachable"):
        loop.run()
    assert calls["n"] == 4
    assert (loop.stats.listing.errors, loop.stats.listing.consecutive_failures) == (4, 4)
    assert loop.stats.listing.last_error == "ConnectionError: network unreachable"


def test_every_refusal_is_a_poller_error(tmp_path: Path, s3: Any) -> None:
    for make in (
        lambda: FolderPoller(tmp_path / "missing"),
        lambda: make_cursor("newest-first"),
        lambda: S3Poller(s3, "bucket", page_size=5000),
        lambda: FolderPoller(tmp_path, state_path="s3://bucket/state.json"),
        lambda: RetryPolicy(max_attempts=0),
    ):
        with pytest.raises(PollerError):
            make()


# -- concurrent inbox pollers -----------------------------------------------------------------------
def test_two_folder_inbox_pollers_never_report_the_same_file(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for i in range(40):
        write(root / f"{i:02d}")
    options: dict[str, Any] = {"cursor": "inbox", "min_age_s": 0.0, "processed_dir": tmp_path / "done"}
    one, two = FolderPoller(root, **options), FolderPoller(root, **options)
    first, second = one.poll_once(), two.poll_once()  # both list all 40 before either moves one
    assert len(first) == 40
    assert second == []
    assert two.stats.inbox.claimed_elsewhere == 40
    for entry in first[:10]:
        one.acknowledge(entry)
    assert two.poll_once() == []  # the 30 left are still claimed by the first poller
    keys = [e.key for e in first]
    assert len(set(keys)) == 40


def test_a_crashed_pollers_claims_expire(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "a")
    clock = FakeClock(start=time.time())
    options: dict[str, Any] = {"cursor": "inbox", "min_age_s": 0.0, "claim_ttl_s": 60.0, "clock": clock}
    assert len(FolderPoller(root, **options).poll_once()) == 1  # then it dies, holding the claim
    other = FolderPoller(root, **options)
    assert other.poll_once() == []
    clock.advance(61)
    assert [e.key for e in other.poll_once()] == ["a"]


def test_two_s3_inbox_pollers_never_report_the_same_object(s3: Any) -> None:
    put(s3, *(f"in/{i:02d}" for i in range(10)))
    one = S3Poller(s3, "bucket", prefix="in/", cursor="inbox")
    two = S3Poller(s3, "bucket", prefix="in/", cursor="inbox")
    first = one.poll_once()
    second = two.poll_once()
    assert len(first) == 10
    assert second == []
    for entry in first:
        assert one.acknowledge(entry) is Outcome.PROCESSED
    assert s3.list_objects_v2(Bucket="bucket", Prefix="claims/")["KeyCount"] == 0


# -- kill -9 and restart: no repeated effect --------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from event_handlers.ledger import SQLiteLedger
    from pollers import FolderPoller, PollLoop

    root, work, cursor = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    hang_after = int(sys.argv[5])
    effects = work / "effects.log"
    calls = []

    def process(entry):
        calls.append(entry.key)
        if len(calls) == hang_after + 1:  # say so, then wait to be killed before the effect
            (work / "ready").touch()
            time.sleep(120)
        with effects.open("a") as log:  # the side effect whose repetition we look for
            log.write(entry.key + "\\n")

    poller = FolderPoller(root, cursor=cursor, min_age_s=0.0, state_path=work / "state.json")
    ledger = SQLiteLedger(work / "ledger.sqlite", in_progress_ttl_s=0.5)
    loop = PollLoop(poller, process, interval_s=0.05, ledger=ledger)
    loop.run(max_cycles=int(sys.argv[4]))
    """
)


@pytest.mark.parametrize("cursor", ["seen-set", "watermark", "inbox"])
def test_kill_minus_9_and_restart_repeats_no_effect(tmp_path: Path, cursor: str) -> None:
    root, work = tmp_path / "in", tmp_path / "work"
    work.mkdir()
    for i in range(120):
        write(root / f"{i:03d}")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(root), str(work), cursor]
    child = subprocess.Popen([*args, "1000", "40"], env=env, cwd=ROOT)
    effects = work / "effects.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (work / "ready").exists():
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)  # mid-cycle: the cursor of this cycle was never saved
    child.wait()
    assert len(effects.read_text().split()) == 40
    subprocess.run([*args, "20", "1000000"], env=env, cwd=ROOT, check=True, timeout=120)
    lines = effects.read_text().split()
    assert sorted(lines) == [f"{i:03d}" for i in range(120)]  # every file once: none lost, none twice


def test_a_single_s3_inbox_poller_may_skip_claims(s3: Any) -> None:
    put(s3, "in/a")
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="inbox", claims_prefix=None)
    (entry,) = poller.poll_once()
    assert s3.list_objects_v2(Bucket="bucket", Prefix="claims/")["KeyCount"] == 0
    assert poller.acknowledge(entry) is Outcome.PROCESSED


@pytest.mark.parametrize("kind", ["watermark", "start-after"])
def test_a_file_dated_far_in_the_future_does_not_blind_the_window(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "in"
    now = time.time()
    write(root / "known", mtime=now - 10)
    poller = FolderPoller(root, cursor=kind, min_age_s=0.0, lookback_s=60, sweep_every=1)
    assert len(poller.poll_once()) == 1
    write(root / "from-2027", mtime=now + 365 * 86400)  # a writer whose clock is a year ahead
    assert [e.key for e in poller.poll_once()] == ["from-2027"]
    write(root / "known", b"rewritten", mtime=now)  # in place, a current mtime
    write(root / "fresh", mtime=now)
    assert sorted(e.key for e in poller.poll_once()) == ["fresh", "known"]
    assert poller.stats.found_by_name == 0  # found by their timestamps, the window still works
    assert poller.stats.future_timestamps == 1


def test_a_background_loop_that_gives_up_raises_on_stop(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    poller = FolderPoller(root)
    root.rmdir()
    loop = PollLoop(poller, print, interval_s=0.01)
    thread = loop.start()
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(loop.failure, PersistentFailureError)
    with pytest.raises(PersistentFailureError, match="cannot list the folder"):
        loop.stop()


# -- issue 23: give-up counted from the first cycle, stuck inbox files, listings that resume ---------
def test_give_up_after_counts_from_the_first_cycle(tmp_path: Path) -> None:
    """A folder that is gone at the first cycle gets the ``give_up_after`` tries the caller asked
    for (a mount still coming up), not one."""
    root = tmp_path / "in"
    root.mkdir()
    poller = FolderPoller(root, min_age_s=0.0)
    root.rmdir()
    clock = FakeClock()
    loop = PollLoop(
        poller, print, interval_s=1.0, retry=RetryPolicy(give_up_after=3), clock=clock, wait=clock.wait
    )
    with pytest.raises(PersistentFailureError, match=r"3 time\(s\) in a row"):
        loop.run(max_cycles=10)
    assert (loop.stats.listing.errors, loop.stats.listing.consecutive_failures) == (3, 3)


def test_inbox_file_that_cannot_be_moved_is_recorded_failed_once_not_reprocessed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "in"
    for name in ("a.csv", "b.csv"):
        write(root / name)
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, processed_dir=tmp_path / "done")

    def read_only(src: Any, dst: Any) -> None:
        raise OSError(30, "Read-only file system")  # EROFS: what a read-only mount answers

    monkeypatch.setattr(os, "replace", read_only)
    processed: list[str] = []
    loop = PollLoop(poller, lambda e: processed.append(e.key), interval_s=1.0)
    for _ in range(3):
        loop.run_once()
    assert processed == ["a.csv", "b.csv"]  # once each, not once per cycle
    assert [key for key, _ in loop.stats.failures] == ["a.csv", "b.csv"]
    assert all("Read-only file system" in reason for _, reason in loop.stats.failures)
    assert loop.stats.stuck == 2
    assert set(poller.stuck) == {"a.csv", "b.csv"}
    write(root / "a.csv", b"changed", mtime=time.time() + 5)  # a new version is new work
    assert [e.key for e in poller.poll_once()] == ["a.csv"]


def test_inbox_whose_claims_cannot_be_written_records_each_file_failed_once(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for name in ("a.csv", "b.csv"):
        write(root / name)
    blocked = tmp_path / "claims"
    blocked.write_text("a file where the claims folder should be")
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, claims_dir=blocked)
    processed: list[str] = []
    failed: list[str] = []
    loop = PollLoop(
        poller,
        lambda e: processed.append(e.key),
        interval_s=1.0,
        on_failure=lambda e, exc: failed.append(e.key),
    )
    results = [loop.run_once() for _ in range(3)]
    assert processed == []  # never processed without a claim: it could not be moved out after
    assert failed == ["a.csv", "b.csv"]
    assert [r.failed for r in results] == [2, 0, 0]
    assert sorted(root.iterdir()) == [root / "a.csv", root / "b.csv"]  # left in place


def test_inbox_file_with_a_name_near_the_limit_is_claimed_processed_and_moved_once(tmp_path: Path) -> None:
    root = tmp_path / "in"
    long_name = "x" * 250 + ".csv"  # 254 bytes: its ".claim" marker would be 260, over NAME_MAX
    for name in (long_name, "a.csv"):
        write(root / name)
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, processed_dir=tmp_path / "done")
    processed: list[str] = []
    loop = PollLoop(poller, lambda e: processed.append(e.key), interval_s=1.0)
    loop.run_once()
    loop.run_once()
    assert sorted(processed) == sorted([long_name, "a.csv"])
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == sorted([long_name, "a.csv"])


def test_listing_throttled_one_call_in_three_completes(aws: None) -> None:
    """Every third ListObjectsV2 answers SlowDown (503) and botocore's retries are off: a listing
    that started over from page 1 would never reach page 3 (0 of 30 in the hostile pass)."""
    import boto3
    from botocore.awsrequest import AWSResponse
    from botocore.config import Config

    client = boto3.client("s3", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    client.create_bucket(Bucket="bucket")
    keys = [f"in/{i:03d}" for i in range(30)]
    put(client, *keys)
    calls = {"n": 0}

    def every_third_slows_down(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] % 3:
            return None
        raw = type("Raw", (), {"stream": lambda self, **k: iter([b""])})()
        response = AWSResponse("https://s3", 503, {}, raw)
        response._content = b"<Error><Code>SlowDown</Code><Message>Reduce your rate.</Message></Error>"  # type: ignore[attr-defined]
        return response

    client.meta.events.register_first("before-send.s3.ListObjectsV2", every_third_slows_down)
    poller = S3Poller(client, "bucket", prefix="in/", page_size=10)
    processed: list[str] = []
    clock = FakeClock()
    loop = PollLoop(
        poller,
        lambda e: processed.append(e.key),
        interval_s=1.0,
        retry=RetryPolicy(give_up_after=10),
        clock=clock,
        wait=clock.wait,
        seed=3,
    )
    loop.run(max_cycles=3)
    assert sorted(processed) == keys  # every object, once
    assert loop.stats.listing.throttles >= 1
    assert (
        1 <= poller.stats.listing_resumes <= loop.stats.listing.throttles
    )  # a throttled page 1 has no token
    assert loop.stats.listing.backoff_s > 0  # the loop backed off before asking for the page again


def test_a_failed_page_is_asked_again_from_its_continuation_token(s3: Any) -> None:
    put(s3, *(f"in/{i:03d}" for i in range(25)))
    requests: list[dict[str, Any]] = []
    fail_on = {2}

    class Flaky:
        def list_objects_v2(self, **request: Any) -> Any:
            requests.append(dict(request))
            if len(requests) in fail_on:
                raise ConnectionError("connection reset")
            return s3.list_objects_v2(**request)

    poller = S3Poller(s3, "bucket", prefix="in/", page_size=10)
    poller.client = Flaky()  # type: ignore[assignment]
    with pytest.raises(ConnectionError):
        poller.poll_once()
    assert poller.cursor.remembered == 0  # a partial listing reports nothing
    found = poller.poll_once()
    assert len(found) == 25
    tokens = [r.get("ContinuationToken") for r in requests]
    assert tokens[0] is None
    assert tokens[1] is not None
    assert tokens[2] == tokens[1]  # the failed page again, not page 1
    assert len(requests) == 4


def test_s3_inbox_never_moves_an_object_outside_its_prefix(s3: Any) -> None:
    """A deferred key from a tampered state document names an object outside the listed prefix."""
    put(s3, "secret/keep")
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="inbox")
    outcome = poller.acknowledge(Entry("secret/keep", 1, 0.0))
    assert outcome is Outcome.STUCK
    assert s3.get_object(Bucket="bucket", Key="secret/keep")["Body"].read() == b"x"
    assert "outside the listed prefix" in poller.stuck["secret/keep"]
