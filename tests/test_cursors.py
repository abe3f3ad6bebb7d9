"""The pure listing/cursor core: every strategy reports every file exactly once."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollers.cursors import (
    CursorStateError,
    ListingCursor,
    ListingPlan,
    StartAfterCursor,
    WatermarkCursor,
    cursor_to_state,
    make_cursor,
    restore_cursor,
)
from pollers.entries import Entry

ALL = ("seen-set", "watermark", "start-after", "inbox")


class Bucket:
    """A tiny in-memory bucket that lists like S3 (key order, optional StartAfter)."""

    def __init__(self) -> None:
        self.objects: dict[str, Entry] = {}

    def put(self, key: str, mtime: float, etag: str = "e", size: int = 1) -> Entry:
        entry = Entry(key, size, mtime, etag)
        self.objects[key] = entry
        return entry

    def listing(self, plan: ListingPlan) -> list[Entry]:
        keys = sorted(self.objects)
        if plan.start_after is not None:
            keys = [k for k in keys if k > plan.start_after]
        return [self.objects[k] for k in keys]


def cycle(cursor: ListingCursor, bucket: Bucket) -> list[str]:
    """One poll cycle; inbox files are moved out once reported, as the poller does."""
    plan = cursor.plan()
    new = cursor.select_new(bucket.listing(plan), plan)
    cursor.mark_reported(new)
    cursor.listing_done(plan)
    for entry in new:
        cursor.acknowledge(entry)
        if cursor.moves_processed:
            del bucket.objects[entry.key]
    return [e.key for e in new]


@pytest.mark.parametrize("strategy", ALL)
def test_files_sharing_one_timestamp_are_all_reported_once(strategy: str) -> None:
    cursor, bucket = make_cursor(strategy), Bucket()
    for i in range(5):
        bucket.put(f"a/{i}", mtime=100.0)
    assert cycle(cursor, bucket) == [f"a/{i}" for i in range(5)]
    for i in range(5, 8):  # more files in the same second, after the first listing
        bucket.put(f"a/{i}", mtime=100.0)
    assert cycle(cursor, bucket) == ["a/5", "a/6", "a/7"]
    assert cycle(cursor, bucket) == []


@pytest.mark.parametrize("strategy", ALL)
def test_old_last_modified_within_lookback_is_found(strategy: str) -> None:
    """A multipart upload's LastModified is when it started: behind the watermark on arrival."""
    cursor, bucket = make_cursor(strategy), Bucket()
    bucket.put("k/001", 1000.0)
    bucket.put("k/002", 1010.0)
    assert cycle(cursor, bucket) == ["k/001", "k/002"]
    bucket.put("k/003", 700.0)  # completed now, LastModified 310 s ago
    found = []
    for _ in range(70):  # start-after catches it at its next full sweep
        found += cycle(cursor, bucket)
    assert found == ["k/003"]


def test_watermark_finds_a_new_name_older_than_the_lookback_once_and_counts_it() -> None:
    """``cp -p``, ``rsync -a`` and ``mv`` keep old mtimes: the name decides, not the timestamp."""
    cursor, bucket = WatermarkCursor(lookback_s=60), Bucket()
    bucket.put("x", 1000.0)
    assert cycle(cursor, bucket) == ["x"]
    bucket.put("late", 900.0)  # 100 s behind the watermark, beyond the 60 s look-back
    assert cycle(cursor, bucket) == ["late"]
    assert cursor.found_by_name == 1
    assert cycle(cursor, bucket) == []
    assert cursor.found_by_name == 1


@pytest.mark.parametrize("cursor_name", ["watermark", "start-after"])
def test_a_file_rewritten_in_place_with_a_later_mtime_is_new_again(cursor_name: str) -> None:
    """No etag (a local file): a later mtime is an overwrite, as S3 would announce it."""
    cursor, bucket = make_cursor(cursor_name, lookback_s=60), Bucket()
    bucket.objects["k"] = Entry("k", 1, 1000.0)
    assert cycle(cursor, bucket) == ["k"]
    bucket.objects["other"] = Entry("other", 1, 5000.0)  # pushes "k" out of the window
    assert cycle(cursor, bucket) == ["other"]
    bucket.objects["k"] = Entry("k", 2, 5001.0)
    found = []
    for _ in range(61):
        found += cycle(cursor, bucket)
    assert found == ["k"]


@pytest.mark.parametrize("strategy", ALL)
def test_key_sorting_before_the_cursor_is_found(strategy: str) -> None:
    cursor, bucket = make_cursor(strategy), Bucket()
    bucket.put("2024/05/02/b", 2000.0)
    assert cycle(cursor, bucket) == ["2024/05/02/b"]
    bucket.put("2024/05/01/a", 2001.0)  # arrives later, sorts earlier
    found = []
    for _ in range(61):
        found += cycle(cursor, bucket)
    assert found == ["2024/05/01/a"]


