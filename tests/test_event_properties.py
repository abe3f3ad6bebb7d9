"""Properties of the event parser, for arbitrary input (hypothesis)."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch
from urllib.parse import quote_plus, unquote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from event_handlers.events import (
    EventParseError,
    compare_sequencers,
    decode_key,
    parse_delivery,
    parse_s3_event,
    split_deliveries,
)
from tests.conftest import load_fixture

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)
FIELDS = [
    "Records",
    "eventSource",
    "s3",
    "bucket",
    "object",
    "key",
    "name",
    "size",
    "eTag",
    "body",
    "eventName",
    "eventTime",
    "Sns",
    "Message",
    "detail",
    "detail-type",
    "source",
    "Type",
    "sequencer",
    "versionId",
    "messageId",
    "tasks",
    "invocationSchemaVersion",
    "Event",
]


def _mutate(document: Any, path: list[int], value: Any) -> Any:
    """Replace one node of ``document`` (chosen by ``path``) with ``value``."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    if isinstance(document, dict):
        name = sorted(document)[path[0] % len(document)]
        return {**document, name: _mutate(document[name], path[1:], value)}
    i = path[0] % len(document)
    return [*document[:i], _mutate(document[i], path[1:], value), *document[i + 1 :]]


def _parses_or_says_why(event: Any) -> None:
    try:
        parse_s3_event(event)
    except EventParseError as exc:
        message = str(exc)
    else:
        return
    assert message  # a reason, never an empty error


@settings(max_examples=120, deadline=None)
@given(JSON)
def test_arbitrary_json_never_raises_anything_but_event_parse_error(event: Any) -> None:
    _parses_or_says_why(event)


@settings(max_examples=120, deadline=None)
@given(
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=6),
    st.sampled_from(["aws:s3", "aws:sqs", "aws:sns", None]),
)
def test_s3_shaped_json_never_raises_anything_but_event_parse_error(
    record: dict[str, Any], source: Any
) -> None:
    if source:
        record = {**record, "eventSource": source}
    _parses_or_says_why({"Records": [record]})
    _parses_or_says_why(record)


@settings(max_examples=120, deadline=None)
@given(
    st.sampled_from(["s3Event.json", "s3SqsEvent.json", "s3EventBridgeNotificationObjectCreatedEvent.json"]),
    st.lists(st.integers(min_value=0, max_value=50), max_size=6),
    JSON,
)
def test_real_samples_with_one_field_broken_fail_only_with_event_parse_error(
    name: str, path: list[int], value: Any
) -> None:
    _parses_or_says_why(_mutate(load_fixture(name), path, value))


KEYS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=60)


@settings(max_examples=120, deadline=None)
@given(KEYS, st.booleans())
def test_encoded_keys_round_trip(key: str, quote_slash: bool) -> None:
    """S3 form-URL-encodes keys (and moto quotes '/' too): the parser gives the key back."""
    event = load_fixture("s3Event.json")
    event["Records"][0]["s3"]["object"]["key"] = quote_plus(key, safe="" if quote_slash else "/")
    [parsed] = parse_s3_event(event)
    assert parsed.key == key
    wrapped = {"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": json.dumps(event)}]}
    assert [e.key for e in parse_s3_event(wrapped)] == [key]


@settings(max_examples=100, deadline=None)
@given(KEYS)
def test_eventbridge_keys_are_taken_as_they_are(key: str) -> None:
    event = load_fixture("s3EventBridgeNotificationObjectCreatedEvent.json")
    event["detail"]["object"]["key"] = key
    assert [e.key for e in parse_s3_event(event)] == [key]  # even one that looks encoded


HEX = st.text("0123456789ABCDEF", min_size=1, max_size=20)


