"""Parse every shape in which an S3 object event reaches a handler. Pure: no I/O.

A handler meets S3's notification in five envelopes:

* direct (S3 -> Lambda): ``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``;
* inside SQS (S3 -> SQS -> Lambda): each ``Records[i].body`` holds one of these shapes as JSON;
* inside SNS (S3 -> SNS -> Lambda, or SNS -> SQS): ``Sns.Message`` or an SNS envelope's
  ``Message`` holds the JSON; with raw message delivery the SQS body is the notification itself;
* EventBridge (S3 -> EventBridge -> Lambda): ``{"source": "aws.s3", "detail-type": ..., "detail"}``;
* the ``s3:TestEvent`` S3 sends when a configuration is saved, which names no object.

Keys in S3 notifications are form-URL-encoded: a space arrives as ``+`` and a literal ``+`` as
``%2B``, so they are decoded with ``unquote_plus`` (the seed's ``key.replace('+', ' ')`` turns
``a+b.csv`` into ``a b.csv``). EventBridge keys arrive unencoded and are used as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus, unquote_to_bytes

from event_handlers.errors import EventParseError, UnsupportedEventError
from event_handlers.idempotency import ObjectVersion

# EventBridge detail-type -> S3 event name, from the S3 User Guide's table "Amazon EventBridge
# mapping and troubleshooting" (docs.aws.amazon.com/AmazonS3/latest/userguide/
# ev-mapping-troubleshooting.html, read 2026-11-27). "Object Created" and "Object Deleted" stand
# for several S3 names; the ``reason`` and ``deletion-type`` fields tell which (below).
EVENTBRIDGE_DETAIL_TYPES: dict[str, str] = {
    "Object Created": "ObjectCreated:*",
    "Object Deleted": "ObjectRemoved:*",
    "Object Restore Initiated": "ObjectRestore:Post",
    "Object Restore Completed": "ObjectRestore:Completed",
    "Object Restore Expired": "ObjectRestore:Delete",
    "Object Storage Class Changed": "LifecycleTransition",
    "Object Access Tier Changed": "IntelligentTiering",
    "Object Tags Added": "ObjectTagging:Put",
    "Object Tags Deleted": "ObjectTagging:Delete",
    "Object ACL Updated": "ObjectAcl:Put",
}
# "Object Created": the ``reason`` names the API (S3 User Guide, "Using EventBridge")
_CREATED_REASONS = {
    "PutObject": "ObjectCreated:Put",
    "POST Object": "ObjectCreated:Post",
    "CopyObject": "ObjectCreated:Copy",
    "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload",
}
# "Object Deleted": (reason is a lifecycle expiration, a delete marker was created) -> name
_DELETED = {
    (False, False): "ObjectRemoved:Delete",
    (False, True): "ObjectRemoved:DeleteMarkerCreated",
    (True, False): "LifecycleExpiration:Delete",
    (True, True): "LifecycleExpiration:DeleteMarkerCreated",
}


@dataclass(frozen=True, slots=True)
class S3ObjectEvent:
    """One object event, whatever envelope carried it.

    ``key`` is decoded; ``raw_key`` is what the event carried. ``size`` and ``etag`` are None for
    deletions. ``route`` says how it arrived (``s3``, ``sqs``, ``sns``, ``eventbridge``) and
    ``message_id`` is the SQS message id to name in a ``batchItemFailures`` response.
    """

    bucket: str
    key: str
    size: int | None
    etag: str | None
    event_name: str
    event_time: datetime
    sequencer: str | None
    version_id: str | None
    raw_key: str
    route: str = "s3"
    message_id: str | None = None
    region: str | None = None

    @property
    def is_created(self) -> bool:
        return self.event_name.startswith("ObjectCreated:")

    @property
    def is_removed(self) -> bool:
        return self.event_name.startswith(("ObjectRemoved:", "LifecycleExpiration:"))

    @property
    def version(self) -> ObjectVersion:
        """This object version's identity, for the idempotency ledger."""
        return ObjectVersion(self.bucket, self.key, self.version_id, self.etag, self.size, self.sequencer)

    @property
    def idempotency_key(self) -> str:
        """The ledger key (``event_handlers.idempotency``): never the event time alone.

        Raises ``NoIdentityError`` for a record naming no version id, ETag or sequencer.
        """
        return self.version.ledger_key


@dataclass(frozen=True, slots=True)
class Delivery:
    """One unit a handler may fail on its own: an SQS message, an SNS record, a direct record."""

    where: str
    payload: Any
    route: str
    message_id: str | None = None