def test_start_after_lists_from_the_last_key_between_sweeps() -> None:
    cursor = StartAfterCursor(sweep_every=10)
    bucket = Bucket()
    bucket.put("0001", 1.0)
    assert cursor.plan().is_full
    cycle(cursor, bucket)
    plans = []
    for _ in range(10):
        plans.append(cursor.plan().start_after)
        cycle(cursor, bucket)
    assert plans[:9] == ["0001"] * 9
    assert plans[9] is None  # the tenth cycle sweeps


@pytest.mark.parametrize("strategy", ["seen-set", "watermark", "start-after"])
def test_overwritten_object_with_new_etag_is_new_again(strategy: str) -> None:
    cursor, bucket = make_cursor(strategy), Bucket()
    bucket.put("k", 10.0, etag="v1")
    assert cycle(cursor, bucket) == ["k"]
    bucket.put("k", 11.0, etag="v2")
    found = []
    for _ in range(61):
        found += cycle(cursor, bucket)
    assert found == ["k"]


def test_inbox_forgets_what_was_moved_out() -> None:
    cursor, bucket = make_cursor("inbox"), Bucket()
    for i in range(3):
        bucket.put(f"in/{i}", 1.0)
    assert len(cycle(cursor, bucket)) == 3
    assert cursor.remembered == 0
    assert bucket.objects == {}


@pytest.mark.parametrize("strategy", ALL)
def test_state_round_trips_through_json(strategy: str) -> None:
    cursor, bucket = make_cursor(strategy), Bucket()
    for i in range(4):
        bucket.put(f"k{i}", 100.0 + i)
    plan = cursor.plan()
    new = cursor.select_new(bucket.listing(plan), plan)
    cursor.mark_reported(new[:2])  # inbox: two still in flight
    cursor.listing_done(plan)
    document = json.loads(json.dumps(cursor_to_state(cursor)))
    restored = make_cursor(strategy)
    restore_cursor(restored, document)
    plan = restored.plan()
    again = [e.key for e in restored.select_new(bucket.listing(plan), plan)]
    if strategy == "inbox":  # a saved in-flight set is never trusted: what is still there comes again
        assert restored.state() == {"in_flight": []}
        assert again == ["k0", "k1", "k2", "k3"]
    else:
        assert restored.state() == cursor.state()
        assert again == ["k2", "k3"]


def test_state_from_another_strategy_is_refused_with_a_clear_error() -> None:
    document = cursor_to_state(make_cursor("seen-set"))
    with pytest.raises(CursorStateError, match="written by strategy 'seen-set', not 'watermark'"):
        restore_cursor(make_cursor("watermark"), document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"version": 9, "strategy": "seen-set", "cursor": {}}, "version 9"),
        ({"version": 1, "strategy": "seen-set", "cursor": {"seen": []}}, "'seen' must be a dict"),
        ({"version": 1, "strategy": "seen-set"}, "'cursor' must be a dict"),
        ({"version": 1, "strategy": "seen-set", "cursor": {"seen": {"k": 5}}}, "'seen.k' must be a string"),
        ([], "must be a JSON object"),
    ],
)
def test_malformed_state_names_the_problem(document: object, message: str) -> None:
    with pytest.raises(CursorStateError, match=message):
        restore_cursor(make_cursor("seen-set"), document)  # type: ignore[arg-type]


def test_unknown_strategy_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="seen-set, watermark, start-after, inbox"):
        make_cursor("newest-first")


arrivals = st.lists(
    st.tuples(st.integers(0, 30), st.integers(0, 5), st.booleans()),  # (cycle, mtime jitter, late key)
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(arrivals)
@pytest.mark.parametrize("strategy", ALL)
def test_any_arrival_order_is_reported_exactly_once(strategy: str, plan: list[tuple[int, int, bool]]) -> None:
    """Files arriving at any cycle, with equal or slightly older timestamps, keys in or out of
    order: every file is reported once, none twice (start-after sweeps every 5 cycles)."""
    options = {"sweep_every": 5} if strategy == "start-after" else {}
    cursor, bucket = make_cursor(strategy, **options), Bucket()
    reported: list[str] = []
    by_cycle: dict[int, list[tuple[int, int, bool]]] = {}
    for i, item in enumerate(plan):
        by_cycle.setdefault(item[0], []).append((i, item[1], item[2]))
    for now in range(40):
        for index, jitter, late in by_cycle.get(now, []):
            key = f"{'a' if late else 'z'}{now:03d}-{index:03d}"
            bucket.put(key, mtime=float(now * 10 - jitter))
        reported += cycle(cursor, bucket)
    assert sorted(reported) == sorted(set(reported))
    assert len(reported) == len(plan)