@given(HEX, HEX, HEX)
def test_sequencer_order_is_a_total_order(a: str, b: str, c: str) -> None:
    assert compare_sequencers(a, b) == -compare_sequencers(b, a)
    if compare_sequencers(a, b) <= 0 and compare_sequencers(b, c) <= 0:
        assert compare_sequencers(a, c) <= 0


@given(HEX, st.integers(min_value=1, max_value=6))
def test_trailing_zeros_do_not_change_a_sequencer(a: str, zeros: int) -> None:
    """Right-padding with zeros is how the shorter one is compared: padding it is a no-op."""
    assert compare_sequencers(a, a + "0" * zeros) == 0


ENCODED = st.text(st.sampled_from("%+/aZ09fF2C3E8B \u00e9\u4e2d\U0001f600"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(ENCODED | KEYS)
def test_the_key_decoder_is_unquote_plus(raw: str) -> None:
    """The regex-free decoder gives what ``unquote_plus`` gives, broken escapes included."""
    assert decode_key(raw) == unquote_plus(raw)


def _general_way(event: Any) -> list[Any] | str:
    """What the field-path parser gives (every record through ``parse_delivery``, no direct
    read), or its error."""
    with patch("event_handlers.events._read_plain", return_value=None):
        try:
            return [obj for d in split_deliveries(event) for obj in parse_delivery(d)]
        except EventParseError as exc:
            return f"{type(exc).__name__}: {exc}"


def _direct_way(event: Any) -> list[Any] | str:
    try:
        return parse_s3_event(event)
    except EventParseError as exc:
        return f"{type(exc).__name__}: {exc}"


RECORD_FIELDS = [
    ("eventSource",),
    ("eventName",),
    ("eventTime",),
    ("awsRegion",),
    ("Records",),
    ("Type",),
    ("Event",),
    ("s3",),
    ("s3", "bucket"),
    ("s3", "bucket", "name"),
    ("s3", "object"),
    ("s3", "object", "key"),
    ("s3", "object", "size"),
    ("s3", "object", "eTag"),
    ("s3", "object", "sequencer"),
    ("s3", "object", "versionId"),
]
MISSING = object()
ODD = [
    "",
    "null",
    -1,
    0,
    7,
    "7",
    "-7",
    True,
    None,
    "aws:s3",
    "s3:TestEvent",
    "Notification",
    "2026-13-01",
    "2026-12-07T10:00:00Z",
    "a%2Bb+c%C3",
    1.5,
    [],
    {},
    MISSING,
]
ODD_VALUES = st.sampled_from(ODD)


def _with(record: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``record`` with the field at ``path`` set to ``value`` (removed for MISSING)."""
    head, rest = path[0], path[1:]
    if rest and isinstance(record.get(head), dict):
        return {**record, head: _with(record[head], rest, value)}
    if rest:
        return record
    out = {k: v for k, v in record.items() if k != head}
    return out if value is MISSING else {**out, head: value}


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(RECORD_FIELDS), ODD_VALUES | JSON), max_size=3),
    st.integers(min_value=1, max_value=3),
)
def test_the_direct_read_gives_the_events_and_errors_of_the_general_way(
    changes: list[tuple[tuple[str, ...], Any]], copies: int
) -> None:
    """parse_s3_event reads plain S3 records directly; whatever one holds, the result (or the
    error, with its field path) is the one the general parser gives."""
    record = load_fixture("s3Event.json")["Records"][0]
    for path, value in changes:
        record = _with(record, path, value)
    event = {"Records": [load_fixture("s3Event.json")["Records"][0], record] * copies}
    assert _direct_way(event) == _general_way(event)


def test_every_odd_value_in_every_field_reads_as_the_general_way_reads_it() -> None:
    """Each field of a plain record set to each odd value (or removed), one at a time."""
    plain = load_fixture("s3Event.json")["Records"][0]
    for path in RECORD_FIELDS:
        for value in ODD:
            event = {"Records": [plain, _with(plain, path, value)]}
            assert _direct_way(event) == _general_way(event), (path, value)
