"""S3Poller and FolderPoller against moto and real folders: pagination, restarts, moves, stats."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from pollers import FolderPoller, PollLoop, RetryPolicy, S3Poller
from pollers.cursors import CursorStateError
from pollers.entries import Entry
from tests.conftest import FakeClock

STRATEGIES = ("seen-set", "watermark", "start-after", "inbox")


def put(s3: Any, *keys: str, body: bytes = b"x") -> None:
    for key in keys:
        s3.put_object(Bucket="bucket", Key=key, Body=body)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_s3_poller_finds_each_object_once_across_pages(s3: Any, strategy: str) -> None:
    poller = S3Poller(s3, "bucket", prefix="in/", cursor=strategy, page_size=3)
    put(s3, *(f"in/{i:03d}" for i in range(7)))
    found = [e.key for e in poller.poll_once()]
    for entry in [e for e in poller.poll_once()]:
        found.append(entry.key)
    assert found == [f"in/{i:03d}" for i in range(7)]
    assert poller.stats.poll_cycles == 2
    assert poller.stats.new_files == 7


def test_list_requests_are_pages_times_cycles(s3: Any) -> None:
    poller = S3Poller(s3, "bucket", prefix="in/", page_size=4)
    put(s3, *(f"in/{i:03d}" for i in range(10)))  # 3 pages of 4
    for _ in range(5):
        poller.poll_once()
    assert poller.stats.list_requests == 15
    assert poller.stats.objects_scanned == 50
    assert poller.stats.empty_polls == 4


def test_start_after_idle_poll_is_one_request_whatever_the_bucket_size(s3: Any) -> None:
    put(s3, *(f"in/{i:05d}" for i in range(2500)))
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="start-after")
    assert len(poller.poll_once()) == 2500
    first = poller.stats.list_requests
    assert first == 3
    for _ in range(5):
        assert poller.poll_once() == []
    assert poller.stats.list_requests == first + 5
    seen_set = S3Poller(s3, "bucket", prefix="in/", cursor="seen-set")
    seen_set.poll_once()
    seen_set.poll_once()
    assert seen_set.stats.list_requests == 6  # a full listing every cycle


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_restart_from_saved_cursor_neither_repeats_nor_misses(s3: Any, tmp_path: Path, strategy: str) -> None:
    state = tmp_path / "state.json"
    first = S3Poller(s3, "bucket", prefix="in/", cursor=strategy, state_path=state)
    put(s3, "in/a", "in/b")
    for entry in first.poll_once():
        first.acknowledge(entry)
    first.commit()
    put(s3, "in/c")  # arrives while no poller runs
    second = S3Poller(s3, "bucket", prefix="in/", cursor=strategy, state_path=state)
    assert [e.key for e in second.poll_once()] == ["in/c"]


def test_uncommitted_cycle_is_reported_again_after_a_crash(s3: Any, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = S3Poller(s3, "bucket", prefix="in/", state_path=state)
    put(s3, "in/a")
    assert len(first.poll_once()) == 1  # crashed before commit()
    second = S3Poller(s3, "bucket", prefix="in/", state_path=state)
    assert [e.key for e in second.poll_once()] == ["in/a"]  # at least once, never lost


def test_state_can_live_in_s3(s3: Any) -> None:
    url = "s3://bucket/state/cursor.json"
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="watermark", state_path=url)
    put(s3, "in/a")
    poller.poll_once()
    poller.commit()
    saved = json.loads(s3.get_object(Bucket="bucket", Key="state/cursor.json")["Body"].read())
    assert saved["strategy"] == "watermark"
    assert S3Poller(s3, "bucket", prefix="in/", cursor="watermark", state_path=url).poll_once() == []


def test_state_of_another_strategy_is_refused(s3: Any, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    S3Poller(s3, "bucket", prefix="in/", cursor="seen-set", state_path=state).commit()
    with pytest.raises(CursorStateError):
        S3Poller(s3, "bucket", prefix="in/", cursor="watermark", state_path=state)


def test_inbox_moves_processed_and_failed_objects_out(s3: Any) -> None:
    poller = S3Poller(s3, "bucket", prefix="in/", cursor="inbox")
    put(s3, "in/good.csv", "in/bad file+1.csv")
    entries = {e.key: e for e in poller.poll_once()}
    poller.acknowledge(entries["in/good.csv"], succeeded=True)
    poller.acknowledge(entries["in/bad file+1.csv"], succeeded=False)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="bucket")["Contents"])
    assert keys == ["failed/bad file+1.csv", "processed/good.csv"]
    assert poller.poll_once() == []


def test_inbox_refuses_a_processed_prefix_inside_the_listed_one(s3: Any) -> None:
    with pytest.raises(ValueError, match="inside the listed prefix"):
        S3Poller(s3, "bucket", prefix="", cursor="inbox")


def test_throttled_listing_backs_off_and_keeps_the_cursor(aws: None) -> None:
    """SlowDown (HTTP 503) injected through botocore's event hooks, no retries in botocore."""
    client = boto3.client("s3", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))
    client.create_bucket(Bucket="bucket")
    put(client, "in/a", "in/b")
    failures = {"left": 2}

    def slow_down(**kwargs: Any) -> Any:
        if failures["left"] > 0:
            failures["left"] -= 1
            from botocore.awsrequest import AWSResponse

            raw = type("Raw", (), {"stream": lambda self, **k: iter([b""])})()
            body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
            response = AWSResponse("https://s3", 503, {}, raw)
            response._content = body  # type: ignore[attr-defined]
            return response
        return None

    client.meta.events.register_first("before-send.s3.ListObjectsV2", slow_down)
    clock = FakeClock()
    processed: list[str] = []
    loop = PollLoop(
        S3Poller(client, "bucket", prefix="in/"),
        lambda e: processed.append(e.key),
        interval_s=10.0,
        clock=clock,
        wait=clock.wait,
        seed=0,
    )
    stats = loop.run(max_cycles=1)
    assert processed == ["in/a", "in/b"]
    assert stats.listing.throttles == 2
    assert stats.listing.errors == 0
    assert stats.listing.backoff_s > 0


