"""S3 event notifications archived as JSON lines: one delivered message per line, in any shape
``event_handlers.parse_s3_event`` reads (direct, inside SQS or SNS, EventBridge). The S3 User Guide
("Event message structure", read 2026-12-07) documents the records; notifications are
at least once and unordered, so duplicates are counted and dropped, and disorder is counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from bench.traffic.model import Access, Checks, Op, TrafficError
from bench.traffic.textio import open_text
from event_handlers.events import EventParseError, parse_s3_event


def looks_like(text: str) -> bool:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return first.startswith("{") and ('"aws:s3"' in first or '\\"aws:s3\\"' in first or '"aws.s3"' in first)


def _op(event_name: str) -> Op | None:
    if event_name.startswith("ObjectCreated:"):
        return Op.CREATE
    if event_name.startswith(("ObjectRemoved:", "LifecycleExpiration:")):
        return Op.DELETE
    return None


def read_notifications(path: Path, checks: Checks) -> Iterator[Access]:
    notes = checks.notes
    checks.start_file(path, ordered=False)
    seen: set[tuple[str, str, str]] = set()
    with open_text(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            notes.records += 1
            try:
                events = parse_s3_event(json.loads(line))
            except json.JSONDecodeError as exc:
                raise TrafficError(path, number, f"not JSON: {exc.msg} at column {exc.colno}") from None
            except EventParseError as exc:
                raise TrafficError(path, number, f"not an S3 event notification: {exc}") from None
            if not events:
                notes.skip("s3:TestEvent (no records)")
            for event in events:
                op = _op(event.event_name)
                if op is None:
                    notes.skip(f"event {event.event_name}")
                    continue
                stamp = event.sequencer or event.etag or event.event_time.isoformat()
                identity = (event.bucket, event.key, stamp)
                if identity in seen:
                    notes.skip("duplicate delivery (notifications are at least once)")
                    continue
                seen.add(identity)
                t = event.event_time.timestamp()
                access = Access(t, op, event.key, event.size, event.bucket, event.region)
                yield checks.check(access, path, number)