def parse_s3_event(event: Any) -> list[S3ObjectEvent]:
    """All object events in ``event``, in order; ``[]`` for an ``s3:TestEvent``.

    Raises ``EventParseError`` (never a bare ``KeyError`` or ``TypeError``) naming the field that
    is missing or malformed. To fail one record at a time, use ``split_deliveries`` and
    ``parse_delivery`` as the handler does.

    One pass over the records: a plain S3 record (a dict from ``json.loads``) is read directly;
    anything else, and any record the direct read finds wrong, goes the general way, which
    names the field. The two give the same events and the same errors.
    """
    records = event.get("Records") if type(event) is dict else None
    if type(records) is not list or _refused_batch(event):
        return [obj for d in split_deliveries(event) for obj in parse_delivery(d)]
    out: list[S3ObjectEvent] = []
    for i, record in enumerate(records):
        parsed = _plain_s3_record(record) if type(record) is dict else None
        if parsed is not None:
            out.append(parsed)
        else:  # an envelope, a test event, or something to name: the general way
            delivery = split_deliveries({"Records": [record]})[0]
            out += parse_delivery(replace(delivery, where=f"Records[{i}]"))
    return out


def _refused_batch(event: dict[str, Any]) -> bool:
    return "invocationSchemaVersion" in event and "tasks" in event


# keys whose presence sends a record the general way (an envelope, a test event, a batch job)
_NOT_PLAIN = ("Records", "Type", "Event", "tasks", "EventSource")


def _plain_s3_record(record: dict[str, Any]) -> S3ObjectEvent | None:
    """The event of an ``aws:s3`` record that is no envelope, read directly (``_read_plain``)."""
    if record.get("eventSource") != "aws:s3":
        return None
    for key in _NOT_PLAIN:
        if key in record:
            return None
    return _read_plain(record, "s3", None)


def _read_plain(record: dict[str, Any], route: str, message_id: str | None) -> S3ObjectEvent | None:
    """An S3 record of dicts and well-typed fields, read without building a field path; None for
    anything else (the caller then takes the path that names the field)."""
    s3 = record.get("s3")
    if type(s3) is not dict:
        return None
    bucket, obj = s3.get("bucket"), s3.get("object")
    if type(bucket) is not dict or type(obj) is not dict:
        return None
    name, raw_key = bucket.get("name"), obj.get("key")
    event_name, event_time = record.get("eventName"), record.get("eventTime")
    if type(name) is not str or type(raw_key) is not str or type(event_name) is not str:
        return None
    size, etag = obj.get("size"), obj.get("eTag")
    sequencer, version_id = obj.get("sequencer"), obj.get("versionId")
    if (
        (size is not None and (type(size) is not int or size < 0))
        or (etag is not None and type(etag) is not str)
        or (sequencer is not None and type(sequencer) is not str)
        or (version_id is not None and type(version_id) is not str)
        or type(event_time) is not str
    ):
        return None
    try:
        when = datetime.fromisoformat(event_time)
    except ValueError:
        return None
    region = record.get("awsRegion")
    return S3ObjectEvent(
        name,
        decode_key(raw_key),
        size,
        etag or None,
        event_name,
        when,
        sequencer or None,
        None if not version_id or version_id == "null" else version_id,
        raw_key,
        route,
        message_id,
        region if isinstance(region, str) else None,
    )


def decode_key(raw: str) -> str:
    """A key as S3 notifications encode it, decoded: ``urllib.parse.unquote_plus`` without its
    per-call regular expression for the common keys (no escapes, or ASCII with escapes)."""
    if "%" not in raw:
        return raw.replace("+", " ") if "+" in raw else raw
    if raw.isascii():  # %XX runs decoded as one UTF-8 byte string, as unquote decodes each run
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8", "replace")
    return unquote_plus(raw)


def split_deliveries(event: Any) -> list[Delivery]:
    """Split a Lambda event into the units that succeed or fail independently."""
    if not isinstance(event, Mapping):
        raise EventParseError("event", f"expected a JSON object, got {type(event).__name__}")
    _refuse_batch_operations(event, "event")
    if "Records" not in event:
        return [Delivery("event", event, route="s3")]
    records = event["Records"]
    if not isinstance(records, list):
        raise EventParseError("Records", f"expected a list, got {type(records).__name__}")
    deliveries = []
    for i, record in enumerate(records):
        where = f"Records[{i}]"
        if not isinstance(record, Mapping):
            deliveries.append(Delivery(where, record, route="s3"))
            continue
        source = record.get("eventSource") or record.get("EventSource")
        message_id = record.get("messageId") if source == "aws:sqs" else None
        route = {"aws:sqs": "sqs", "aws:sns": "sns"}.get(str(source), "s3")
        deliveries.append(Delivery(where, record, route=route, message_id=message_id))
    return deliveries


def parse_delivery(delivery: Delivery) -> list[S3ObjectEvent]:
    """The object events inside one delivery, unwrapping SQS and SNS envelopes."""
    return list(_parse_any(delivery.payload, delivery.where, delivery.route, delivery.message_id))