def test_loop_keeps_a_fixed_rate_when_processing_is_slow(s3: Any) -> None:
    clock = FakeClock(start=0.0)
    starts: list[float] = []
    poller = S3Poller(s3, "bucket", prefix="in/")
    put(s3, *(f"in/{i}" for i in range(3)))

    def slow(entry: Entry) -> None:
        clock.advance(2.0)  # each file takes 2 s

    loop = PollLoop(poller, slow, interval_s=10.0, clock=clock, wait=clock.wait)
    original = poller.poll_once

    def stamped() -> list[Entry]:
        starts.append(clock.now)
        return original()

    poller.poll_once = stamped  # type: ignore[method-assign]
    loop.run(max_cycles=4)
    assert starts == [0.0, 10.0, 20.0, 30.0]


def test_one_bad_file_never_stops_the_others(s3: Any) -> None:
    put(s3, "in/a", "in/b", "in/c")
    failures: list[tuple[str, str]] = []

    def process(entry: Entry) -> None:
        if entry.key == "in/b":
            raise ValueError("corrupt")

    loop = PollLoop(
        S3Poller(s3, "bucket", prefix="in/"),
        process,
        interval_s=1.0,
        on_failure=lambda e, exc: failures.append((e.key, str(exc))),
        retry=RetryPolicy(max_attempts=2),
    )
    result = loop.run_once()
    assert (result.processed, result.failed) == (2, 1)
    assert failures == [("in/b", "corrupt")]
    assert loop.stats.file_retries == 1


