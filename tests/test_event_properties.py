"""Properties of the event parser, for arbitrary input (hypothesis)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from event_handlers.events import EventParseError, compare_sequencers, parse_s3_event
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