def parse_delivery_records(delivery: Delivery) -> list[S3ObjectEvent | EventParseError]:
    """Like ``parse_delivery``, but each record on its own: a malformed record becomes its
    ``EventParseError`` in the list instead of failing the records beside it (three records in
    one SQS body, one of them malformed: two events and one error)."""
    return list(
        _parse_any(delivery.payload, delivery.where, delivery.route, delivery.message_id, isolate=True)
    )


MAX_NESTING = 16  # S3 -> SNS -> SQS is three envelopes deep; this is far beyond any real route


def _refuse_batch_operations(payload: Mapping[str, Any], where: str) -> None:
    if "invocationSchemaVersion" in payload and "tasks" in payload:
        raise UnsupportedEventError(
            where,
            "an S3 Batch Operations event (invocationSchemaVersion "
            f"{str(payload.get('invocationSchemaVersion'))[:10]!r}) is not supported: this handler "
            "processes S3 event notifications; Batch Operations expects a per-task result response",
        )


def _parse_any(  # noqa: C901  (one branch per envelope shape S3 events arrive in)
    payload: Any, where: str, route: str, message_id: str | None, isolate: bool = False
) -> Iterator[Any]:
    if not isinstance(payload, Mapping):
        raise EventParseError(where, f"expected a JSON object, got {type(payload).__name__}")
    if where.count(".") > MAX_NESTING:
        raise EventParseError(where[:80] + "...", f"envelopes nested more than {MAX_NESTING} deep")
    if payload.get("Event") == "s3:TestEvent":
        return
    _refuse_batch_operations(payload, where)
    source = payload.get("eventSource") or payload.get("EventSource")
    if source == "aws:sqs":
        body = _require(payload, "body", str, where)
        yield from _parse_any(_json(body, f"{where}.body"), f"{where}.body", "sqs", message_id, isolate)
    elif source == "aws:sns":
        sns = _require(payload, "Sns", Mapping, where)
        message = _require(sns, "Message", str, f"{where}.Sns")
        yield from _parse_any(
            _json(message, f"{where}.Sns.Message"), f"{where}.Sns.Message", "sns", message_id, isolate
        )
    elif payload.get("Type") == "Notification" and "Message" in payload:  # SNS envelope in SQS
        message = _require(payload, "Message", str, where)
        yield from _parse_any(
            _json(message, f"{where}.Message"),
            f"{where}.Message",
            "sns" if route == "s3" else route,
            message_id,
            isolate,
        )
    elif "Records" in payload:
        records = _require(payload, "Records", list, where)
        for i, record in enumerate(records):
            if not isolate:
                yield from _parse_any(record, f"{where}.Records[{i}]", route, message_id)
                continue
            try:
                yield from list(_parse_any(record, f"{where}.Records[{i}]", route, message_id, True))
            except EventParseError as exc:
                yield exc
    elif source == "aws:s3" or "s3" in payload:
        yield _parse_s3_record(payload, where, route, message_id)
    elif payload.get("source") == "aws.s3" and "detail" in payload:
        yield _parse_eventbridge(payload, where, "eventbridge" if route == "s3" else route, message_id)
    else:
        keys = ", ".join(sorted(map(str, payload)))[:120]
        raise EventParseError(
            where,
            "not an S3 event: expected 'Records', an SQS or SNS envelope, an EventBridge "
            f"'aws.s3' event or an s3:TestEvent; found keys [{keys}]",
        )


def _parse_s3_record(
    record: Mapping[str, Any], where: str, route: str, message_id: str | None
) -> S3ObjectEvent:
    if type(record) is dict:
        plain = _read_plain(record, route, message_id)  # the common case, without field paths
        if plain is not None:
            return plain
    s3 = _require(record, "s3", Mapping, where)
    bucket = _require(s3, "bucket", Mapping, f"{where}.s3")
    obj = _require(s3, "object", Mapping, f"{where}.s3")
    raw_key = _require(obj, "key", str, f"{where}.s3.object")
    return S3ObjectEvent(
        bucket=_require(bucket, "name", str, f"{where}.s3.bucket"),
        key=decode_key(raw_key),
        size=_optional_int(obj, "size", f"{where}.s3.object"),
        etag=_optional_str(obj, "eTag", f"{where}.s3.object"),
        event_name=_require(record, "eventName", str, where),
        event_time=_time(_require(record, "eventTime", str, where), f"{where}.eventTime"),
        sequencer=_optional_str(obj, "sequencer", f"{where}.s3.object"),
        version_id=_version(_optional_str(obj, "versionId", f"{where}.s3.object")),
        raw_key=raw_key,
        route=route,
        message_id=message_id,
        region=record.get("awsRegion") if isinstance(record.get("awsRegion"), str) else None,
    )