def test_graceful_stop_finishes_the_cycle_and_saves_the_cursor(s3: Any, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    put(s3, "in/a", "in/b")
    started = threading.Event()
    release = threading.Event()

    def process(entry: Entry) -> None:
        started.set()
        release.wait(5)

    loop = PollLoop(S3Poller(s3, "bucket", prefix="in/", state_path=state), process, interval_s=0.05)
    loop.start()
    assert started.wait(5)
    loop._stop.set()  # ask to stop while the cycle is mid-way
    release.set()
    loop.stop(timeout=5)
    put(s3, "in/c")
    assert [e.key for e in S3Poller(s3, "bucket", prefix="in/", state_path=state).poll_once()] == ["in/c"]


# -- folders -------------------------------------------------------------------------------------
def write(path: Path, data: bytes = b"x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_folder_poller_finds_each_file_once(tmp_path: Path, strategy: str) -> None:
    root = tmp_path / "in"
    root.mkdir()
    poller = FolderPoller(root, min_age_s=0.0, cursor=strategy)
    write(root / "a.csv")
    write(root / ".a.csv.part")  # a writer's temporary file is ignored
    found = [e.key for e in poller.poll_once()]
    for entry in poller.poll_once():
        found.append(entry.key)
    write(root / "b.csv")
    found += [e.key for e in poller.poll_once()]
    assert found == ["a.csv", "b.csv"]


def test_folder_poller_stats_only_new_files(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    for i in range(50):
        write(root / f"{i:03d}.csv")
    poller = FolderPoller(root, min_age_s=0.0, change_check="inode")
    poller.poll_once()
    assert poller.stats.stat_calls == 50
    for _ in range(5):
        poller.poll_once()
    assert poller.stats.stat_calls == 50  # watchdog's PollingObserver would have made 300
    write(root / "new.csv")
    poller.poll_once()
    assert poller.stats.stat_calls == 51


def test_half_written_file_waits_for_min_age(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    now = {"t": time.time()}
    poller = FolderPoller(root, min_age_s=2.0, clock=lambda: now["t"])
    with (root / "big.csv").open("wb") as handle:
        handle.write(b"a,b\n")
        handle.flush()
        assert poller.poll_once() == []  # still being written
        handle.write(b"1,2\n")
    assert poller.poll_once() == []  # finished but too young
    now["t"] += 5.0
    assert [(e.key, e.size) for e in poller.poll_once()] == [("big.csv", 8)]


def test_folder_restart_from_state(tmp_path: Path) -> None:
    root, state = tmp_path / "in", tmp_path / "state.json"
    root.mkdir()
    write(root / "a")
    first = FolderPoller(root, min_age_s=0.0, cursor="watermark", state_path=state)
    first.poll_once()
    first.commit()
    write(root / "b")
    again = FolderPoller(root, min_age_s=0.0, cursor="watermark", state_path=state)
    assert [e.key for e in again.poll_once()] == ["b"]


def test_folder_inbox_renames_into_processed(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    write(root / "a")
    poller = FolderPoller(root, min_age_s=0.0, cursor="inbox", processed_dir=tmp_path / "done")
    for entry in poller.poll_once():
        poller.acknowledge(entry)
    assert (tmp_path / "done" / "a").exists()
    assert not (root / "a").exists()


def test_recursive_folder_poller_keys_are_relative_paths(tmp_path: Path) -> None:
    root = tmp_path / "in"
    write(root / "2024" / "05" / "a.csv")
    write(root / "top.csv")
    assert sorted(e.key for e in FolderPoller(root, min_age_s=0.0, recursive=True).poll_once()) == [
        "2024/05/a.csv",
        "top.csv",
    ]
    assert [e.key for e in FolderPoller(root, min_age_s=0.0).poll_once()] == ["top.csv"]


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError, match="does not exist"):
        FolderPoller(tmp_path / "nope")


def test_workers_process_a_cycle_in_parallel_and_save_the_cursor_once(s3: Any, tmp_path: Path) -> None:
    put(s3, *(f"in/{i:02d}" for i in range(12)))
    threads: set[str] = set()
    lock = threading.Lock()

    def process(entry: Entry) -> None:
        with lock:
            threads.add(threading.current_thread().name)
        time.sleep(0.05)

    poller = S3Poller(s3, "bucket", prefix="in/", cursor="inbox", state_path=tmp_path / "s.json")
    result = PollLoop(poller, process, interval_s=1.0, workers=4).run_once()
    assert (result.processed, result.failed) == (12, 0)
    assert len(threads) > 1
    assert poller.cursor.remembered == 0  # every file acknowledged (moved out) once
    assert s3.list_objects_v2(Bucket="bucket", Prefix="in/").get("KeyCount") == 0


def test_scheduled_poll_rates_are_what_eventbridge_accepts() -> None:
    from pollers import schedule_expression

    assert schedule_expression(60) == "rate(1 minute)"
    assert schedule_expression(300) == "rate(5 minutes)"
    with pytest.raises(ValueError, match="at most once a minute"):
        schedule_expression(30)
    with pytest.raises(ValueError, match="whole minutes"):
        schedule_expression(90)


def test_scheduled_handler_polls_once_per_invocation_with_state_in_s3(s3: Any) -> None:
    import boto3

    from pollers import configure_poll_schedule, make_scheduled_handler

    events = boto3.client("events", region_name="us-east-1")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:poller"
    rule_arn = configure_poll_schedule(events, "every-minute", arn, 60)
    assert events.describe_rule(Name="every-minute")["ScheduleExpression"] == "rate(1 minute)"
    assert events.list_targets_by_rule(Rule="every-minute")["Targets"][0]["Arn"] == arn
    assert rule_arn.endswith("rule/every-minute")
    seen: list[str] = []
    handler = make_scheduled_handler(
        lambda: S3Poller(s3, "bucket", prefix="in/", cursor="watermark", state_path="s3://bucket/state.json"),
        lambda entry: seen.append(entry.key),
    )
    put(s3, "in/a", "in/b")
    assert handler({}, None)["processed"] == 2
    put(s3, "in/c")
    assert handler({}, None) == {"found": 1, "processed": 1, "failed": 0, "errors": []}
    assert seen == ["in/a", "in/b", "in/c"]


def test_poll_stats_nest_inbox_and_walk_counters_while_as_dict_stays_flat(tmp_path: Path) -> None:
    """The nesting keeps the flat ``as_dict()`` of 0.2.0: same keys, same order, same numbers."""
    root = tmp_path / "in"
    root.mkdir()
    for name in ("a", "b"):
        (root / name).write_bytes(b"x")
    (root / "outside").symlink_to(tmp_path)  # a link to a folder: refused, counted by the walk
    poller = FolderPoller(root, cursor="inbox", min_age_s=0.0, processed_dir=tmp_path / "done")
    for entry in poller.poll_once():
        poller.acknowledge(entry)
    assert (poller.stats.inbox.moved, poller.stats.walk.symlinks_refused) == (2, 1)
    flat = poller.stats.as_dict()
    assert list(flat) == [
        "poll_cycles", "empty_polls", "list_requests", "objects_scanned", "stat_calls", "new_files",
        "held_back", "moved", "gone", "move_errors", "claimed_elsewhere", "future_timestamps",
        "found_by_name", "unreadable_folders", "listing_resumes", "symlinks_followed",
        "symlinks_refused", "stuck",
    ]  # fmt: skip
    assert (flat["poll_cycles"], flat["new_files"], flat["moved"], flat["symlinks_refused"]) == (1, 2, 2, 1)
