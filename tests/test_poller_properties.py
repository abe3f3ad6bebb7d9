"""Property-based tests of saved cursor state: any state round-trips through JSON and decides as
before; any malformed document or byte string ends in ``CursorStateError``, never another error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pollers.cursors import STRATEGIES, ListingCursor, cursor_to_state, make_cursor, restore_cursor
from pollers.entries import Entry
from pollers.errors import CursorStateError
from pollers.state import parse_document

keys = st.text(alphabet="abcxyz/0123456789-", min_size=1, max_size=8)
entries = st.builds(
    Entry,
    key=keys,
    size=st.integers(0, 10**9),
    mtime=st.floats(0, 4_000_000_000, allow_nan=False),
    etag=st.one_of(st.none(), st.text(alphabet="0123456789abcdef", min_size=1, max_size=8)),
)
cycles = st.lists(st.lists(entries, max_size=6), max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def play(cursor: ListingCursor, history: list[list[Entry]]) -> None:
    for batch in history:
        plan = cursor.plan()
        cursor.mark_reported(cursor.select_new(batch, plan))
        cursor.listing_done(plan)


@settings(max_examples=30, deadline=None)
@given(history=cycles, probe=st.lists(entries, max_size=8))
@pytest.mark.parametrize("kind", STRATEGIES)
def test_any_state_round_trips_and_decides_the_same(
    kind: str, history: list[list[Entry]], probe: list[Entry]
) -> None:
    cursor = make_cursor(kind)
    play(cursor, history)
    document = json.loads(json.dumps(cursor_to_state(cursor), allow_nan=False))
    restored = make_cursor(kind)
    restore_cursor(restored, document, "probe.json")
    if kind == "inbox":  # in flight is never restored (see InboxCursor)
        assert restored.remembered == 0
        return
    assert restored.state() == cursor.state()
    plan = cursor.plan()
    assert restored.plan() == plan
    assert restored.select_new(probe, plan) == cursor.select_new(probe, plan)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a nested document where a value could be replaced."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


@settings(max_examples=60, deadline=None)
@given(history=cycles, data=st.data())
@pytest.mark.parametrize("kind", STRATEGIES)
def test_any_corrupted_field_is_loaded_or_refused_clearly(
    kind: str, history: list[list[Entry]], data: Any
) -> None:
    cursor = make_cursor(kind)
    play(cursor, history)
    document = json.loads(json.dumps(cursor_to_state(cursor)))
    where = data.draw(st.sampled_from(paths(document)))
    target = document
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = data.draw(json_values)
    message = "probe.json: (loaded)"
    try:
        restore_cursor(make_cursor(kind), document, "probe.json")
    except CursorStateError as exc:
        message = str(exc)
    assert message.startswith("probe.json: ")
    assert "\n" not in message


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_any_bytes_parse_to_a_document_or_a_clear_error(raw: bytes) -> None:
    document: Any = {}
    message = "state.json"
    try:
        document = parse_document(raw, "state.json")
    except CursorStateError as exc:
        message = str(exc)
    assert "state.json" in message
    assert isinstance(document, dict)