def _parse_eventbridge(
    event: Mapping[str, Any], where: str, route: str, message_id: str | None
) -> S3ObjectEvent:
    detail = _require(event, "detail", Mapping, where)
    bucket = _require(detail, "bucket", Mapping, f"{where}.detail")
    obj = _require(detail, "object", Mapping, f"{where}.detail")
    key = _require(obj, "key", str, f"{where}.detail.object")
    detail_type = _require(event, "detail-type", str, where)
    return S3ObjectEvent(
        bucket=_require(bucket, "name", str, f"{where}.detail.bucket"),
        key=key,
        size=_optional_int(obj, "size", f"{where}.detail.object"),
        etag=_optional_str(obj, "etag", f"{where}.detail.object")
        or _optional_str(obj, "eTag", f"{where}.detail.object"),
        event_name=_eventbridge_event_name(detail_type, detail),
        event_time=_time(event.get("time"), f"{where}.time"),
        sequencer=_optional_str(obj, "sequencer", f"{where}.detail.object"),
        version_id=_version(_optional_str(obj, "version-id", f"{where}.detail.object")),
        raw_key=key,
        route=route,
        message_id=message_id,
        region=event.get("region") if isinstance(event.get("region"), str) else None,
    )


def _eventbridge_event_name(detail_type: str, detail: Mapping[str, Any]) -> str:
    """The S3 event name for an EventBridge detail-type (``EVENTBRIDGE_DETAIL_TYPES``)."""
    reason = str(detail.get("reason", ""))
    if detail_type == "Object Created":
        return _CREATED_REASONS.get(reason, "ObjectCreated:*")
    if detail_type == "Object Deleted":
        lifecycle = reason == "Lifecycle Expiration"
        marker = detail.get("deletion-type") == "Delete Marker Created"
        return _DELETED[(lifecycle, marker)]
    return EVENTBRIDGE_DETAIL_TYPES.get(detail_type, detail_type.replace(" ", ""))


def compare_sequencers(a: str, b: str) -> int:
    """Order two events *of the same key*: -1 if ``a`` came first, 1 if ``b`` did, 0 if equal.

    As the current S3 User Guide says ("Event message structure", ``sequencer``, read
    2026-11-27): right-pad the shorter hexadecimal string with zeros, then compare the strings
    lexicographically (older editions said left-pad; AWS's Go, .NET and Rust event libraries
    say right). Sequencers of different keys are not comparable.
    """
    width = max(len(a), len(b))
    left, right = a.upper().ljust(width, "0"), b.upper().ljust(width, "0")
    return (left > right) - (left < right)


def latest_per_key(events: list[S3ObjectEvent]) -> dict[tuple[str, str], S3ObjectEvent]:
    """The last event of each (bucket, key) by sequencer; events without one keep arrival order."""
    latest: dict[tuple[str, str], S3ObjectEvent] = {}
    for event in events:
        slot = (event.bucket, event.key)
        current = latest.get(slot)
        if (
            current is None
            or current.sequencer is None
            or event.sequencer is None
            or compare_sequencers(event.sequencer, current.sequencer) >= 0
        ):
            latest[slot] = event
    return latest


# -- small validators that name the field ------------------------------------------------------
def _require(mapping: Mapping[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    if name not in mapping:
        raise EventParseError(where, f"missing field '{name}'")
    value = mapping[name]
    if not isinstance(value, kind):
        expected = getattr(kind, "__name__", "the right type")
        raise EventParseError(
            f"{where}.{name}", f"expected {expected}, got {type(value).__name__} {value!r:.60}"
        )
    return value


def _optional_str(mapping: Mapping[str, Any], name: str, where: str) -> str | None:
    value = mapping.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise EventParseError(f"{where}.{name}", f"expected a string, got {type(value).__name__}")
    return value


def _optional_int(mapping: Mapping[str, Any], name: str, where: str) -> int | None:
    value = mapping.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise EventParseError(f"{where}.{name}", f"expected an integer, got {type(value).__name__}")
    try:
        number = int(value)
    except ValueError:
        raise EventParseError(f"{where}.{name}", f"expected an integer, got {value!r:.40}") from None
    if number < 0:
        raise EventParseError(f"{where}.{name}", f"expected a size >= 0, got {number}")
    return number


def _version(value: str | None) -> str | None:
    """S3 writes the version of an unversioned object as the string "null": no version at all."""
    return None if value == "null" else value


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventParseError(where, f"not valid JSON ({exc.msg} at position {exc.pos})") from None


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise EventParseError(where, f"expected an ISO-8601 time, got {value!r:.40}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise EventParseError(where, f"expected an ISO-8601 time, got {value!r:.40}") from None
